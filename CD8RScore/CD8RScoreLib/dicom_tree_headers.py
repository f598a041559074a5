"""The headers of every file of a DICOM folder tree, for ``cd8rscore index``: read in one worker process per core.

Only a file's first bytes are read, up to the last element the index uses (never the pixel data): by the quick
scan of dicom_header_scan where it can, else by pydicom (a SEG, an RTSTRUCT, and any file the scan does not read).
A file that is not DICOM, or cannot be read, gives a Header with the reason instead of an exception.
"""
from __future__ import annotations

import io
import os
import sys
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Sequence

CT_IMAGE_STORAGE = "1.2.840.10008.5.1.4.1.1.2"
SEGMENTATION_STORAGE = "1.2.840.10008.5.1.4.1.1.66.4"
RT_STRUCTURE_SET_STORAGE = "1.2.840.10008.5.1.4.1.1.481.3"
XRAY_RADIATION_DOSE_SR = "1.2.840.10008.5.1.4.1.1.88.67"
MEDIA_STORAGE_DIRECTORY = "1.2.840.10008.1.3.10"  # the SOP class of a DICOMDIR
SEGMENTATIONS = {SEGMENTATION_STORAGE: "SEG", RT_STRUCTURE_SET_STORAGE: "RTSTRUCT"}

# The header elements read, as keywords; every other element is skipped unparsed.
HEADER_KEYWORDS = (
    "SpecificCharacterSet", "ImageType", "SOPClassUID", "SOPInstanceUID", "StudyDate", "SeriesDate", "ContentDate",
    "StudyTime", "SeriesTime", "ContentTime", "Modality", "SeriesDescription", "ReferencedSeriesSequence",
    "StudiesContainingOtherReferencedInstancesSequence", "PatientID", "KVP", "StudyInstanceUID",
    "SeriesInstanceUID", "SeriesNumber", "InstanceNumber", "ImagePositionPatient", "ImageOrientationPatient",
    "StructureSetDate", "StructureSetTime", "ReferencedFrameOfReferenceSequence",
)
# Reading stops at the first element past these (tags are in ascending order in a file): past Image Orientation
# (0020,0037) for every file, past Referenced Frame of Reference Sequence (3006,0010) for an RTSTRUCT.
LAST_TAG = 0x00200037
LAST_TAG_RTSTRUCT = 0x30060010
HEADER_BYTES = 65536  # read at once; a header that does not fit is read again from the file
CHUNK_FILES = 256  # files per task sent to a worker
WORKER_MODULES = (__name__, "pydicom", "CD8RScoreLib.dicom_header_scan", "CD8RScoreLib.dicom_seg_input")


@dataclass
class Header:
    """What the index needs of one file's header; ``error`` says why a file could not be read as DICOM."""

    path: str
    error: "str | None" = None
    dicomdir: bool = False
    sop_class: str = ""
    sop_instance: str = ""
    modality: str = ""
    patient_id: str = ""
    study_uid: str = ""
    study_date: str = ""
    study_time: str = ""
    series_uid: str = ""
    series_number: "int | None" = None
    series_description: str = ""
    image_type: tuple = ()
    kvp: str = ""
    has_position: bool = False
    content_datetime: str = ""  # when a segmentation was made (Content, Structure Set or Series date and time)
    referenced_series: tuple = ()


def _text(ds, keyword: str) -> str:
    value = ds.get(keyword)
    return "" if value is None else str(value).strip()


@lru_cache(maxsize=None)
def _tags() -> dict[str, int]:
    from pydicom.datadict import tag_for_keyword

    return {keyword: tag_for_keyword(keyword) for keyword in HEADER_KEYWORDS}


@lru_cache(maxsize=None)
def _scanned_tags() -> frozenset:
    """The elements read by the quick scan: those of HEADER_KEYWORDS but the sequences (a SEG's and an RTSTRUCT's
    references, which pydicom reads)."""
    return frozenset(tag for keyword, tag in _tags().items() if not keyword.endswith("Sequence"))


def read_header(path: str, scan: bool = True) -> Header:
    """The header of one file, read up to the last element the index uses; never raises for a bad file.

    Read by the quick scan of dicom_header_scan when it can (``scan``), else by pydicom: a SEG, an RTSTRUCT, and
    any file the scan does not read."""
    from .dicom_header_scan import scan_header

    try:
        with open(path, "rb") as handle:
            start = handle.read(HEADER_BYTES)
    except OSError as exc:
        return Header(path, error=f"unreadable file ({exc.strerror or exc})")
    if len(start) < 132 or start[128:132] != b"DICM":
        return Header(path, error="not a DICOM file (no DICM marker after the 128-byte preamble)")
    scanned = scan_header(start, _scanned_tags(), LAST_TAG, len(start) < HEADER_BYTES) if scan else None
    if scanned is not None:
        meta_class, found = scanned
        if meta_class == MEDIA_STORAGE_DIRECTORY:
            return Header(path, dicomdir=True)
        if _uid_of(found, "SOPClassUID") not in SEGMENTATIONS:
            return _header_from_scan(path, found)
    return _header_from_pydicom(path, start)


def _uid_of(found: dict, keyword: str) -> str:
    from .dicom_header_scan import uid

    return uid(found.get(_tags()[keyword], b""))


def _header_from_scan(path: str, found: dict) -> Header:
    from .dicom_header_scan import encodings_of, text

    encodings = encodings_of(found)

    def value(keyword: str) -> str:
        return text(found.get(_tags()[keyword]), encodings)

    number = value("SeriesNumber")
    try:
        series_number = int(float(number)) if number else None
    except ValueError:
        series_number = None
    image_type = value("ImageType")
    return Header(
        path, sop_class=_uid_of(found, "SOPClassUID"), sop_instance=_uid_of(found, "SOPInstanceUID"),
        modality=value("Modality"), patient_id=value("PatientID"), study_uid=_uid_of(found, "StudyInstanceUID"),
        study_date=value("StudyDate"), study_time=value("StudyTime"), series_uid=_uid_of(found, "SeriesInstanceUID"),
        series_number=series_number, series_description=value("SeriesDescription"),
        image_type=tuple(v.strip().upper() for v in image_type.split("\\")) if image_type else (),
        kvp=value("KVP"), has_position=all(_tags()[k] in found for k in ("ImagePositionPatient",
                                                                          "ImageOrientationPatient")))


def _header_from_pydicom(path: str, start: bytes) -> Header:
    """The header read by pydicom (``start``: the file's first bytes, parsed in memory when they hold it)."""
    import pydicom
    from pydicom.filereader import read_partial

    from .dicom_seg_input import _rtstruct_referenced_series, _seg_referenced_series

    tags = list(_tags().values())

    def parse(source, last: int):
        return read_partial(source, stop_when=lambda tag, vr, length: int(tag) > last, specific_tags=tags)

    try:
        try:
            ds = parse(io.BytesIO(start), LAST_TAG)  # the common case: a header of a few kB, parsed in memory
            complete = "SOPClassUID" in ds or len(start) < HEADER_BYTES
        except Exception:  # noqa: BLE001 - a header longer than the bytes read: read again from the file
            complete = False
        if not complete and str(pydicom.filereader.read_file_meta_info(path).get(
                "MediaStorageSOPClassUID", "")) == MEDIA_STORAGE_DIRECTORY:
            return Header(path, dicomdir=True)  # a long DICOMDIR: its records are not parsed
        sop_class = str(ds.get("SOPClassUID", "")) if complete else ""
        if not complete or sop_class == RT_STRUCTURE_SET_STORAGE:
            with open(path, "rb") as handle:
                ds = parse(handle, LAST_TAG_RTSTRUCT)
            sop_class = str(ds.get("SOPClassUID", ""))
        if str(ds.file_meta.get("MediaStorageSOPClassUID", "")) == MEDIA_STORAGE_DIRECTORY:
            return Header(path, dicomdir=True)
        header = Header(
            path, sop_class=sop_class, sop_instance=_text(ds, "SOPInstanceUID"), modality=_text(ds, "Modality"),
            patient_id=_text(ds, "PatientID"), study_uid=_text(ds, "StudyInstanceUID"),
            study_date=_text(ds, "StudyDate"), study_time=_text(ds, "StudyTime"),
            series_uid=_text(ds, "SeriesInstanceUID"), series_description=_text(ds, "SeriesDescription"),
            image_type=tuple(str(v).strip().upper() for v in (ds.get("ImageType") or [])), kvp=_text(ds, "KVP"),
            has_position="ImagePositionPatient" in ds and "ImageOrientationPatient" in ds)
        number = ds.get("SeriesNumber")
        header.series_number = int(number) if number not in (None, "") else None
        if sop_class in SEGMENTATIONS:
            if sop_class == SEGMENTATION_STORAGE:
                header.referenced_series = tuple(sorted(_seg_referenced_series(ds)))
                stamps = ("ContentDate", "ContentTime")
            else:
                header.referenced_series = tuple(sorted(_rtstruct_referenced_series(ds)))
                stamps = ("StructureSetDate", "StructureSetTime")
            date, clock = _text(ds, stamps[0]), _text(ds, stamps[1])
            if not date:
                date, clock = _text(ds, "SeriesDate"), _text(ds, "SeriesTime")
            header.content_datetime = f"{date} {clock}".strip()
        return header
    except pydicom.errors.InvalidDicomError as exc:
        return Header(path, error=f"unreadable DICOM header ({exc})")
    except Exception as exc:  # noqa: BLE001 - a damaged file is listed with its reason, the index goes on
        return Header(path, error=f"unreadable DICOM header ({type(exc).__name__}: {exc})")


def read_headers(paths: Sequence[str]) -> list[Header]:
    """The headers of ``paths``, in order (one task of a worker process)."""
    return [read_header(path) for path in paths]


def list_files(root: Path) -> list[str]:
    """Every file under ``root`` (symbolic links to folders are not followed), sorted."""
    files = []
    for folder, folders, names in os.walk(root):
        folders.sort()
        files += [os.path.join(folder, name) for name in names]
    return sorted(files)


def read_all_headers(files: Sequence[str], show_progress: "bool | None" = None) -> list[Header]:
    """The headers of ``files``, read in one worker process per core, with a progress bar on stderr.

    ``show_progress``: True/False forces the bar on/off; None shows it when stderr is a terminal. Ctrl-C cancels
    the tasks not started and raises KeyboardInterrupt here (the workers ignore it).
    """
    from concurrent.futures import as_completed

    from tqdm import tqdm

    from .worker_processes import worker_pool

    chunks = [list(files[i:i + CHUNK_FILES]) for i in range(0, len(files), CHUNK_FILES)]
    results: list = [None] * len(chunks)
    with tqdm(total=len(files), unit="file", desc="index", file=sys.stderr, dynamic_ncols=True,
              disable=None if show_progress is None else not show_progress) as bar:
        with worker_pool(WORKER_MODULES) as pool:
            if pool is None:
                for number, chunk in enumerate(chunks):
                    results[number] = read_headers(chunk)
                    bar.update(len(chunk))
            else:
                futures = {pool.submit(read_headers, chunk): number for number, chunk in enumerate(chunks)}
                for future in as_completed(futures):
                    results[futures[future]] = future.result()
                    bar.update(len(results[futures[future]]))
    return [header for chunk in results for header in chunk]
