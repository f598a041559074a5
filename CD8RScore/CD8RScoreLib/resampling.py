"""IBSI interpolation to an isotropic grid (IBSI 1 reference manual, "Notes on interpolation").

The new grid has ceil(extent / new spacing) voxels per axis and the same centre as the original grid; the image
is interpolated trilinearly with nearest-value padding and rounded to integers (HU); the mask is interpolated
trilinearly in float and kept where >= 0.5 (">=": on the IBSI CT phantom thousands of values are exactly 0.5).
"""
from __future__ import annotations

import math

import numpy as np
import SimpleITK as sitk

MASK_THRESHOLD = 0.5


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
