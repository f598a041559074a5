"""Reading a DICOM SEG or RTSTRUCT into lesion masks on the CT's voxel grid (binary uint8, one per lesion).

The type is told by the SOP Class UID. The object must reference the CT series given (Series Instance UID) and
its frame of reference; a SEG whose Frame of Reference UID differs (pydicom-seg mints a new one) is read, with a
warning on its rows, when its frames lie exactly on the CT's voxel grid. What comes out is what
``imageio.read_segmentation`` returns for a label map: one :class:`SegmentMask` per segment or ROI, cropped to its
bounding box on the CT grid, ``mask`` None when empty.

Rules (stated in docs/dicom.md):
- SEG: one segment per lesion; lesion id = segment number, name = segment label, location = the segment's
  anatomic region (SNOMED CT) where given. A FRACTIONAL SEG is thresholded at half its maximum: a voxel belongs
  to the lesion when its stored value >= 0.5 x Maximum Fractional Value, as Slicer's SEG import does and as
  the project's own mask resampling keeps voxels >= 0.5. Frames must lie on the CT's voxel grid (same spacing
  and orientation up to axis order and sign, positions on voxel centres); otherwise the SEG is refused with the
  reason, never resampled, as label maps off the grid are refused: resampling would change the lesion.
- RTSTRUCT: one ROI per lesion; lesion id = ROI number, name = ROI name. Each CLOSED_PLANAR contour must lie in a
  CT slice plane; a voxel is in the ROI when its centre is inside the polygon (point in polygon at voxel centres,
  per slice; contours of one slice combined by the even-odd rule, an inner contour is a hole) or on a contour
  (within GRID_TOLERANCE_VOXELS of an edge). The second half gives back the masks of writers that trace contours
  through the boundary voxels' centres (OpenCV-based ones such as rt-utils), which "inside" alone cuts by about
  half their boundary voxels by floating-point chance; contours drawn between voxel centres (Slicer, the 0.5
  iso-line) are unaffected. Open contours and point ROIs are refused; an ROI without
  contours is kept as an empty lesion.
"""
from __future__ import annotations

from pathlib import Path

import numpy as np
import SimpleITK as sitk

from .dicom_series import is_dicom_file  # noqa: F401  (also imported from here)
from .errors import InputError
from .mask_box import grown_box
from .segment_mask import SegmentMask

SEGMENTATION_STORAGE = "1.2.840.10008.5.1.4.1.1.66.4"
RT_STRUCTURE_SET_STORAGE = "1.2.840.10008.5.1.4.1.1.481.3"
# The CT's DICOM identity, set on the image by imageio when it is read from a DICOM series folder.
CT_SERIES_UID_KEY = "0020|000e"
CT_FRAME_OF_REFERENCE_KEY = "0020|0052"
# A SEG frame or contour is on the CT grid when its voxel-index coordinates are within this of integers
# (positions are written as decimal strings, rounded to ~1e-4 mm or coarser).
GRID_TOLERANCE_VOXELS = 0.01
SEG_FRACTION_THRESHOLD = 0.5
# A SEG naming another Frame of Reference than its CT (pydicom-seg always mints a new one) is read only when it
# references the CT series and its frames lie on the CT's grid; otherwise this is the way out.
OTHER_FRAME_FIX = ("its Frame of Reference UID also differs from the CT's (pydicom-seg writes a new one): export it "
                   "with highdicom or dcmqi's itkimage2segimage from the CT series it was drawn on")
FIELD = "--segmentation"


def read_dicom_segmentation(path: "str | Path", image: sitk.Image) -> list[SegmentMask]:
    """Lesion masks of a DICOM SEG or RTSTRUCT that references the DICOM CT series ``image`` was read from."""
    import pydicom

    path = Path(path)
    try:
        header = pydicom.dcmread(path, stop_before_pixels=True)
    except Exception as exc:  # noqa: BLE001 - any unreadable file is bad input
        raise InputError(f"cannot read the DICOM file: {exc}", path, FIELD) from None
    sop_class = str(header.get("SOPClassUID", ""))
    if sop_class not in (SEGMENTATION_STORAGE, RT_STRUCTURE_SET_STORAGE):
        raise InputError(f"DICOM SOP Class {sop_class or '(none)'} is neither a Segmentation (SEG) nor an RT "
                         "Structure Set (RTSTRUCT); give one of those or a label map", path, FIELD)
    series_uid, frame_uid = _ct_identity(image, path)
    if sop_class == SEGMENTATION_STORAGE:
        frame = str(header.get("FrameOfReferenceUID", ""))
        _check_series(path, series_uid, _seg_referenced_series(header))
        other_frame = bool(frame and frame_uid and frame != frame_uid)
        masks = _seg_masks(path, image, other_frame)
        if other_frame:  # referenced by series UID and exactly on the CT's grid (checked by _seg_masks)
            for mask in masks:
                mask.warnings.append(f"the SEG's Frame of Reference UID differs from the CT's ({frame}): read because "
                                     "it references the CT series and its frames lie on the CT's voxel grid")
    else:
        _check_series(path, series_uid, _rtstruct_referenced_series(header))
        frame = _rtstruct_frame_of_reference(header)
        if frame and frame_uid and frame != frame_uid:
            raise InputError(f"frame of reference {frame} differs from the CT's {frame_uid}", path, FIELD)
        masks = _rtstruct_masks(header, image, path)  # an RTSTRUCT has no pixel data: the header is all of it
    names = [m.segment_name for m in masks]
    duplicated = sorted({n for n in names if names.count(n) > 1})
    if duplicated:
        raise InputError(f"two lesions are named {duplicated[0]!r}; lesions are matched by name, rename one",
                         path, FIELD)
    if not masks:
        raise InputError("no segment or ROI in this DICOM object", path, FIELD)
    return masks


def dicom_lesion_names(path: "str | Path") -> list[tuple[str, str]]:
    """(lesion id, name) of each segment of a DICOM SEG or ROI of an RTSTRUCT, read from its header alone."""
    import pydicom

    header = pydicom.dcmread(path, stop_before_pixels=True)
    if str(header.get("SOPClassUID", "")) == SEGMENTATION_STORAGE:
        return [(str(item.SegmentNumber), str(item.SegmentLabel)) for item in header.get("SegmentSequence", [])]
    return [(str(item.ROINumber), str(item.ROIName)) for item in header.get("StructureSetROISequence", [])]


def _ct_identity(image: sitk.Image, path: Path) -> tuple[str, str]:
    if not image.HasMetaDataKey(CT_SERIES_UID_KEY):
        raise InputError("a DICOM SEG or RTSTRUCT is read on the CT series it references: give that CT as its "
                         "DICOM series folder (--image), not as an NRRD/NIfTI/MHA file", path, FIELD)
    frame = image.GetMetaData(CT_FRAME_OF_REFERENCE_KEY) if image.HasMetaDataKey(CT_FRAME_OF_REFERENCE_KEY) else ""
    return image.GetMetaData(CT_SERIES_UID_KEY).strip(), frame.strip()


def _check_series(path: Path, series_uid: str, referenced: set[str]) -> None:
    if series_uid not in referenced:
        raise InputError(f"it references series {', '.join(sorted(referenced)) or '(none)'}, not the CT series "
                         f"{series_uid}; give the CT series this segmentation was drawn on", path, FIELD)


def _seg_referenced_series(header) -> set[str]:
    series = {str(item.SeriesInstanceUID) for item in header.get("ReferencedSeriesSequence", [])}
    for study in header.get("StudiesContainingOtherReferencedInstancesSequence", []):
        series |= {str(item.SeriesInstanceUID) for item in study.get("ReferencedSeriesSequence", [])}
    return series


def _rtstruct_referenced_series(header) -> set[str]:
    return {str(series.SeriesInstanceUID)
            for frame in header.get("ReferencedFrameOfReferenceSequence", [])
            for study in frame.get("RTReferencedStudySequence", [])
            for series in study.get("RTReferencedSeriesSequence", [])}


def _rtstruct_frame_of_reference(header) -> str:
    frames = {str(f.FrameOfReferenceUID) for f in header.get("ReferencedFrameOfReferenceSequence", [])}
    return frames.pop() if len(frames) == 1 else ""


def _ct_index_transform(image: sitk.Image) -> tuple[np.ndarray, np.ndarray]:
    """(inverse of direction x spacing, origin): continuous index (x, y, z) = inverse @ (point_mm - origin)."""
    matrix = np.array(image.GetDirection()).reshape(3, 3) @ np.diag(image.GetSpacing())
    return np.linalg.inv(matrix), np.array(image.GetOrigin())


def _mask_crop(image: sitk.Image, array_zyx: np.ndarray, start_xyz: np.ndarray) -> "sitk.Image | None":
    """A binary array placed at CT index ``start_xyz``, cropped to its bounding box; None if empty."""
    if not array_zyx.any():
        return None
    box = grown_box(array_zyx)  # z, y, x
    crop = sitk.GetImageFromArray(array_zyx[box].astype(np.uint8))
    corner = [int(start_xyz[0]) + box[2].start, int(start_xyz[1]) + box[1].start, int(start_xyz[2]) + box[0].start]
    crop.SetOrigin(image.TransformIndexToPhysicalPoint(corner))
    crop.SetSpacing(image.GetSpacing())
    crop.SetDirection(image.GetDirection())
    return crop


def _seg_masks(path: Path, image: sitk.Image, other_frame: bool = False) -> list[SegmentMask]:
    """Segments of a DICOM SEG on the CT grid (refused, with the reason, when its frames are not on it).
    ``other_frame``: the SEG names another Frame of Reference than the CT's; the refusal then says so."""
    import highdicom as hd

    from .dicom_codes import site_from_code  # pydicom, as highdicom: loaded only for a DICOM SEG

    try:
        seg = hd.seg.segread(path)
        volume = seg.get_volume(combine_segments=False, rescale_fractional=True)
    except Exception as exc:  # noqa: BLE001 - highdicom's message says what is wrong with the SEG
        raise InputError(f"cannot read the DICOM SEG: {str(exc).splitlines()[0]}", path, FIELD) from None
    array = volume.array  # (slices, rows, columns, segments); FRACTIONAL rescaled to [0, 1]
    fix = OTHER_FRAME_FIX if other_frame else "export the SEG with the CT as its reference geometry"
    numbers = list(seg.segment_numbers)
    inverse, origin = _ct_index_transform(image)
    to_ct = inverse @ volume.affine[:3, :3]  # CT index axes (x, y, z) per SEG array axis (slice, row, column)
    permutation = np.round(to_ct)
    if not (np.allclose(to_ct, permutation, atol=GRID_TOLERANCE_VOXELS)
            and (np.abs(permutation).sum(axis=0) == 1).all() and (np.abs(permutation).sum(axis=1) == 1).all()):
        spacing = tuple(round(float(s), 4) for s in np.linalg.norm(volume.affine[:3, :3], axis=0))
        raise InputError(f"the SEG frames are not on the CT's voxel grid (SEG voxel {spacing} mm along slice, row, "
                         f"column vs CT spacing {tuple(round(s, 4) for s in image.GetSpacing())} mm, or another "
                         f"orientation); {fix} (SEGs off the CT grid are not resampled)", path, FIELD)
    corner = inverse @ (volume.affine[:3, 3] - origin)
    # Reorder the SEG axes into CT (z, y, x) order, flipping those that run against the CT's.
    ct_axis_of = [int(np.argmax(np.abs(permutation[:, j]))) for j in range(3)]
    sign_of = [int(permutation[ct_axis_of[j], j]) for j in range(3)]
    start = corner.copy()
    for j in range(3):
        if sign_of[j] < 0:
            array = np.flip(array, axis=j)
            start[ct_axis_of[j]] -= array.shape[j] - 1
    array = np.transpose(array, [ct_axis_of.index(2), ct_axis_of.index(1), ct_axis_of.index(0), 3])
    if not np.allclose(start, np.round(start), atol=GRID_TOLERANCE_VOXELS):
        raise InputError(f"the SEG frames fall between the CT's voxels (continuous index {tuple(np.round(start, 3))}"
                         f"); {fix}", path, FIELD)
    start = np.round(start).astype(int)
    stop = start + np.array(array.shape[2::-1])
    if (start < 0).any() or (stop > np.array(image.GetSize())).any():
        raise InputError(f"the SEG extends outside the CT (voxels {tuple(start)}..{tuple(stop)} of "
                         f"{image.GetSize()}); {fix}", path, FIELD)
    masks = []
    for channel, number in enumerate(numbers):
        description = seg.get_segment_description(number)
        binary = array[..., channel] >= SEG_FRACTION_THRESHOLD if array.dtype.kind == "f" else array[..., channel] > 0
        tags = {}
        for region in getattr(description, "anatomic_regions", None) or []:
            site = site_from_code(region.scheme_designator, region.value)
            if site:
                tags["CD8RScore.location"] = site
                break
        masks.append(SegmentMask(str(number), str(description.segment_label), _mask_crop(image, binary, start), tags))
    return masks


def _on_contour(points: np.ndarray, polygon: np.ndarray) -> np.ndarray:
    """Which ``points`` (n, 2) lie on the closed ``polygon`` (m, 2), within GRID_TOLERANCE_VOXELS of an edge (both
    in continuous voxel indices). Written here: matplotlib's point-in-polygon leaves points on an edge to
    floating-point chance, and no library at hand tests "on the boundary"."""
    start, end = polygon, np.roll(polygon, -1, axis=0)
    edge = end - start  # (m, 2)
    length2 = np.maximum((edge ** 2).sum(axis=1), 1e-12)
    relative = points[:, None, :] - start[None, :, :]  # (n, m, 2)
    t = np.clip((relative * edge[None]).sum(axis=2) / length2[None], 0.0, 1.0)
    nearest = start[None] + t[..., None] * edge[None]
    distance2 = ((points[:, None, :] - nearest) ** 2).sum(axis=2)
    return (distance2 <= GRID_TOLERANCE_VOXELS ** 2).any(axis=1)


def _rtstruct_masks(ds, image: sitk.Image, path: Path) -> list[SegmentMask]:
    """ROIs of an RTSTRUCT rasterised on the CT grid: a voxel is in when its centre is inside the contours (even-odd
    per slice: an inner contour is a hole) or on one of them."""
    from matplotlib.path import Path as Polygon

    inverse, origin = _ct_index_transform(image)
    size_x, size_y, size_z = image.GetSize()
    names = {int(roi.ROINumber): str(roi.ROIName) for roi in ds.get("StructureSetROISequence", [])}
    contours_of = {int(item.ReferencedROINumber): item.get("ContourSequence", [])
                   for item in ds.get("ROIContourSequence", [])}
    masks = []
    for number, name in names.items():
        slices: dict[int, tuple[np.ndarray, np.ndarray]] = {}  # slice -> (even-odd interior, on a contour)
        for k, contour in enumerate(contours_of.get(number, [])):
            where = f"ROI {number} {name!r}, contour {k + 1}"
            kind = str(contour.get("ContourGeometricType", ""))
            if kind != "CLOSED_PLANAR":
                raise InputError(f"{where} is {kind or 'untyped'}; only CLOSED_PLANAR contours outline a lesion "
                                 "(close the contour in the contouring tool)", path, FIELD)
            data = np.asarray(contour.get("ContourData", []), dtype=float)
            if data.size % 3:
                raise InputError(f"{where} has {data.size} Contour Data values, not (x, y, z) triples", path, FIELD)
            points = data.reshape(-1, 3)
            index = (inverse @ (points - origin).T).T  # continuous (x, y, z)
            z = index[:, 2]
            if np.ptp(z) > GRID_TOLERANCE_VOXELS or abs(z[0] - round(z[0])) > GRID_TOLERANCE_VOXELS:
                raise InputError(f"{where} does not lie in a CT slice plane (slice index {z.min():.3f} to "
                                 f"{z.max():.3f}); contour on the CT's own slices", path, FIELD)
            slice_index = int(round(z[0]))
            if not 0 <= slice_index < size_z:
                raise InputError(f"{where} lies outside the CT (slice {slice_index} of {size_z})", path, FIELD)
            if len(points) < 3:
                raise InputError(f"{where} has {len(points)} point(s); a closed contour needs at least 3",
                                 path, FIELD)
            xy = index[:, :2]
            lo = np.maximum(np.ceil(xy.min(axis=0) - GRID_TOLERANCE_VOXELS).astype(int), 0)
            hi = np.minimum(np.floor(xy.max(axis=0) + GRID_TOLERANCE_VOXELS).astype(int), [size_x - 1, size_y - 1])
            if (hi < lo).any():
                continue  # no voxel centre inside this contour's box
            cols, rows = np.meshgrid(np.arange(lo[0], hi[0] + 1), np.arange(lo[1], hi[1] + 1))
            centres = np.column_stack([cols.ravel(), rows.ravel()])
            on = _on_contour(centres, xy).reshape(cols.shape)
            inside = Polygon(np.vstack([xy, xy[:1]]), closed=True).contains_points(centres).reshape(cols.shape)
            parity, edge = slices.setdefault(slice_index, (np.zeros((size_y, size_x), dtype=bool),
                                                           np.zeros((size_y, size_x), dtype=bool)))
            parity[lo[1]:hi[1] + 1, lo[0]:hi[0] + 1] ^= inside & ~on  # even-odd: an inner contour is a hole
            edge[lo[1]:hi[1] + 1, lo[0]:hi[0] + 1] |= on  # a centre on any contour is in the ROI
        mask = None
        if slices:
            z_lo, z_hi = min(slices), max(slices)
            volume = np.zeros((z_hi - z_lo + 1, size_y, size_x), dtype=bool)
            for slice_index, (parity, edge) in slices.items():
                volume[slice_index - z_lo] = parity | edge
            mask = _mask_crop(image, volume, np.array([0, 0, z_lo]))
        masks.append(SegmentMask(str(number), name, mask, {}))
    return masks
