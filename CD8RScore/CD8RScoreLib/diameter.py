"""Longest axial diameter of a lesion (RECIST 1.1, mm) from its original-resolution mask, exactly as pyradiomics.

The value is pyradiomics' Maximum2DDiameterSlice (what the lesion table has always reported): the largest distance
between two vertices of the lesion's marching-cubes surface mesh that share a z coordinate. The mesh vertices are
the midpoints of the edges between a lesion voxel and a non-lesion voxel (the mask padded by one empty voxel), so
the planes of equal z are of two kinds:
- the plane of slice k holds the midpoints of the in-slice edges (x or y neighbours that differ);
- the plane half-way between slices k and k+1 holds the centres (x, y) of the voxels that differ between them.
pyradiomics compares every pair of vertices of the whole mesh. Here only candidates for the corners of each
plane's convex hull are compared, within their plane: the farthest pair of a point set is a pair of its hull's
corners, and a point is not a corner when (a) points of its own row lie on both sides of it, or (b) it is the
leftmost point of its row and rows both above and below reach at least as far left (or the same to the right):
it then lies on a segment between two points of the hull. Both tests run on half-voxel index units (integers),
so the selection is exact; distances are computed in mm in float64.
"z" is the patient's head-foot axis whatever the order the voxels are stored in (patient_axes.axial_stack): a CT
stored with its axes permuted or flipped has the same diameters.
(A convex hull per plane, e.g. scipy's Qhull, would select fewer points, but its set-up costs more per plane
than comparing the candidates of all of a lesion's planes at once.)
"""
from __future__ import annotations

import numpy as np
import SimpleITK as sitk

from .patient_axes import axial_stack

# Planes are compared in batches of at most this many point pairs (bounds the memory to ~100 MB).
PAIRS_PER_BATCH = 4_000_000
PLANES_PER_BATCH = 16


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
    keep = np.r_[first[_reaches_farthest(x2[first], plane[first])], last[_reaches_farthest(-x2[last], plane[last])]]
    keep = np.unique(keep)
    return plane[keep], y2[keep], x2[keep]


def _reaches_farthest(x: np.ndarray, plane: np.ndarray) -> np.ndarray:
    """Row ends (sorted by plane, then row) that lie strictly left of every row before them in their plane, or of
    every row after them: test (b) of the module docstring, with running minima that restart at each plane."""
    offset = plane * (2 * int(np.abs(x).max()) + 2)  # larger than any difference of x: planes do not mix
    forward = x - offset
    backward = (x + offset)[::-1]
    before = np.r_[np.iinfo(np.int64).max, np.minimum.accumulate(forward)[:-1]]
    after = np.r_[np.iinfo(np.int64).max, np.minimum.accumulate(backward)[:-1]][::-1]
    return (forward < before) | (x + offset < after)


def longest_axial_diameter_mm(mask: sitk.Image) -> float:
    """Longest diameter (mm) in the patient's axial planes of a binary mask; 0 for an empty mask."""
    return axial_diameters_mm(mask)[0]


def axial_diameters_mm(mask: sitk.Image) -> tuple[float, float]:
    """(longest axial diameter, short axis) in mm of a binary mask; (0, 0) for an empty mask.

    The short axis is measured as RECIST 1.1 measures a lymph node's: in the plane of the longest axial diameter,
    the lesion's extent perpendicular to it (the distance between the two mesh vertices farthest apart along the
    perpendicular direction; for a convex cross-section, its longest chord perpendicular to the long axis). When
    several pairs of vertices reach the longest diameter (to 1e-12, relative), the largest of their short axes:
    the value does not depend on the order the voxels are stored in.
    """
    mask_zyx, x_spacing_mm, y_spacing_mm = axial_stack(mask)
    if not mask_zyx.any():
        return 0.0, 0.0
    plane, y2, x2 = _row_ends(mask_zyx)
    y_mm = y2 * (y_spacing_mm / 2.0)
    x_mm = x2 * (x_spacing_mm / 2.0)
    start = np.flatnonzero(np.r_[True, plane[1:] != plane[:-1]])
    count = np.diff(np.r_[start, len(plane)])
    by_size = np.argsort(-count, kind="stable")
    largest = 0.0
    ends: list[np.ndarray] = []  # (first, second) vertex indices of the pairs that may reach the longest diameter
    lo = 0
    while lo < len(by_size):
        # planes of similar size as the rows of one table; shorter planes repeat their last point
        width = int(count[by_size[lo]])
        batch = by_size[lo:lo + max(1, min(PLANES_PER_BATCH, PAIRS_PER_BATCH // (width * width)))]
        lo += len(batch)
        index = start[batch, None] + np.minimum(np.arange(width)[None, :], count[batch, None] - 1)
        ys, xs = y_mm[index], x_mm[index]
        dy = ys[:, :, None] - ys[:, None, :]
        dx = xs[:, :, None] - xs[:, None, :]
        squared = dy * dy + dx * dx
        top = float(squared.max())
        if top >= largest * (1 - TIE):
            k, i, j = np.nonzero(squared >= top * (1 - TIE))
            ends.append(np.stack([index[k, i], index[k, j]], axis=1))
            largest = max(largest, top)
    pairs = np.concatenate(ends)
    first, second = pairs[:, 0], pairs[:, 1]
    length = np.hypot(y_mm[second] - y_mm[first], x_mm[second] - x_mm[first])
    tied = length * length >= largest * (1 - TIE)
    short_axis = max((_extent_across(plane, y_mm, x_mm, a, b) for a, b in zip(first[tied], second[tied])),
                     default=0.0)
    return float(np.sqrt(largest)), short_axis


# Squared distances within this relative difference count as equal (mirror-image pairs differ in the last bits).
TIE = 1e-12


def _extent_across(plane: np.ndarray, y_mm: np.ndarray, x_mm: np.ndarray, first: int, second: int) -> float:
    """The extent (mm) of the vertices of ``first``'s plane perpendicular to the segment first-second; the extreme
    vertices along any direction are corners of the plane's hull, all among the candidates of _row_ends."""
    dy, dx = y_mm[second] - y_mm[first], x_mm[second] - x_mm[first]
    length = float(np.hypot(dy, dx))
    if length == 0.0:
        return 0.0
    in_plane = plane == plane[first]
    across = (y_mm[in_plane] * dx - x_mm[in_plane] * dy) / length
    return float(across.max() - across.min())
