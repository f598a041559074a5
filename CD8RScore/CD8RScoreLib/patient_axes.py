"""Which storage axis of an image runs along the patient's head-foot axis: the axis whose slices are axial.

An image may store its voxels in any order (a valid direction matrix can make index 0 the head-foot axis, or flip
any axis), so "axial" is read from the physical geometry: the storage axis (0 = i, 1 = j, 2 = k, SimpleITK order)
whose direction cosine has the largest head-foot (LPS z) component. Its spacing (mm) is the slice spacing, and the
planes of the two other axes are the axial planes, exactly for an axis-aligned image and the planes closest to axial
for a tilted gantry.
"""
from __future__ import annotations

import numpy as np
import SimpleITK as sitk


def slice_axis(image: sitk.Image) -> int:
    """The storage axis (0, 1 or 2) closest to the patient's head-foot axis."""
    direction = np.array(image.GetDirection(), dtype=float).reshape(3, 3)  # column k = direction of axis k
    return int(np.argmax(np.abs(direction[2])))


def slice_spacing_mm(image: sitk.Image) -> float:
    """Spacing (mm) between the image's axial planes."""
    return float(image.GetSpacing()[slice_axis(image)])


def in_plane_spacing_mm(image: sitk.Image) -> float:
    """Pixel spacing (mm) of the image's axial planes: the mean of their two spacings (equal in nearly every CT)."""
    k = slice_axis(image)
    return float(np.mean([s for axis, s in enumerate(image.GetSpacing()) if axis != k]))


def axial_stack(mask: sitk.Image) -> tuple[np.ndarray, float, float]:
    """``mask != 0`` as a (slice, row, column) bool array whose first axis is the head-foot one, with the spacings
    (mm) of its columns and rows: (array, column spacing, row spacing)."""
    k = slice_axis(mask)
    column, row = (axis for axis in range(3) if axis != k)
    array = sitk.GetArrayViewFromImage(mask) != 0  # numpy axis 2 - a holds storage axis a
    spacing = mask.GetSpacing()
    return np.transpose(array, (2 - k, 2 - row, 2 - column)), float(spacing[column]), float(spacing[row])
