"""IBSI interpolation to an isotropic grid (IBSI 1 reference manual, "Notes on interpolation"); spacings in mm.

The new grid has ceil(extent / new spacing) voxels per axis (:func:`grid_voxel_count`: robust to the precision a
spacing is stored with) and the same centre as the original grid; the image
is interpolated trilinearly with nearest-value padding and rounded to integers (HU); the mask is interpolated
trilinearly in float and kept where >= 0.5 (">=": on the IBSI CT phantom thousands of values are exactly 0.5).

A lesion is resampled on a sub-block of its WHOLE image's grid (:class:`IbsiGrid`), so that its voxels are those a
whole-image pipeline gives, whatever the crop around it; the whole image itself is never resampled.
"""
from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
import SimpleITK as sitk
from scipy import ndimage

MASK_THRESHOLD = 0.5
# Interpolated mask fractions are compared with the threshold after rounding to this many decimals, so that a
# fraction that is exactly 0.5 in exact arithmetic (a new voxel centre halfway between two slices) is kept
# whatever the last bits of the floating-point sum. Six, as mirp (IBSI-validated) rounds.
MASK_FRACTION_DECIMALS = 6
# The IBSI voxel count ceil(n * old spacing / new spacing) ignores an excess of the extent over a whole number of new
# voxels below this fraction of the extent. A spacing stored in float32 (NIfTI keeps 0.8 mm as 0.800000011920929 mm,
# 1.5e-8 relative; float32 rounds by at most 6e-8) or printed with 7 significant digits (5e-8) must not add a voxel,
# which would shift the whole grid by half a voxel and change every score. 1e-6 of a 2000-voxel extent is 0.002
# voxel: no real extent is that close above a whole number.
GRID_EXTENT_RELATIVE_TOLERANCE = 1e-6


@dataclass(frozen=True)
class IbsiGrid:
    """The IBSI grid of a whole image: new voxel j (per axis x, y, z) lies at original continuous index
    ``first_index + j * step``, where step = new spacing / original spacing."""

    size: tuple[int, int, int]
    spacing_mm: tuple[float, float, float]
    first_index: tuple[float, float, float]
    step: tuple[float, float, float]

    def block_covering(self, lo_index: np.ndarray, hi_index: np.ndarray,
                       margin_voxels: np.ndarray) -> tuple[np.ndarray, np.ndarray, bool]:
        """New-grid block [start, stop) holding every new voxel whose original continuous index lies within
        [lo_index, hi_index] per axis, plus ``margin_voxels`` new voxels each side, cut to the grid.

        Returns (start, stop, whether the block was cut at the grid's edge).
        """
        first, step = np.array(self.first_index), np.array(self.step)
        start = np.floor((np.asarray(lo_index, dtype=float) - first) / step).astype(int) - margin_voxels
        stop = np.ceil((np.asarray(hi_index, dtype=float) - first) / step).astype(int) + 1 + margin_voxels
        size = np.array(self.size)
        cut = bool((start < 0).any() or (stop > size).any())
        return np.maximum(start, 0), np.minimum(stop, size), cut


def grid_voxel_count(extent_voxels: float) -> int:
    """IBSI's ceil(extent / new spacing) for an extent of ``extent_voxels`` new voxels, at least 1; an extent within
    GRID_EXTENT_RELATIVE_TOLERANCE above a whole number counts as that number (storage precision, not geometry)."""
    return max(1, math.ceil(extent_voxels * (1.0 - GRID_EXTENT_RELATIVE_TOLERANCE)))


def whole_image_grid(image: sitk.Image, spacing_mm: tuple[float, float, float]) -> IbsiGrid:
    """The IBSI grid of ``image`` at ``spacing_mm`` (size by ceiling, centre aligned with the image's centre)."""
    old_size = np.array(image.GetSize(), dtype=float)
    old_spacing, new_spacing = np.array(image.GetSpacing(), dtype=float), np.array(spacing_mm, dtype=float)
    step = new_spacing / old_spacing
    size = [grid_voxel_count(n) for n in old_size * old_spacing / new_spacing]
    first = (old_size - 1.0) / 2.0 - (np.array(size, dtype=float) - 1.0) / 2.0 * step
    return IbsiGrid(tuple(int(n) for n in size), tuple(float(s) for s in spacing_mm),
                    tuple(float(v) for v in first), tuple(float(v) for v in step))


def sample_trilinear(volume_zyx: np.ndarray, index_xyz: "tuple[np.ndarray, np.ndarray, np.ndarray]") -> np.ndarray:
    """Trilinear values of ``volume_zyx`` at continuous indices (x, y, z arrays of one shape), nearest-value
    padding beyond its edges (float64)."""
    coordinates = np.stack(np.broadcast_arrays(index_xyz[2], index_xyz[1], index_xyz[0]))
    return ndimage.map_coordinates(np.asarray(volume_zyx, dtype=np.float64), coordinates, order=1, mode="nearest",
                                   prefilter=False)


def round_intensities(values: np.ndarray) -> np.ndarray:
    """Interpolated intensities rounded to the nearest integer (HU); halves to even, as mirp and numpy round."""
    return np.round(values)


def mask_from_fraction(fraction: np.ndarray, threshold: float = MASK_THRESHOLD) -> np.ndarray:
    """Voxels whose interpolated mask fraction is >= ``threshold`` (bool)."""
    return np.round(fraction, MASK_FRACTION_DECIMALS) >= threshold
