"""Reading the CT, its acquisition facts (kVp, slice thickness, kernel, modality) and the lesion segmentation.

The CT: NRRD / NIfTI / MHA file, or DICOM (a folder, one file of the series, or a series list of its files:
dicom_series_list) chosen and checked from its headers by dicom_series. The segmentation: an integer label map (one
value per lesion), a Slicer ``.seg.nrrd`` (one segment per lesion; segments may share a layer or overlap in layers),
or a DICOM SEG or RTSTRUCT of the CT series (read by dicom_seg_input).
"""
from __future__ import annotations

import locale
import re
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np
import SimpleITK as sitk

from .errors import InputError
from .input_checks import check_ct_values, check_label_values
from .patient_axes import slice_spacing_mm
from .segment_mask import SegmentMask  # noqa: F401  (the readers' result type, also imported from here)

if TYPE_CHECKING:
    from .dicom_series import CtSeries

# Geometry agreement between CT and segmentation: fraction of a voxel (origin) and relative (spacing/direction).
GEOMETRY_TOLERANCE = 1e-3



@dataclass
class AcquisitionInfo:
    """What is known of the acquisition; None where unknown."""

    modality: "str | None" = None
    kvp: "float | None" = None
    slice_thickness_mm: "float | None" = None
    kernel: "str | None" = None
    patient_id: "str | None" = None
    value_warnings: list = field(default_factory=list)  # from input_checks.check_ct_values (and the DICOM series')
    series: "CtSeries | None" = None  # the DICOM images read (dicom_series), None for an NRRD/NIfTI/MHA file


@contextmanager
def keep_locale():
    """Restore the process locale after GDCM (DICOM I/O), which sets LC_ALL to "C" and so would turn Python's
    default text encoding into ASCII for the rest of the process."""
    saved = locale.setlocale(locale.LC_ALL)
    try:
        yield
    finally:
        locale.setlocale(locale.LC_ALL, saved)


def read_image(path: "str | Path") -> tuple[sitk.Image, AcquisitionInfo]:
    """Read a CT (file, DICOM series folder, one DICOM file of the series or a series list) in HU with what is known
    of its acquisition.

    The voxels keep their stored type (int16 for most CTs): a float32 copy of a whole CT would cost 400 MB and a
    second of a 512 x 512 x 400 scan, and each lesion's crop is cast to float32 when it is resampled.
    """
    from .dicom_series import is_dicom_file
    from .dicom_series_list import is_series_list

    path = Path(path)
    if not path.exists():
        raise InputError("image not found; give an NRRD/NIfTI/MHA file, a DICOM series folder or a .txt list of "
                         "the series' files", path, "--image")
    info = AcquisitionInfo()
    if path.is_dir() or is_dicom_file(path) or is_series_list(path):
        return _read_dicom_series(path, info)
    try:
        image = sitk.ReadImage(str(path))
    except RuntimeError as exc:
        raise InputError(f"cannot read the image: {_first_line(exc)}", path, "--image") from None
    return _checked_ct(image, info, path)


@contextmanager
def native_stderr_captured():
    """Keep what compiled code (GDCM's codecs, ITK) prints on the process's stderr off the terminal: it goes to a
    temporary file whose text is handed back (``captured[0]``) for an error message. ITK's warnings are off too."""
    import os
    import sys
    import tempfile

    captured = [""]
    warnings_shown = sitk.ProcessObject.GetGlobalWarningDisplay()
    sitk.ProcessObject.SetGlobalWarningDisplay(False)
    try:
        if sys.stderr is not None:
            sys.stderr.flush()
        saved_fd = os.dup(2)
    except (OSError, ValueError):  # no stderr file descriptor (a GUI process): nothing reaches a terminal anyway
        saved_fd = None
    try:
        if saved_fd is None:
            yield captured
            return
        with tempfile.TemporaryFile(mode="w+b") as sink:
            os.dup2(sink.fileno(), 2)
            try:
                yield captured
            finally:
                os.dup2(saved_fd, 2)
                os.close(saved_fd)
                sink.seek(0)
                captured[0] = sink.read().decode("utf-8", "replace")
    finally:
        sitk.ProcessObject.SetGlobalWarningDisplay(warnings_shown)


def _read_dicom_series(path: Path, info: AcquisitionInfo) -> tuple[sitk.Image, AcquisitionInfo]:
    """The image series of a DICOM folder (dicom_series.find_ct_series: chosen and its geometry checked from the
    headers), with kVp (0018,0060), modality, slice thickness, kernel and patient id decoded with the series'
    character set, lossy compression and left-out localizers as warnings."""
    from .dicom_series import find_ct_series

    series = find_ct_series(path)
    image = _multiframe_image(series, path) if series.multiframe else _series_image(series, path)
    info.modality = series.text("Modality")
    info.kernel = series.text("ConvolutionKernel")
    info.patient_id = series.text("PatientID")
    info.kvp = _to_float(series.text("KVP"))
    info.slice_thickness_mm = _to_float(series.text("SliceThickness"))
    info.series = series
    image, info = _checked_ct(image, info, path)
    info.value_warnings = series.warnings + info.value_warnings
    for key, keyword in (("0020|000e", "SeriesInstanceUID"), ("0020|0052", "FrameOfReferenceUID")):
        if series.text(keyword):  # what a DICOM SEG/RTSTRUCT references
            image.SetMetaData(key, series.text(keyword))
    return image, info


def at_storage_precision(image: sitk.Image) -> sitk.Image:
    """``image`` with each spacing (mm) that is exactly a float32 number read as the shortest decimal float32 keeps
    that way: NIfTI stores spacings in float32 (0.8 mm becomes 0.800000011920929 mm), and a CT saved as NIfTI must
    give the lesion table of the same CT in NRRD or DICOM. A spacing that is not a float32 number is left as is."""
    image.SetSpacing(tuple(float(str(np.float32(s))) if float(np.float32(s)) == s else s
                           for s in image.GetSpacing()))
    return image


def _series_image(series: "CtSeries", path: Path) -> sitk.Image:
    """The slices of a single-frame series, in the order dicom_series checked, read by GDCM (SimpleITK) with its
    codecs' messages kept off the terminal; a failure is one line."""
    reader = sitk.ImageSeriesReader()
    reader.SetFileNames([str(f) for f in series.files])
    reader.LoadPrivateTagsOff()
    with keep_locale(), native_stderr_captured() as chatter:
        try:
            return reader.Execute()
        except RuntimeError as exc:
            error = exc
    said = _first_line(error) if str(error).strip() else (chatter[0].strip().splitlines() or ["?"])[-1]
    raise InputError(f"cannot read the DICOM series' pixels: {said}", path, "--image")


def _multiframe_image(series: "CtSeries", path: Path) -> sitk.Image:
    """An Enhanced (multi-frame) CT in HU: its frames as a volume by highdicom (which refuses frames that do not
    form a regular grid, as dicom_series does for slices), then as a SimpleITK image with a right-handed grid."""
    import highdicom as hd

    file = series.files[0]
    try:
        volume = hd.imread(file).get_volume(apply_modality_transform=True, dtype=np.float32)
    except Exception as exc:  # noqa: BLE001 - highdicom says what is wrong with the frames
        raise InputError(f"cannot read the multi-frame CT {file.name} as one volume: "
                         f"{str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__}", path,
                         "--image") from None
    # highdicom: point = affine @ (slice, row, column, 1); SimpleITK: point = origin + D S (column, row, slice)
    matrix = volume.affine[:3, :3][:, ::-1]
    array, origin = volume.array, volume.affine[:3, 3]
    if np.all(np.mod(array, 1) == 0) and array.min() >= -32768 and array.max() <= 32767:
        array = array.astype(np.int16)  # integer HU, as a single-frame series is read
    if np.linalg.det(matrix) < 0:  # slices stacked against row x column: reverse them
        array, origin = array[::-1], origin + matrix[:, 2] * (array.shape[0] - 1)
        matrix = matrix * np.array([1.0, 1.0, -1.0])
    spacing = np.linalg.norm(matrix, axis=0)
    image = sitk.GetImageFromArray(np.ascontiguousarray(array))
    image.SetSpacing([float(v) for v in spacing])
    image.SetOrigin([float(v) for v in origin])
    image.SetDirection([float(v) for v in (matrix / spacing).ravel()])
    return image


def _checked_ct(image: sitk.Image, info: AcquisitionInfo, path: Path) -> tuple[sitk.Image, AcquisitionInfo]:
    if image.GetDimension() != 3 or image.GetNumberOfComponentsPerPixel() != 1:
        raise InputError(f"expected a 3D scalar CT, got {image.GetDimension()}D with "
                         f"{image.GetNumberOfComponentsPerPixel()} component(s)", path, "--image")
    at_storage_precision(image)
    if info.slice_thickness_mm is None:
        info.slice_thickness_mm = slice_spacing_mm(image)  # the head-foot axis, whatever the storage order
    info.value_warnings = check_ct_values(image, info.modality, path)  # on the stored pixel type: no copy
    return image, info


def _to_float(text: "str | None") -> "float | None":
    if text is None:
        return None
    try:
        return float(text.split("\\")[0])
    except ValueError:
        return None


def _first_line(exc: Exception) -> str:
    lines = [line.strip() for line in str(exc).splitlines() if line.strip()]
    return lines[-1] if lines else type(exc).__name__


def check_on_grid(image: sitk.Image, mask: sitk.Image, mask_path: "str | Path") -> None:
    """Refuse a mask that is not on the CT's voxel grid (same spacing and direction, origin on a voxel, inside)."""
    def fail(what: str) -> InputError:
        return InputError(f"geometry mismatch with the image: {what}; export the segmentation with the CT as its "
                          "reference geometry", mask_path, "--segmentation")

    if mask.GetDimension() != 3:
        raise fail(f"{mask.GetDimension()}D segmentation")
    if not np.allclose(mask.GetSpacing(), image.GetSpacing(), rtol=GEOMETRY_TOLERANCE):
        raise fail(f"spacing {tuple(round(s, 4) for s in mask.GetSpacing())} mm vs "
                   f"{tuple(round(s, 4) for s in image.GetSpacing())} mm")
    if not np.allclose(mask.GetDirection(), image.GetDirection(), atol=GEOMETRY_TOLERANCE):
        raise fail("direction cosines differ")
    index = np.array(image.TransformPhysicalPointToContinuousIndex(mask.GetOrigin()))
    if not np.allclose(index, np.round(index), atol=GEOMETRY_TOLERANCE * 100):
        raise fail(f"origin falls between voxels (continuous index {tuple(round(float(i), 3) for i in index)})")
    start = np.round(index).astype(int)
    end = start + np.array(mask.GetSize())
    if (start < 0).any() or (end > np.array(image.GetSize())).any():
        raise fail(f"segmentation extent {tuple(int(i) for i in start)}..{tuple(int(i) for i in end)} is outside "
                   f"the image {image.GetSize()}")


def _label_map_masks(labels: sitk.Image, path: Path) -> list[SegmentMask]:
    """One SegmentMask per label value, each cropped to its bounding box (kept on the label map's grid)."""
    check_label_values(labels, path)
    pixel = labels.GetPixelID()
    if pixel not in (sitk.sitkUInt8, sitk.sitkUInt16, sitk.sitkUInt32):  # unsigned labels are used as they are
        labels = sitk.Cast(labels, sitk.sitkUInt32)
    stats = sitk.LabelShapeStatisticsImageFilter()
    stats.ComputePerimeterOff()  # only the bounding boxes are used
    stats.Execute(labels)
    masks = []
    for value in stats.GetLabels():
        x, y, z, sx, sy, sz = stats.GetBoundingBox(value)
        crop = sitk.RegionOfInterest(labels, [sx, sy, sz], [x, y, z])
        masks.append(SegmentMask(str(value), f"label {value}", sitk.Cast(crop == value, sitk.sitkUInt8)))
    return masks


_SEGMENT_KEY = re.compile(r"^Segment(\d+)_(\w+)$")


def _seg_nrrd_masks(image: sitk.Image, path: Path) -> list[SegmentMask]:
    """Segments of a Slicer .seg.nrrd (shared-layer label values or one layer per component)."""
    segments: dict[int, dict[str, str]] = {}
    for key in image.GetMetaDataKeys():
        match = _SEGMENT_KEY.match(key)
        if match:
            segments.setdefault(int(match.group(1)), {})[match.group(2)] = image.GetMetaData(key)
    if not segments:
        raise InputError("no Segment*_ fields in this .seg.nrrd header; save it from Slicer's Segment Editor",
                         path, "--segmentation")
    n_layers = image.GetNumberOfComponentsPerPixel()
    layers = [sitk.VectorIndexSelectionCast(image, i, sitk.sitkUInt32) for i in range(n_layers)] \
        if n_layers > 1 else [sitk.Cast(image, sitk.sitkUInt32)]
    masks = []
    names_seen: set[str] = set()
    for number in sorted(segments):
        fields = segments[number]
        name = fields.get("Name", f"Segment_{number}")
        if name in names_seen:
            raise InputError(f"two segments are named {name!r}; lesions are matched by name, rename one",
                             path, f"Segment{number}_Name")
        names_seen.add(name)
        try:
            layer = int(fields.get("Layer", "0"))
            value = int(fields.get("LabelValue", "1"))
        except ValueError:
            raise InputError("Layer/LabelValue must be integers", path, f"Segment{number}_LabelValue") from None
        if layer >= len(layers):
            raise InputError(f"layer {layer} does not exist ({len(layers)} layer(s))", path, f"Segment{number}_Layer")
        binary = sitk.Cast(layers[layer] == value, sitk.sitkUInt8)
        tags = dict(item.split(":", 1) for item in fields.get("Tags", "").split("|") if ":" in item)
        stats = sitk.LabelShapeStatisticsImageFilter()
        stats.Execute(binary)
        if 1 not in stats.GetLabels():
            masks.append(SegmentMask(name, name, None, tags))
            continue
        x, y, z, sx, sy, sz = stats.GetBoundingBox(1)
        masks.append(SegmentMask(name, name, sitk.RegionOfInterest(binary, [sx, sy, sz], [x, y, z]), tags))
    return masks


def read_segmentation(path: "str | Path", image: sitk.Image) -> list[SegmentMask]:
    """Lesion masks of a label map, a Slicer .seg.nrrd, a DICOM SEG or an RTSTRUCT, on ``image``'s grid."""
    from .dicom_seg_input import is_dicom_file, read_dicom_segmentation

    path = Path(path)
    if not path.is_file():
        raise InputError("segmentation not found; give a label map, a Slicer .seg.nrrd, a DICOM SEG or an RTSTRUCT",
                         path, "--segmentation")
    if is_dicom_file(path):
        return read_dicom_segmentation(path, image)
    try:
        seg = sitk.ReadImage(str(path))
    except RuntimeError as exc:
        raise InputError(f"cannot read the segmentation: {_first_line(exc)}", path, "--segmentation") from None
    if seg.GetDimension() == 3:
        at_storage_precision(seg)
    is_slicer_seg = path.name.lower().endswith(".seg.nrrd") or any(
        _SEGMENT_KEY.match(k) for k in seg.GetMetaDataKeys())
    if is_slicer_seg:
        grid = seg if seg.GetNumberOfComponentsPerPixel() == 1 else sitk.VectorIndexSelectionCast(seg, 0)
        check_on_grid(image, grid, path)
        masks = _seg_nrrd_masks(seg, path)
    else:
        if seg.GetNumberOfComponentsPerPixel() != 1:
            raise InputError("a label map must have one component per voxel", path, "--segmentation")
        check_on_grid(image, seg, path)
        masks = _label_map_masks(seg, path)
    if not masks:
        raise InputError("no lesion in the segmentation (all voxels are 0)", path, "--segmentation")
    return masks
