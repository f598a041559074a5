"""Volumes of interest of one lesion (DESIGN §2 steps 1-2): IBSI resampling to 1 mm, core and peritumoral ring.

The 1 mm grid of every lesion is the sub-block near the lesion of its WHOLE CT's IBSI grid (resampling.IbsiGrid):
a lesion's voxels, and so its features, do not depend on the crop around it, on the margin, on other lesions or on
its bounding box. Only that sub-block is evaluated, never the whole resampled CT. Distances in mm.
"""
from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Callable

import numpy as np
import SimpleITK as sitk
from scipy import ndimage

from .mask_box import grown_box
from .resampling import IbsiGrid, mask_from_fraction, round_intensities, sample_trilinear, whole_image_grid

# Extra crop margin beyond the ring, in voxels of the original grid: the linear interpolation of image and
# mask near the crop border needs one original voxel of context, plus one of safety.
CONTEXT_VOXELS = 2
# Peak memory of building one lesion's VOIs and features, per voxel of its block of the 1 mm grid: 70-72 bytes
# measured (peak resident size, build_vois then the demonstration signature's features, on lesions filling 120 x
# 120 x 60 and 200 x 200 x 100 voxel CTs, numpy 2 / SimpleITK 2.x, Linux); with a margin.
PEAK_BYTES_PER_BLOCK_VOXEL = 80


class VoiTooLarge(ValueError):
    """A lesion's VOIs would need more memory than the process has: the lesion is not scored, with this reason."""


# Distances are compared to the ring widths with this slack (mm) so that voxel centres exactly at 2 mm count.
DISTANCE_EPSILON_MM = 1e-6


@dataclass
class LesionVOIs:
    """One lesion's block of the whole image's grid (HU) and its two VOIs (uint8 0/1 on the block)."""

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


def ring_from_core(core: np.ndarray, spacing_mm: tuple[float, float, float], outer_mm: float,
                   inner_mm: float) -> np.ndarray:
    """Peritumoral ring of DESIGN §2 step 2 (arrays in z, y, x order; spacing in x, y, z order, mm).

    Ring = non-core voxels whose centre lies within ``outer_mm`` of a core voxel centre, plus core voxels whose
    centre lies within ``inner_mm`` of a non-core voxel centre (Euclidean distances in mm). This equals the
    dilation of the core by a Euclidean ball minus its erosion by the same ball. Voxels outside the array are
    not seen: the ring never leaves the block.
    """
    core = core.astype(bool)
    sampling = tuple(float(s) for s in reversed(spacing_mm))
    outside = ~core
    ring = np.zeros_like(core)
    if outside.any():
        # Each VOI is computed on the core's box grown by the ring's width (outer) or by one voxel (inner): that
        # box holds every voxel within reach and the nearest voxel each one looks for (same ring, less time).
        # "Within r mm of a core voxel" is a dilation by the ball of offsets within r mm, and "within r mm of a
        # non-core voxel" the complement of an erosion by it (voxels beyond the box count as core, as the
        # distance map never sees them): the voxels a Euclidean distance map <= r gives, in half its time.
        outer_box = grown_box(core, [int(np.ceil((outer_mm + DISTANCE_EPSILON_MM) / s)) for s in sampling])
        inner_box = grown_box(core, [1, 1, 1])
        ring[outer_box] |= outside[outer_box] & ndimage.binary_dilation(core[outer_box], _ball(sampling, outer_mm))
        ring[inner_box] |= core[inner_box] & ~ndimage.binary_erosion(core[inner_box], _ball(sampling, inner_mm),
                                                                      border_value=1)
    return ring


def _ball(sampling: "tuple[float, ...]", radius_mm: float) -> np.ndarray:
    """The offsets (z, y, x voxels at ``sampling`` mm) whose centre lies within ``radius_mm`` of the origin."""
    reach = [int(np.ceil((radius_mm + DISTANCE_EPSILON_MM) / s)) for s in sampling]
    grids = np.meshgrid(*[np.arange(-r, r + 1) for r in reach], indexing="ij")
    return np.sqrt(sum((g * s) ** 2 for g, s in zip(grids, sampling))) <= radius_mm + DISTANCE_EPSILON_MM


@dataclass
class LesionRegion:
    """The original-resolution neighbourhood of one lesion and the block of the whole image's IBSI grid it fills.

    ``image`` (HU, the CT's own type) and ``mask`` (0/1) are z, y, x arrays of the original voxels ``crop_start``
    .. ``crop_stop`` (x, y, z, exclusive); ``block_start`` .. ``block_stop`` are new-grid indices of ``grid``.
    """

    source: sitk.Image  # one voxel with the whole CT's origin, spacing and direction: its geometry, small to send
    grid: IbsiGrid
    crop_start: np.ndarray
    crop_stop: np.ndarray
    image: np.ndarray
    mask: np.ndarray
    block_start: np.ndarray
    block_stop: np.ndarray
    touches_image_edge: bool


def lesion_box(image: sitk.Image, mask: sitk.Image) -> tuple[np.ndarray, np.ndarray]:
    """The lesion's bounding box in ``image``'s voxel indices (x, y, z): first and last voxel, inclusive."""
    array = sitk.GetArrayViewFromImage(mask)
    inside = array != 0 if array.dtype == np.uint8 else array.astype(np.uint8) > 0  # as a cast to uint8
    extent = [np.flatnonzero(inside.any(axis=other)) for other in ((0, 1), (0, 2), (1, 2))]  # x, y, z
    if extent[0].size == 0:
        raise ValueError("the lesion mask is empty")
    offset = np.round(image.TransformPhysicalPointToContinuousIndex(mask.GetOrigin())).astype(int)
    return offset + np.array([e[0] for e in extent]), offset + np.array([e[-1] for e in extent])


def check_memory(block_size: np.ndarray) -> None:
    """``VoiTooLarge`` when a block of ``block_size`` new voxels would need more memory than is available."""
    from .memory_budget import available_bytes

    needed = float(np.prod(block_size.astype(float))) * PEAK_BYTES_PER_BLOCK_VOXEL
    budget = available_bytes()
    if budget is not None and needed > budget:
        raise VoiTooLarge(f"its VOIs ({' x '.join(str(int(n)) for n in block_size)} voxels at the signature's "
                          f"spacing) need about {needed / 1e9:.1f} GB and {max(budget, 0) / 1e9:.1f} GB are "
                          "available; check that the segment is a lesion, not the whole scan")


def lesion_region(image: sitk.Image, mask: sitk.Image, spacing_mm: tuple[float, float, float], margin_mm: float,
                  room_for_rotation: bool = False) -> LesionRegion:
    """The block of the whole image's grid around the lesion (every new voxel the mask can reach, plus
    ``margin_mm``) and the original voxels its interpolation reads.

    ``room_for_rotation``: the block also holds the lesion rotated about z through its centre, by any angle.
    """
    grid = whole_image_grid(image, spacing_mm)
    first, step = np.array(grid.first_index), np.array(grid.step)
    spacing = np.array(image.GetSpacing(), dtype=float)
    box_lo, box_hi = lesion_box(image, mask)
    # a new voxel within one original voxel of the box can have a mask fraction > 0
    lo, hi = box_lo - 1.0, box_hi + 1.0
    if room_for_rotation:
        lo, hi = _circumscribed_in_plane(lo, hi, spacing)
    margin = np.array([math.ceil(margin_mm / s) for s in spacing_mm])
    block_start, block_stop, cut = grid.block_covering(lo, hi, margin)
    check_memory(block_stop - block_start)
    # the original voxels that the block's samples read
    read_lo, read_hi = first + block_start * step, first + (block_stop - 1) * step
    if room_for_rotation:
        read_lo, read_hi = _circumscribed_in_plane(read_lo, read_hi, spacing)
    size = np.array(image.GetSize())
    crop_start = np.maximum(np.floor(read_lo).astype(int) - CONTEXT_VOXELS, 0)
    crop_stop = np.minimum(np.ceil(read_hi).astype(int) + 1 + CONTEXT_VOXELS, size)
    array = sitk.GetArrayViewFromImage(image)
    # kept in the CT's own type (HU): exact, and small to send to a worker process; interpolation reads it as float64
    crop_image = np.array(array[crop_start[2]:crop_stop[2], crop_start[1]:crop_stop[1], crop_start[0]:crop_stop[0]])
    # the mask (on the CT grid or a sub-grid of it) pasted onto the crop
    crop_mask = np.zeros(crop_image.shape, dtype=np.uint8)
    offset = np.round(image.TransformPhysicalPointToContinuousIndex(mask.GetOrigin())).astype(int)
    mask_array = sitk.GetArrayViewFromImage(mask)
    src_lo = np.maximum(crop_start - offset, 0)
    src_hi = np.minimum(crop_stop - offset, np.array(mask.GetSize()))
    dst_lo = offset + src_lo - crop_start
    dst_hi = dst_lo + (src_hi - src_lo)
    crop_mask[dst_lo[2]:dst_hi[2], dst_lo[1]:dst_hi[1], dst_lo[0]:dst_hi[0]] = \
        mask_array[src_lo[2]:src_hi[2], src_lo[1]:src_hi[1], src_lo[0]:src_hi[0]] > 0
    touches = cut or bool((box_lo - 1 < 0).any() or (box_hi + 1 >= size).any())
    return LesionRegion(geometry_of(image), grid, crop_start, crop_stop, crop_image, crop_mask, block_start,
                        block_stop, touches)


def geometry_of(image: sitk.Image) -> sitk.Image:
    """A one-voxel image with ``image``'s origin, spacing and direction: the same index-to-physical mapping."""
    geometry = sitk.Image([1] * image.GetDimension(), sitk.sitkUInt8)
    geometry.SetOrigin(image.GetOrigin())
    geometry.SetSpacing(image.GetSpacing())
    geometry.SetDirection(image.GetDirection())
    return geometry


def _circumscribed_in_plane(lo: np.ndarray, hi: np.ndarray, spacing: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """The box (indices x, y, z) widened in x and y to the square around the circle through its in-plane corners."""
    lo, hi = np.array(lo, dtype=float), np.array(hi, dtype=float)
    centre = (lo + hi) / 2.0
    radius_mm = math.hypot(*((hi[:2] - lo[:2]) / 2.0 * spacing[:2]))
    lo[:2], hi[:2] = centre[:2] - radius_mm / spacing[:2], centre[:2] + radius_mm / spacing[:2]
    return lo, hi


@dataclass(frozen=True)
class GridShift:
    """A sub-voxel translation of the grid (fractions of a new voxel, x, y, z) and a rotation (degrees) of the
    sampled points about the image's z axis through the block's centre: the perturbations of perturbation.py."""

    translation_voxels: tuple[float, float, float] = (0.0, 0.0, 0.0)
    rotation_deg: float = 0.0


# Noise (HU) for a block of original voxels, given the block's shape (z, y, x): perturbation.py adds it to the
# voxels that the image samples read.
ImageNoise = Callable[[tuple[int, ...]], np.ndarray]


def sample_region(region: LesionRegion, shift: "GridShift | None" = None,
                  image_reach_voxels: "tuple[int, int, int] | None" = None,
                  image_noise: "ImageNoise | None" = None) -> tuple[np.ndarray, np.ndarray]:
    """Image (HU, rounded) and core (bool) on the region's block, z, y, x arrays.

    ``image_reach_voxels`` (z, y, x): the image is sampled only on the core's box grown by that many new voxels
    (0 HU elsewhere), for callers that read it only there; None samples the whole block. ``image_noise``: noise
    added to the original voxels that the image samples read.
    """
    first, step = np.array(region.grid.first_index), np.array(region.grid.step)
    translation = shift.translation_voxels if shift is not None else (0.0, 0.0, 0.0)
    # original continuous indices of the block's voxels along each axis, relative to the crop
    axes = [first[a] + (np.arange(region.block_start[a], region.block_stop[a]) + translation[a]) * step[a]
            - region.crop_start[a] for a in range(3)]
    shape = tuple(len(axis) for axis in reversed(axes))  # z, y, x
    # in-plane positions (y, x arrays); a rotation about z leaves each voxel's z alone
    x = np.broadcast_to(axes[0][np.newaxis, :], shape[1:])
    y = np.broadcast_to(axes[1][:, np.newaxis], shape[1:])
    z = axes[2]
    if shift is not None and shift.rotation_deg:
        spacing = np.array(region.source.GetSpacing(), dtype=float)
        cx, cy = [(axes[a][0] + axes[a][-1]) / 2.0 for a in range(2)]
        u, v = (x - cx) * spacing[0], (y - cy) * spacing[1]  # mm along the image's x and y axes
        cos, sin = math.cos(math.radians(shift.rotation_deg)), math.sin(math.radians(shift.rotation_deg))
        x, y = cx + (cos * u - sin * v) / spacing[0], cy + (sin * u + cos * v) / spacing[1]
    core = mask_from_fraction(_mask_fraction(region.mask, x, y, z))
    box = (slice(None),) * 3
    if image_reach_voxels is not None and core.any():
        box = grown_box(core, list(image_reach_voxels))
    values = np.zeros(shape, dtype=np.float64)
    points = _box_points(x, y, z, box)
    values[box] = round_intensities(_sample_block(region.image, points, image_noise))
    return values, core


def _box_points(x: np.ndarray, y: np.ndarray, z: np.ndarray,
                box: tuple[slice, ...]) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Continuous indices (x, y, z arrays of the box's shape) of the block voxels in ``box`` (z, y, x slices)."""
    in_plane, column = x[box[1:]], z[box[0]][:, np.newaxis, np.newaxis]
    shape = (column.shape[0],) + in_plane.shape
    return (np.broadcast_to(in_plane, shape), np.broadcast_to(y[box[1:]], shape), np.broadcast_to(column, shape))


def _sample_block(volume_zyx: np.ndarray, points: "tuple[np.ndarray, np.ndarray, np.ndarray]",
                  noise: "ImageNoise | None" = None) -> np.ndarray:
    """Trilinear values of ``volume_zyx`` at ``points`` (continuous indices x, y, z, one shape), read from the block
    of voxels that their interpolation reaches (``noise`` added to that block first): the same values as reading
    the whole volume, in less time. Subtracting the block's first index from a point is exact (both are multiples
    of the point's last bit), so the interpolation weights do not change."""
    x, y, z = points
    if x.size == 0:
        return np.zeros(x.shape)
    block = []
    for coordinate, size in zip((z, y, x), volume_zyx.shape):
        # a point reads floor(c) and floor(c) + 1; beyond the edge the padding repeats the edge voxel
        lo = min(max(int(np.floor(coordinate.min())), 0), size - 1)
        block.append(slice(lo, min(max(int(np.floor(coordinate.max())) + 2, lo + 1), size)))  # never empty
    part = np.asarray(volume_zyx[tuple(block)], dtype=np.float64)
    if noise is not None:
        part = part + noise(part.shape)
    return sample_trilinear(part, (x - block[2].start, y - block[1].start, z - block[0].start))


def _mask_fraction(mask_zyx: np.ndarray, x: np.ndarray, y: np.ndarray, z: np.ndarray) -> np.ndarray:
    """Trilinear mask fraction (z, y, x array) at in-plane continuous indices x, y (y, x arrays) on the slices at
    z (1-D), evaluated only at the points within one voxel of the mask's box: every other point reads only zeros
    (same values as sampling every point)."""
    fraction = np.zeros((len(z),) + x.shape, dtype=np.float64)
    if not mask_zyx.any():
        return fraction
    near_plane, near_z = np.ones(x.shape, dtype=bool), np.ones(z.shape, dtype=bool)
    for coordinate, axis, near in ((x, 2, near_plane), (y, 1, near_plane), (z, 0, near_z)):
        present = np.flatnonzero(mask_zyx.any(axis=tuple(a for a in range(3) if a != axis)))
        # beyond the array's edge the padding repeats the edge voxel: no bound on a side the mask touches
        if present[0] > 0:
            near &= coordinate > present[0] - 1
        if present[-1] < mask_zyx.shape[axis] - 1:
            near &= coordinate < present[-1] + 1
    slices, in_plane = np.flatnonzero(near_z), np.flatnonzero(near_plane)
    if slices.size and in_plane.size:
        shape = (slices.size, in_plane.size)
        points = (np.broadcast_to(x.reshape(-1)[in_plane], shape), np.broadcast_to(y.reshape(-1)[in_plane], shape),
                  np.broadcast_to(z[slices][:, np.newaxis], shape))
        fraction.reshape(len(z), -1)[slices[:, np.newaxis], in_plane] = _sample_block(mask_zyx, points)
    return fraction


def vois_from_region(region: LesionRegion, ring_outer_mm: float, ring_inner_mm: float,
                     shift: "GridShift | None" = None, crop_to_vois: bool = False,
                     image_noise: "ImageNoise | None" = None) -> "LesionVOIs":
    """Core and ring on the region's block of the whole image's grid (``shift`` and ``image_noise``: see
    sample_region).

    ``crop_to_vois``: the block is cut to the box of the core and ring (the image sampled there only), for a caller
    that reads the image only within the VOIs.
    """
    spacing_mm = region.grid.spacing_mm
    reach = tuple(int(np.ceil((ring_outer_mm + DISTANCE_EPSILON_MM) / s)) for s in reversed(spacing_mm)) \
        if crop_to_vois else None
    values, core_array = sample_region(region, shift, reach, image_noise)
    ring_array = ring_from_core(core_array, spacing_mm, ring_outer_mm, ring_inner_mm)
    start = np.array(region.block_start)
    if crop_to_vois:
        box = grown_box(core_array, list(reach))  # holds the ring
        values, core_array, ring_array = values[box], core_array[box], ring_array[box]
        start = start + np.array([b.start or 0 for b in reversed(box)])
    first, step = np.array(region.grid.first_index), np.array(region.grid.step)
    origin = region.source.TransformContinuousIndexToPhysicalPoint([float(v) for v in first + start * step])

    def as_image(array: np.ndarray) -> sitk.Image:
        out = sitk.GetImageFromArray(array)  # float32 or uint8, as the array
        out.SetSpacing(spacing_mm)
        out.SetOrigin(origin)
        out.SetDirection(region.source.GetDirection())
        return out

    return LesionVOIs(image=as_image(values.astype(np.float32)),
                      core=as_image(core_array.astype(np.uint8)),
                      ring=as_image(ring_array.astype(np.uint8)),
                      touches_image_edge=region.touches_image_edge)


def build_vois(image: sitk.Image, mask: sitk.Image, spacing_mm: tuple[float, float, float],
               ring_outer_mm: float, ring_inner_mm: float) -> LesionVOIs:
    """Resample the IBSI way to ``spacing_mm`` on the whole image's grid, near the lesion only, and build the core
    and ring of one lesion (``mask``: binary, on the CT grid or a sub-grid of it)."""
    # the block holds the ring (outer_mm) plus one new voxel, so that every distance the ring needs is seen
    region = lesion_region(image, mask, spacing_mm, ring_outer_mm + max(spacing_mm))
    return vois_from_region(region, ring_outer_mm, ring_inner_mm)


def lesion_volume_ml(mask: sitk.Image) -> float:
    """Lesion volume (mL) from the original-resolution mask: voxel count x voxel volume."""
    voxels = int(sitk.GetArrayViewFromImage(mask).astype(bool).sum())
    return voxels * float(np.prod(mask.GetSpacing())) / 1000.0
