"""A quick scan of the first elements of a DICOM file's data set: the raw values of a few top-level elements.

Written by hand because pydicom, which reads everything else in the project, builds a Python object for each element
it passes: on a GE scanner's CT header (191 elements before the image pixel module) it takes 2.3 ms of CPU a file,
so a PACS export of 100,000 files would take two minutes of both cores; this scan, which only steps over the
elements by their lengths up to the last tag asked for and keeps the values asked for, takes 0.32 ms (both by turns
on the same 2,000 files, benchmarks/bench_index.py's tree, development machine). It reads the encodings nearly every
CT is stored in (explicit or implicit VR little endian, whatever the pixel data's compression) and gives up,
returning None, on anything else: big endian, a deflated data set, a value cut off by the end of the bytes given, a
malformed length, bytes where a VR should be. The caller then reads the file with pydicom. Text values are decoded
by pydicom's character-set machinery (Specific Character Set, 0008,0005).
"""
from __future__ import annotations

import struct

IMPLICIT_VR_LITTLE_ENDIAN = "1.2.840.10008.1.2"
NOT_SCANNED = {"1.2.840.10008.1.2.2", "1.2.840.10008.1.2.1.99"}  # big endian, deflated
VRS = frozenset(vr.encode() for vr in (
    "AE", "AS", "AT", "CS", "DA", "DS", "DT", "FD", "FL", "IS", "LO", "LT", "OB", "OD", "OF", "OL", "OV", "OW", "PN",
    "SH", "SL", "SQ", "SS", "ST", "SV", "TM", "UC", "UI", "UL", "UN", "UR", "US", "UT", "UV"))
LONG_LENGTH_VRS = {b"OB", b"OD", b"OF", b"OL", b"OV", b"OW", b"SQ", b"SV", b"UC", b"UN", b"UR", b"UT", b"UV"}
UNDEFINED_LENGTH = 0xFFFFFFFF
ITEM, ITEM_END, SEQUENCE_END = 0xFFFEE000, 0xFFFEE00D, 0xFFFEE0DD
TRANSFER_SYNTAX_UID = 0x00020010
MEDIA_STORAGE_SOP_CLASS_UID = 0x00020002
SPECIFIC_CHARACTER_SET = 0x00080005
PREAMBLE_AND_MARKER = 132

_TAG = struct.Struct("<HH")
_EXPLICIT = struct.Struct("<HH2sH")  # group, element, VR, short length
_IMPLICIT = struct.Struct("<HH0sI")  # group, element, no VR (an empty string), length
_SHORT = struct.Struct("<H")
_LONG = struct.Struct("<I")


class _Stop(Exception):
    """The bytes end, or hold something this scan does not read: read the file with pydicom instead."""


def _element(data: bytes, pos: int, explicit: bool) -> tuple[int, int, int]:
    """(tag, start of the value, value length) of the element at ``pos``."""
    if pos + 8 > len(data):
        raise _Stop
    group, number = _TAG.unpack_from(data, pos)
    tag = group << 16 | number
    if group == 0xFFFE:  # item and delimiters: always implicit
        return tag, pos + 8, _LONG.unpack_from(data, pos + 4)[0]
    if not explicit:
        return tag, pos + 8, _LONG.unpack_from(data, pos + 4)[0]
    vr = data[pos + 4:pos + 6]
    if vr not in VRS:
        raise _Stop  # not a VR: a file whose encoding is not the one its transfer syntax says (pydicom copes)
    if vr in LONG_LENGTH_VRS:
        if pos + 12 > len(data):
            raise _Stop
        return tag, pos + 12, _LONG.unpack_from(data, pos + 8)[0]
    return tag, pos + 8, _SHORT.unpack_from(data, pos + 6)[0]


def _skip_undefined(data: bytes, pos: int, explicit: bool, end_tag: int) -> int:
    """The position after the delimiter ``end_tag`` that closes an undefined-length sequence or item at ``pos``."""
    while True:
        tag, start, length = _element(data, pos, explicit)
        if tag == end_tag:
            return start
        if length == UNDEFINED_LENGTH:  # a nested sequence, or an item of undefined length
            pos = _skip_undefined(data, start, explicit, ITEM_END if tag == ITEM else SEQUENCE_END)
        else:
            pos = start + length


def scan_header(data: bytes, tags: "set[int]", last_tag: int, whole_file: bool
                ) -> "tuple[str, dict[int, bytes]] | None":
    """(Media Storage SOP Class UID, {tag: raw value}) of the top-level ``tags`` found in a Part 10 file's first
    bytes ``data`` (``whole_file``: all of them), reading up to ``last_tag``; None when the data set must be read
    by pydicom (see above)."""
    try:
        if data[128:PREAMBLE_AND_MARKER] != b"DICM":
            return None
        pos, meta = PREAMBLE_AND_MARKER, {}
        while pos + 8 <= len(data) and _SHORT.unpack_from(data, pos)[0] == 0x0002:  # file meta: explicit VR LE
            tag, start, length = _element(data, pos, True)
            if length == UNDEFINED_LENGTH:
                return None
            meta[tag] = data[start:start + length]
            pos = start + length
        syntax = uid(meta.get(TRANSFER_SYNTAX_UID, b""))
        if not syntax or syntax in NOT_SCANNED:
            return None
        explicit = syntax != IMPLICIT_VR_LITTLE_ENDIAN
        found: dict[int, bytes] = {}
        end = len(data)
        # the loop of _element, written out: it runs some 200 times a file
        head = _EXPLICIT if explicit else _IMPLICIT
        while pos < end:
            group, number, vr, length = head.unpack_from(data, pos)
            tag = group << 16 | number
            if tag > last_tag:
                break
            start = pos + 8
            if explicit:
                if vr in LONG_LENGTH_VRS:
                    length = _LONG.unpack_from(data, pos + 8)[0]
                    start = pos + 12
                elif vr not in VRS:
                    return None  # not a VR: a file whose encoding is not the one its transfer syntax says
            if length == UNDEFINED_LENGTH:
                if tag in tags:
                    return None  # a sequence asked for: pydicom reads it
                pos = _skip_undefined(data, start, explicit, SEQUENCE_END)
                continue
            pos = start + length
            if pos > end:
                return None
            if tag in tags:
                found[tag] = data[start:pos]
        else:
            if not whole_file:
                return None  # the bytes ended before last_tag: the header may go on
        return uid(meta.get(MEDIA_STORAGE_SOP_CLASS_UID, b"")), found
    except (_Stop, struct.error):
        return None


def uid(raw: bytes) -> str:
    """A UI value: ASCII, padded with a NUL."""
    return raw.rstrip(b"\x00 ").decode("ascii", "replace")


def text(raw: "bytes | None", encodings: "list[str]") -> str:
    """A text value (one or several, backslash-separated) decoded in the data set's character set, stripped."""
    if not raw:
        return ""
    if raw.isascii():
        return raw.decode("ascii").strip(" \x00")
    from pydicom.charset import decode_bytes

    return decode_bytes(raw, encodings, set()).strip(" \x00")


def encodings_of(found: "dict[int, bytes]") -> "list[str]":
    """The Python encodings of the Specific Character Set found (pydicom's default when there is none)."""
    from pydicom.charset import convert_encodings, default_encoding

    raw = found.get(SPECIFIC_CHARACTER_SET, b"").decode("ascii", "replace").strip(" \x00")
    return convert_encodings([term.strip() for term in raw.split("\\")]) if raw else [default_encoding]
