"""IBSI interpolation to an isotropic grid (IBSI 1 reference manual, "Notes on interpolation"); spacings in mm.

The new grid has ceil(extent / new spacing) voxels per axis and the same centre as the original grid; the image
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


def ibsi_grid(image: sitk.Image, spacing_mm: tuple[float, float, float]) -> tuple[list[int], tuple[float, ...]]:
    """(size, origin) of the IBSI grid: size = ceil(size x spacing / new spacing), centre aligned, same direction."""
    old_spacing = np.array(image.GetSpacing(), dtype=float)
    old_size = np.array(image.GetSize(), dtype=float)
    new_spacing = np.array(spacing_mm, dtype=float)
    # a tiny tolerance so that an extent that is an exact multiple of the new spacing does not gain a voxel
    new_size = [max(1, math.ceil(n - 1e-9)) for n in old_size * old_spacing / new_spacing]
    direction = np.array(image.GetDirection(), dtype=float).reshape(3, 3)
    centre = np.array(image.GetOrigin()) + direction @ ((old_size - 1.0) * old_spacing / 2.0)
    origin = centre - direction @ ((np.array(new_size) - 1.0) * new_spacing / 2.0)
    return new_size, tuple(float(v) for v in origin)


def _pad_nearest(image: sitk.Image, spacing_mm: tuple[float, float, float]) -> sitk.Image:
    """Replicate edge voxels outward so that new-grid points beyond the old grid take the nearest value.

    The IBSI grid overhangs the original by at most half a new voxel per side; the padding covers that plus one
    voxel for the interpolation kernel.
    """
    pad = [int(math.ceil(0.5 * n / o)) + 1 for n, o in zip(spacing_mm, image.GetSpacing())]
    return sitk.ZeroFluxNeumannPad(image, pad, pad)


def _resample_linear(image: sitk.Image, reference: sitk.Image) -> sitk.Image:
    return sitk.Resample(image, reference, sitk.Transform(), sitk.sitkLinear, 0.0, sitk.sitkFloat32)


def resample_image(image: sitk.Image, spacing_mm: tuple[float, float, float],
                   round_intensities: bool = True) -> sitk.Image:
    """Trilinear resampling to ``spacing_mm`` on the IBSI grid; intensities (HU) rounded when asked. float32."""
    size, origin = ibsi_grid(image, spacing_mm)
    reference = sitk.Image(size, sitk.sitkFloat32)
    reference.SetSpacing(tuple(float(s) for s in spacing_mm))
    reference.SetOrigin(origin)
    reference.SetDirection(image.GetDirection())
    resampled = _resample_linear(_pad_nearest(sitk.Cast(image, sitk.sitkFloat32), spacing_mm), reference)
    if round_intensities:
        array = np.round(sitk.GetArrayViewFromImage(resampled)).astype(np.float32)
        rounded = sitk.GetImageFromArray(array)
        rounded.CopyInformation(resampled)
        return rounded
    return resampled


def resample_mask(mask: sitk.Image, reference: sitk.Image, threshold: float = MASK_THRESHOLD) -> sitk.Image:
    """The binary mask interpolated trilinearly onto ``reference``'s grid, kept where >= ``threshold`` (uint8)."""
    spacing = reference.GetSpacing()
    binary = sitk.Cast(sitk.Cast(mask, sitk.sitkUInt8) > 0, sitk.sitkFloat32)
    fraction = _resample_linear(_pad_nearest(binary, spacing), reference)
    return sitk.Cast(sitk.GreaterEqual(fraction, threshold), sitk.sitkUInt8)


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


def whole_image_grid(image: sitk.Image, spacing_mm: tuple[float, float, float]) -> IbsiGrid:
    """The IBSI grid of ``image`` at ``spacing_mm`` (size by ceiling, centre aligned with the image's centre)."""
    size, _ = ibsi_grid(image, spacing_mm)
    old_size = np.array(image.GetSize(), dtype=float)
    step = np.array(spacing_mm, dtype=float) / np.array(image.GetSpacing(), dtype=float)
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
