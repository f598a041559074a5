"""Choosing and checking the CT series of a DICOM folder from its headers (pydicom), before a pixel is read.

A folder as hospitals send it (a PACS or CD export) holds more than one CT series: a DICOMDIR, thumbnails, a dose
report, SEGs and RTSTRUCTs, localizers. This module finds the one image series to score, decides from the headers
whether its slices form a regular volume (the grid every reader of the folder, SimpleITK included, assumes), and
collects what the lesion rows must say of it: lossy compression, left-out localizer images. Text (patient id,
kernel) is decoded with the series' Specific Character Set (0008,0005).

Geometry rule (docs/dicom.md): a series whose slices do not lie on one regular grid (gantry tilt shearing the
slices, a missing or duplicated slice, uneven spacing, several orientations) is refused naming the CT and the
cause; it is never resampled, because each fix (interpolating across a gap, un-shearing a tilted stack) changes
the voxels that the signature's texture features read, and a label map drawn on the grid a reader made of such a
series (ITK-SNAP, nnU-Net, MONAI stack the slices at one spacing) would silently change volume. A localizer
(ImageType LOCALIZER, or another orientation than the series' slices) is not part of the volume: it is left out
and named on every row. Distances in mm.
"""
from __future__ import annotations

import math
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from .errors import InputError

FIELD = "--image"
DICOMDIR_STORAGE = "1.2.840.10008.1.3.10"
# Single-frame and multi-frame CT image storage (PS3.4 B.5).
CT_IMAGE_STORAGE = "1.2.840.10008.5.1.4.1.1.2"
MULTI_FRAME_IMAGE_STORAGE = {
    "1.2.840.10008.5.1.4.1.1.2.1": "Enhanced CT Image Storage",
    "1.2.840.10008.5.1.4.1.1.2.2": "Legacy Converted Enhanced CT Image Storage",
    "1.2.840.10008.5.1.4.1.1.4.1": "Enhanced MR Image Storage",
    "1.2.840.10008.5.1.4.1.1.130": "Enhanced PET Image Storage",
}
# Modalities of objects that sit beside a CT in an export and are not its images.
NOT_IMAGE_MODALITIES = {"SR", "SEG", "RTSTRUCT", "RTDOSE", "RTPLAN", "RTRECORD", "PR", "KO", "REG", "DOC", "OT"}
# Transfer syntaxes that lose information (PS3.5 A.4): JPEG baseline/extended, JPEG-LS near-lossless, JPEG 2000,
# High-Throughput JPEG 2000 (irreversible), MPEG and HEVC video.
LOSSY_TRANSFER_SYNTAXES = {
    "1.2.840.10008.1.2.4.50": "JPEG Baseline", "1.2.840.10008.1.2.4.51": "JPEG Extended (12-bit)",
    "1.2.840.10008.1.2.4.81": "JPEG-LS near-lossless", "1.2.840.10008.1.2.4.91": "JPEG 2000",
    "1.2.840.10008.1.2.4.203": "HTJ2K", "1.2.840.10008.1.2.4.100": "MPEG2", "1.2.840.10008.1.2.4.102": "MPEG-4",
    "1.2.840.10008.1.2.4.103": "MPEG-4", "1.2.840.10008.1.2.4.104": "MPEG-4", "1.2.840.10008.1.2.4.105": "MPEG-4",
    "1.2.840.10008.1.2.4.106": "MPEG-4", "1.2.840.10008.1.2.4.107": "HEVC", "1.2.840.10008.1.2.4.108": "HEVC",
}
# JPEG 2000 and HTJ2K syntaxes carry reversible or irreversible streams: lossless when (0028,2110) says 00.
MAYBE_LOSSLESS_SYNTAXES = {"1.2.840.10008.1.2.4.91", "1.2.840.10008.1.2.4.203"}
# Two slices closer than this along the slice normal are at the same position (positions are decimal strings).
SAME_POSITION_MM = 0.01
# Slice steps may differ from the series' median step by this fraction (plus SAME_POSITION_MM for rounding).
SPACING_TOLERANCE = 0.01
# Images whose orientation cosines differ by more than this (0.6 deg) are in another orientation.
ORIENTATION_TOLERANCE = 0.01


@dataclass
class CtSeries:
    """The image series chosen in a folder: its files in slice order (ascending along the slice normal), their
    headers, and what every lesion row must say of them."""

    files: list[Path]
    headers: list  # pydicom Datasets without pixel data, in the order of ``files``
    warnings: list[str] = field(default_factory=list)
    lossy: "str | None" = None  # how the images were lossy compressed, None when they were not
    multiframe: bool = False  # one Enhanced (multi-frame) CT file holding every slice as a frame

    @property
    def first(self):
        return self.headers[0]

    def text(self, keyword: str) -> "str | None":
        """A text attribute of the first image (of its shared or first frame's functional groups for a multi-frame
        image), decoded with its Specific Character Set; None when absent."""
        value = self.first.get(keyword)
        if value is None and self.multiframe:
            value = _functional_group_value(self.first, keyword)
        if value is None:
            return None
        value = value[0] if isinstance(value, (list, tuple)) or type(value).__name__ == "MultiValue" else value
        text = str(value).strip()
        return text or None


def _functional_group_value(header, keyword: str):
    """``keyword`` in the shared, else the first frame's, functional groups of a multi-frame image (e.g. KVP in the
    CT X-Ray Details Sequence); None when absent."""
    for groups in (header.get("SharedFunctionalGroupsSequence") or [])[:1] + \
            (header.get("PerFrameFunctionalGroupsSequence") or [])[:1]:
        for element in groups:
            if element.VR == "SQ":
                for item in element.value:
                    if keyword in item:
                        return item.get(keyword)
    return None


def is_dicom_file(path: "str | Path") -> bool:
    """True for a DICOM Part 10 file (the "DICM" marker after the 128-byte preamble)."""
    try:
        with open(path, "rb") as handle:
            handle.seek(128)
            return handle.read(4) == b"DICM"
    except OSError:
        return False


def _headers(folder: Path, files: "list[Path] | None" = None) -> list[tuple[Path, object]]:
    """(path, header) of every DICOM file under ``folder`` (subfolders too: a CD export keeps its images under
    DICOM/...), or of ``files``, the DICOMDIR itself and unreadable files left out."""
    import pydicom

    found = []
    for path in sorted(p for p in folder.rglob("*") if p.is_file()) if files is None else files:
        if not is_dicom_file(path):
            continue
        try:
            header = pydicom.dcmread(path, stop_before_pixels=True)
        except Exception:  # noqa: BLE001 - a damaged file beside the series is not the series
            continue
        if str(header.file_meta.get("MediaStorageSOPClassUID", "")) == DICOMDIR_STORAGE:
            continue
        found.append((path, header))
    return found


def _is_volume_image(header) -> bool:
    """An image with a position in the patient (a slice of a cross-sectional series, or a multi-frame image)."""
    if str(header.get("Modality", "")).upper() in NOT_IMAGE_MODALITIES:
        return False
    if str(header.get("SOPClassUID", "")) in MULTI_FRAME_IMAGE_STORAGE:
        return True
    return "Rows" in header and "ImagePositionPatient" in header and "ImageOrientationPatient" in header


def _series_label(headers: list) -> str:
    first = headers[0]
    number = first.get("SeriesNumber", "")
    description = str(first.get("SeriesDescription", "") or "").strip()
    return f"series {number}" + (f" {description!r}" if description else "") + f" ({len(headers)} image(s))"


def find_ct_series(path: "str | Path") -> CtSeries:
    """The image series to score in ``path``: a folder holding one image series (other objects beside it are
    ignored), one DICOM file of the series to score (the rest of it is read from the same folder), or a series list
    of its files (dicom_series_list)."""
    from .dicom_series_list import is_series_list, read_series_list

    path = Path(path)
    chosen_uid = None
    folder = path
    listed = read_series_list(path) if is_series_list(path) else None
    if listed is None and path.is_file():
        import pydicom
        try:
            chosen_uid = str(pydicom.dcmread(path, stop_before_pixels=True).SeriesInstanceUID)
        except Exception as exc:  # noqa: BLE001 - any unreadable file is bad input
            raise InputError(f"cannot read the DICOM file: {exc}", path, FIELD) from None
        folder = path.parent
    everything = _headers(folder, listed)
    series: dict[str, list[tuple[Path, object]]] = {}
    for file, header in everything:
        if _is_volume_image(header) and "SeriesInstanceUID" in header:
            series.setdefault(str(header.SeriesInstanceUID), []).append((file, header))
    if chosen_uid is not None:
        series = {chosen_uid: series.get(chosen_uid, [])}
        if not series[chosen_uid]:
            raise InputError("this DICOM file is not an image of a CT series (no position in the patient)", path,
                             FIELD)
    if not series:
        kinds = Counter(str(h.get("Modality", "") or "?") for _, h in everything)
        held = ", ".join(f"{n} {kind}" for kind, n in sorted(kinds.items())) or "no DICOM file"
        raise InputError(f"no CT image series in this folder or its subfolders ({held}); give the folder of the CT "
                         "series", path, FIELD)
    if len(series) > 1:
        listed = "; ".join(_series_label([h for _, h in items]) for items in series.values())
        raise InputError(f"{len(series)} image series here ({listed}); give the folder of one series, or one file "
                         "of the series to score", path, FIELD)
    items = next(iter(series.values()))
    multi = [(f, h) for f, h in items if str(h.get("SOPClassUID", "")) in MULTI_FRAME_IMAGE_STORAGE]
    if multi:
        if len(items) > 1:
            names = ", ".join(f.name for f, _ in items[:3]) + (" ..." if len(items) > 3 else "")
            raise InputError(f"the series holds {len(items)} objects of which {len(multi)} multi-frame "
                             f"{MULTI_FRAME_IMAGE_STORAGE[str(multi[0][1].SOPClassUID)]} ({names}): a concatenation "
                             "or several phases; give one multi-frame file as --image", path, FIELD)
        file, header = multi[0]
        lossy = lossy_compression([header])
        return CtSeries([file], [header], lossy_warnings(lossy), lossy, multiframe=True)
    return _checked_series(path, items)


def _orientation(header) -> np.ndarray:
    return np.array([float(v) for v in header.ImageOrientationPatient], dtype=float)


def _is_localizer(header) -> bool:
    image_type = [str(v).upper() for v in (header.get("ImageType") or [])]
    return "LOCALIZER" in image_type


def _checked_series(path: Path, items: list[tuple[Path, object]]) -> CtSeries:
    """The series' slices in order along their normal, or a refusal naming the cause when they do not form one
    regular grid (see the module's geometry rule)."""
    warnings = []
    slices = [(f, h) for f, h in items if not _is_localizer(h)]
    if not slices:
        raise InputError("the series holds only localizer images (ImageType LOCALIZER)", path, FIELD)
    cosines = [_orientation(h) for _, h in slices]
    orientations = Counter(tuple(np.round(c, 2)) for c in cosines)
    main = np.array(orientations.most_common(1)[0][0])
    kept = [item for item, c in zip(slices, cosines) if np.allclose(c, main, atol=ORIENTATION_TOLERANCE)]
    kept_files = {f for f, _ in kept}
    left_out = [f for f, _ in items if f not in kept_files]
    if len(left_out) > len(kept) / 2:
        raise InputError(f"the series mixes orientations ({len(orientations)} of them, {len(left_out)} of "
                         f"{len(items)} images not in the main one); give the folder of one axial series", path,
                         FIELD)
    if left_out:
        names = ", ".join(f.name for f in left_out[:3]) + (" ..." if len(left_out) > 3 else "")
        warnings.append(f"{len(left_out)} localizer image(s) of the CT series left out ({names})")
    row, col = main[:3], main[3:]
    normal = np.cross(row, col)
    positions = np.array([[float(v) for v in h.ImagePositionPatient] for _, h in kept])
    along = positions @ normal
    order = np.argsort(along, kind="stable")
    kept = [kept[i] for i in order]
    positions, along = positions[order], along[order]
    names = [f.name for f, _ in kept]
    if len(kept) > 1:
        steps = np.diff(along)
        same = np.flatnonzero(steps < SAME_POSITION_MM)
        if same.size:
            k = int(same[0])
            raise InputError(f"two images at the same slice position ({along[k]:.2f} mm along the slice normal): "
                             f"{names[k]} and {names[k + 1]} ({same.size} such pair(s)); remove the duplicates or "
                             "give the folder of one acquisition", path, FIELD)
        pixel = min(float(v) for v in kept[0][1].PixelSpacing)
        sideways = (positions - positions[0]) - np.outer(along - along[0], normal)
        shift = np.linalg.norm(sideways, axis=1)
        if shift.max() > pixel / 2:  # slices placed more than half a pixel off the orthogonal stack
            k = int(np.argmax(shift))
            angle = math.degrees(math.atan2(shift[k], along[k] - along[0]))
            tag = kept[0][1].get("GantryDetectorTilt")
            said = f", Gantry/Detector Tilt (0018,1120) {float(tag):g} deg" if tag not in (None, "") else ""
            raise InputError(f"the slices are sheared by {angle:.1f} deg (gantry tilt{said}: slice positions do not "
                             "run along the normal of Image Orientation), so no regular grid holds them; "
                             "resample the series to an untilted volume first (Slicer's DICOM module with "
                             "acquisition geometry regularization, or dcm2niix), and score that volume with a "
                             "label map drawn on it", path, FIELD)
        step = float(np.median(steps))
        off = np.flatnonzero(np.abs(steps - step) > SPACING_TOLERANCE * step + SAME_POSITION_MM)
        if off.size:
            k = int(off[0])
            missing = round(steps[k] / step) - 1
            what = (f"{missing} slice(s) missing" if missing >= 1 and abs(steps[k] - (missing + 1) * step)
                    <= SPACING_TOLERANCE * step + SAME_POSITION_MM else "uneven slice spacing")
            raise InputError(f"{what}: {steps[k]:.3f} mm between {names[k]} and {names[k + 1]} where the series' "
                             f"step is {step:.3f} mm ({off.size} irregular step(s)); give the complete series of "
                             "one reconstruction (its slices are not resampled across a gap)", path, FIELD)
    lossy = lossy_compression([h for _, h in kept])
    return CtSeries([f for f, _ in kept], [h for _, h in kept], warnings + lossy_warnings(lossy), lossy)


def lossy_warnings(lossy: "str | None") -> list[str]:
    """The row warning of a lossy-compressed CT (``lossy``: :func:`lossy_compression`); none when it was not."""
    if not lossy:
        return []
    return [f"lossy-compressed CT ({lossy}): texture features differ from the original images', score the original "
            "(uncompressed or lossless) series"]


def dicom_files_warnings(files: "list[str | Path]") -> list[str]:
    """What the rows of a CT loaded from these DICOM files elsewhere (Slicer's DICOM database) must say of them:
    lossy compression, from each file's transfer syntax and (0028,2110)."""
    import pydicom

    tags = ["LossyImageCompression", "LossyImageCompressionRatio", "LossyImageCompressionMethod"]
    return lossy_warnings(lossy_compression([pydicom.dcmread(f, stop_before_pixels=True, specific_tags=tags)
                                             for f in files]))


def lossy_compression(headers: list) -> "str | None":
    """How the images of these headers were lossy compressed, e.g. "JPEG Extended (12-bit), Lossy Image
    Compression 01, ISO_10918_1, ratio 3.6-4.1" (transfer syntax, (0028,2110), its method and ratio), or None."""
    syntaxes, methods, ratios, flagged = set(), set(), [], False
    for header in headers:
        syntax = str(header.file_meta.get("TransferSyntaxUID", ""))
        said = str(header.get("LossyImageCompression", "")).strip()
        if syntax in LOSSY_TRANSFER_SYNTAXES and not (syntax in MAYBE_LOSSLESS_SYNTAXES and said == "00"):
            syntaxes.add(LOSSY_TRANSFER_SYNTAXES[syntax])
        if said == "01":
            flagged = True
            methods.update(str(v) for v in _values(header.get("LossyImageCompressionMethod")))
            ratios += [float(v) for v in _values(header.get("LossyImageCompressionRatio"))]
    if not (syntaxes or flagged):
        return None
    parts = sorted(syntaxes) + (["Lossy Image Compression 01"] if flagged else []) + sorted(methods)
    if ratios:
        low, high = min(ratios), max(ratios)
        parts.append(f"ratio {low:.2g}" + (f"-{high:.2g}" if high - low > 0.05 else ""))
    return ", ".join(parts)


def _values(value) -> list:
    if value is None or value == "":
        return []
    return list(value) if isinstance(value, (list, tuple)) or type(value).__name__ == "MultiValue" else [value]
