"""Longest axial diameter of a lesion (RECIST 1.1, mm) from its original-resolution mask, exactly as pyradiomics.

The value is pyradiomics' Maximum2DDiameterSlice (what the lesion table has always reported): the largest distance
between two vertices of the lesion's marching-cubes surface mesh that share a z coordinate. The mesh vertices are
the midpoints of the edges between a lesion voxel and a non-lesion voxel (the mask padded by one empty voxel), so
the planes of equal z are of two kinds:
- the plane of slice k holds the midpoints of the in-slice edges (x or y neighbours that differ);
- the plane half-way between slices k and k+1 holds the centres (x, y) of the voxels that differ between them.
pyradiomics compares every pair of vertices of the whole mesh. Here only the leftmost and the rightmost vertex of
each row of each plane are compared, within their plane: the farthest pair of a point set is a pair of vertices
of its convex hull, and a point with points of its own row on both sides is not a hull vertex. Rows are found in
half-voxel index units (integers), so the selection is exact; distances are computed in mm in float64.
(A convex hull per plane, e.g. scipy's Qhull, would select fewer points, but its set-up costs more per plane
than comparing the row ends of a lesion's planes all at once.)
"""
from __future__ import annotations

import numpy as np
import SimpleITK as sitk

# Planes are compared in batches of at most this many point pairs (bounds the memory to ~100 MB).
PAIRS_PER_BATCH = 4_000_000


def _row_ends(mask_zyx: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(plane, y, x) in half-voxel units of the leftmost and rightmost mesh vertex of every row, sorted by plane."""
    array = np.pad(mask_zyx, 1)
    kx, yx, xx = np.nonzero(array[:, :, 1:] != array[:, :, :-1])
    ky, yy, xy = np.nonzero(array[:, 1:, :] != array[:, :-1, :])
    kz, yz, xz = np.nonzero(array[1:] != array[:-1])
    plane = np.concatenate([2 * kx, 2 * ky, 2 * kz + 1])
    y2 = np.concatenate([2 * yx, 2 * yy + 1, 2 * yz])
    x2 = np.concatenate([2 * xx + 1, 2 * xy, 2 * xz])
    order = np.lexsort((x2, y2, plane))
    plane, y2, x2 = plane[order], y2[order], x2[order]
    first = np.flatnonzero(np.r_[True, (plane[1:] != plane[:-1]) | (y2[1:] != y2[:-1])])
    last = np.r_[first[1:], len(plane)] - 1
    ends = np.unique(np.r_[first, last])
    return plane[ends], y2[ends], x2[ends]


def longest_axial_diameter_mm(mask: sitk.Image) -> float:
    """Longest diameter (mm) in the row-column (axial) plane of a binary mask; 0 for an empty mask."""
    mask_zyx = sitk.GetArrayViewFromImage(mask) != 0
    if not mask_zyx.any():
        return 0.0
    plane, y2, x2 = _row_ends(mask_zyx)
    y_mm = y2 * (mask.GetSpacing()[1] / 2.0)
    x_mm = x2 * (mask.GetSpacing()[0] / 2.0)
    start = np.flatnonzero(np.r_[True, plane[1:] != plane[:-1]])
    count = np.diff(np.r_[start, len(plane)])
    width = int(count.max())
    # every plane as one row of a (planes, width) table; short planes repeat their last point
    index = start[:, None] + np.minimum(np.arange(width)[None, :], count[:, None] - 1)
    largest = 0.0
    step = max(1, PAIRS_PER_BATCH // (width * width))
    for lo in range(0, len(start), step):
        ys, xs = y_mm[index[lo:lo + step]], x_mm[index[lo:lo + step]]
        dy = ys[:, :, None] - ys[:, None, :]
        dx = xs[:, :, None] - xs[:, None, :]
        largest = max(largest, float(np.max(dy * dy + dx * dx)))
    return float(np.sqrt(largest))
