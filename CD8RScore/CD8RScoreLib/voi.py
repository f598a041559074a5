"""Volumes of interest of one lesion (DESIGN §2 steps 1-2): crop, IBSI resampling, core and peritumoral ring.

Everything happens on a crop around the lesion, never on the whole resampled CT.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import SimpleITK as sitk
from scipy import ndimage

from .resampling import resample_image, resample_mask

# Extra crop margin beyond the ring, in voxels of the original grid: the linear interpolation of image and
# mask near the crop border needs one original voxel of context, plus one of safety.
CONTEXT_VOXELS = 2
# Distances are compared to the ring widths with this slack (mm) so that voxel centres exactly at 2 mm count.
DISTANCE_EPSILON_MM = 1e-6


@dataclass
class LesionVOIs:
    """The resampled crop of one lesion and its two VOIs (uint8 0/1 on the crop's grid)."""

    image: sitk.Image  # HU at the signature spacing, rounded to integers
    core: sitk.Image
    ring: sitk.Image
    touches_image_edge: bool

    @property
    def core_voxels(self) -> int:
        return int(sitk.GetArrayViewFromImage(self.core).sum())

    @property
    def ring_voxels(self) -> int:
        return int(sitk.GetArrayViewFromImage(self.ring).sum())


def crop_around_mask(image: sitk.Image, mask: sitk.Image, margin_mm: float) -> tuple[sitk.Image, sitk.Image, bool]:
    """Crop the CT and the lesion mask (on a sub-grid of the CT) to the lesion's box plus ``margin_mm``.

    Returns (image crop, mask crop on the same grid, whether the box had to be cut at the image edge).
    """
    stats = sitk.LabelShapeStatisticsImageFilter()
    stats.Execute(mask)
    if 1 not in stats.GetLabels():
        raise ValueError("the lesion mask is empty")
    x, y, z, sx, sy, sz = stats.GetBoundingBox(1)
    offset = np.round(image.TransformPhysicalPointToContinuousIndex(mask.GetOrigin())).astype(int)
    lo = offset + np.array([x, y, z])
    hi = lo + np.array([sx, sy, sz])  # exclusive
    margin = np.ceil(margin_mm / np.array(image.GetSpacing())).astype(int) + CONTEXT_VOXELS
    size = np.array(image.GetSize())
    start = np.maximum(lo - margin, 0)
    stop = np.minimum(hi + margin, size)
    touches = bool((lo - margin < 0).any() or (hi + margin > size).any())
    image_crop = sitk.RegionOfInterest(image, [int(v) for v in stop - start], [int(v) for v in start])
    # The mask on the crop grid: paste the mask's voxels that fall inside the crop.
    mask_crop = sitk.Image(image_crop.GetSize(), sitk.sitkUInt8)
    mask_crop.CopyInformation(image_crop)
    mask_array = sitk.GetArrayViewFromImage(mask)  # z, y, x
    crop_array = sitk.GetArrayFromImage(mask_crop)
    src_lo = np.maximum(start - offset, 0)
    src_hi = np.minimum(stop - offset, np.array(mask.GetSize()))
    dst_lo = offset + src_lo - start
    dst_hi = dst_lo + (src_hi - src_lo)
    crop_array[dst_lo[2]:dst_hi[2], dst_lo[1]:dst_hi[1], dst_lo[0]:dst_hi[0]] = \
        mask_array[src_lo[2]:src_hi[2], src_lo[1]:src_hi[1], src_lo[0]:src_hi[0]] > 0
    mask_crop = sitk.GetImageFromArray(crop_array)
    mask_crop.CopyInformation(image_crop)
    return image_crop, mask_crop, touches


def ring_from_core(core: np.ndarray, spacing_mm: tuple[float, float, float], outer_mm: float,
                   inner_mm: float) -> np.ndarray:
    """Peritumoral ring of DESIGN §2 step 2 (arrays in z, y, x order; spacing in x, y, z order, mm).

    Ring = non-core voxels whose centre lies within ``outer_mm`` of a core voxel centre, plus core voxels whose
    centre lies within ``inner_mm`` of a non-core voxel centre (Euclidean distance maps in mm). This equals the
    dilation of the core by a Euclidean ball minus its erosion by the same ball. Voxels outside the array are
    not seen: the ring never leaves the crop.
    """
    core = core.astype(bool)
    sampling = tuple(float(s) for s in reversed(spacing_mm))
    outside = ~core
    ring = np.zeros_like(core)
    if outside.any():
        # Each map is computed on the core's box grown by the ring's width (outer) or by one voxel (inner): that
        # box holds every voxel within reach and the nearest voxel each one looks for (same ring, less time).
        outer_box = _grown_box(core, [int(np.ceil((outer_mm + DISTANCE_EPSILON_MM) / s)) for s in sampling])
        inner_box = _grown_box(core, [1, 1, 1])
        # distance of every non-core voxel to the nearest core voxel centre
        distance_out = ndimage.distance_transform_edt(outside[outer_box], sampling=sampling)
        ring[outer_box] |= outside[outer_box] & (distance_out <= outer_mm + DISTANCE_EPSILON_MM)
        # distance of every core voxel to the nearest non-core voxel centre
        distance_in = ndimage.distance_transform_edt(core[inner_box], sampling=sampling)
        ring[inner_box] |= core[inner_box] & (distance_in <= inner_mm + DISTANCE_EPSILON_MM)
    return ring


def _grown_box(mask: np.ndarray, grow: "list[int]") -> tuple[slice, ...]:
    """Slices of ``mask``'s bounding box grown by ``grow`` voxels per axis, within the array (all of it if empty)."""
    if not mask.any():
        return (slice(None),) * mask.ndim
    extent = [np.flatnonzero(mask.any(axis=tuple(a for a in range(mask.ndim) if a != axis)))
              for axis in range(mask.ndim)]
    return tuple(slice(max(0, int(e[0]) - g), int(e[-1]) + 1 + g) for e, g in zip(extent, grow))


def build_vois(image: sitk.Image, mask: sitk.Image, spacing_mm: tuple[float, float, float],
               ring_outer_mm: float, ring_inner_mm: float) -> LesionVOIs:
    """Crop, resample the IBSI way to ``spacing_mm`` and build the core and ring of one lesion."""
    margin_mm = ring_outer_mm + max(spacing_mm)
    image_crop, mask_crop, touches = crop_around_mask(image, mask, margin_mm)
    resampled = resample_image(image_crop, spacing_mm, round_intensities=True)
    core = resample_mask(mask_crop, resampled, threshold=0.5)
    core_array = sitk.GetArrayFromImage(core).astype(bool)
    ring_array = ring_from_core(core_array, spacing_mm, ring_outer_mm, ring_inner_mm)
    ring = sitk.GetImageFromArray(ring_array.astype(np.uint8))
    ring.CopyInformation(resampled)
    return LesionVOIs(image=resampled, core=core, ring=ring, touches_image_edge=touches)


def lesion_volume_ml(mask: sitk.Image) -> float:
    """Lesion volume (mL) from the original-resolution mask: voxel count x voxel volume."""
    voxels = int(sitk.GetArrayViewFromImage(mask).astype(bool).sum())
    return voxels * float(np.prod(mask.GetSpacing())) / 1000.0
