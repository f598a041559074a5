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

    The short axis is measured as RECIST 1.1 measures a lymph node's: the longest diameter perpendicular to the long
    axis, i.e. in the plane of the longest axial diameter, the longest segment inside the lesion's cross-section
    (:func:`_cross_section_edges`) on a line perpendicular to it (:func:`_longest_chord_across`). This is not the
    lesion's whole extent across the long axis: a kite-shaped section is narrower on each perpendicular line than
    its extent. When several pairs of vertices reach the longest diameter (to 1e-12, relative), the largest of their
    short axes: the value does not depend on the order the voxels are stored in.
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
    sections: dict[int, np.ndarray] = {}
    short_axis = 0.0
    for a, b in {(min(a, b), max(a, b)) for a, b in zip(first[tied], second[tied])}:  # mirror pairs once
        if a == b:
            continue
        key = int(plane[a])
        if key not in sections:
            sections[key] = _cross_section_edges(mask_zyx, key, y_spacing_mm, x_spacing_mm)
        short_axis = max(short_axis, _longest_chord_across(sections[key], y_mm[b] - y_mm[a], x_mm[b] - x_mm[a]))
    return float(np.sqrt(largest)), short_axis


# Squared distances within this relative difference count as equal (mirror-image pairs differ in the last bits).
TIE = 1e-12
# The pairs of a marching-squares cell's edges (0 top, 1 right, 2 bottom, 3 left) a boundary segment can join: around
# the top-left, top-right, bottom-right and bottom-left corner, then straight across.
PIECE_EDGES = ((3, 0), (0, 1), (1, 2), (2, 3), (3, 1), (0, 2))


def _cross_section_edges(mask_zyx: np.ndarray, plane: int, y_spacing_mm: float, x_spacing_mm: float) -> np.ndarray:
    """The boundary of the lesion's cross-section in one mesh plane, as segments ((y0, x0), (y1, x1)) in mm.

    The section is the marching-squares region of the plane's field at level 1/2, the convention of the surface
    mesh whose vertices give the longest diameter: the field is the slice's mask (plane 2k, padded slice k) or the
    mean of the two slices' masks (plane 2k + 1, half-way between padded slices k and k + 1); a cell edge between
    an inside corner (field >= 1/2) and an outside one is crossed where the field, linear along the edge, is 1/2
    (its midpoint, or the inside corner itself when the field there is 1/2); a cell with two inside corners on a
    diagonal holds two separate pieces. Coordinates are those of the mesh vertices up to a shift (lengths only are
    used). Written here because no library in use gives marching squares (skimage is not a dependency).
    """
    def slice_of(padded_index: int) -> np.ndarray:
        k = padded_index - 1
        return mask_zyx[k] if 0 <= k < mask_zyx.shape[0] else np.zeros(mask_zyx.shape[1:], dtype=bool)

    field = (slice_of(plane // 2).astype(float) if plane % 2 == 0
             else (slice_of(plane // 2).astype(float) + slice_of(plane // 2 + 1)) / 2.0)
    rows, columns = np.nonzero(field)
    field = np.pad(field[rows.min():rows.max() + 1, columns.min():columns.max() + 1], 1)
    inside = field >= 0.5

    def crossing(f_a: np.ndarray, f_b: np.ndarray) -> np.ndarray:
        """Fraction of the way from corner a to corner b where the field is 1/2 (one of them inside, the other 0)."""
        with np.errstate(divide="ignore", invalid="ignore"):
            return np.where(f_a >= 0.5, (f_a - 0.5) / f_a, 1.0 - (f_b - 0.5) / f_b)

    i, j = np.indices(field.shape, dtype=float)
    # horizontal edges (i, j)-(i, j+1) and vertical edges (i, j)-(i+1, j): their crossing points (y, x) in voxels
    h_cross = inside[:, :-1] != inside[:, 1:]
    h_point = np.stack([i[:, :-1], j[:, :-1] + crossing(field[:, :-1], field[:, 1:])], axis=-1)
    v_cross = inside[:-1, :] != inside[1:, :]
    v_point = np.stack([i[:-1, :] + crossing(field[:-1, :], field[1:, :]), j[:-1, :]], axis=-1)
    # the edges of each cell (i, j): 0 top, 1 right, 2 bottom, 3 left
    cross = [h_cross[:-1, :], v_cross[:, 1:], h_cross[1:, :], v_cross[:, :-1]]
    point = [h_point[:-1, :], v_point[:, 1:], h_point[1:, :], v_point[:, :-1]]
    n_cross = sum(c.astype(int) for c in cross)
    top_left_inside = inside[:-1, :-1]
    pieces = [(n_cross == 2) & cross[a] & cross[b] for a, b in PIECE_EDGES]
    for k, (a, b) in enumerate(PIECE_EDGES[:4]):  # a saddle: the pieces around its two inside corners
        pieces[k] = pieces[k] | ((n_cross == 4) & (top_left_inside if (a, b) in ((3, 0), (1, 2))
                                                   else ~top_left_inside))
    segments = [np.stack([point[a][cells], point[b][cells]], axis=1) for (a, b), cells in zip(PIECE_EDGES, pieces)]
    edges = np.concatenate(segments)
    return edges * np.array([y_spacing_mm, x_spacing_mm])


def _longest_chord_across(edges: np.ndarray, dy: float, dx: float) -> float:
    """The longest segment (mm) inside a cross-section bounded by ``edges`` (closed loops) on a line perpendicular to
    the direction (dy, dx).

    With u along (dy, dx) and w across it, each line u = t meets the boundary in an even number of points; between
    two consecutive breakpoints (the u of the boundary's vertices) the same edges bound the same inside intervals,
    each of a length linear in t, so the longest is reached at a breakpoint: each interval is found at the midpoint
    of the breakpoints and measured at both, on its two edges' lines (the limit from either side: a line that only
    touches a corner of the section does not join two pieces).
    """
    length = float(np.hypot(dy, dx))
    if length == 0.0 or len(edges) == 0:
        return 0.0
    uy, ux = dy / length, dx / length
    u = edges[:, :, 0] * uy + edges[:, :, 1] * ux
    w = edges[:, :, 1] * uy - edges[:, :, 0] * ux
    crossing = u[:, 0] != u[:, 1]  # an edge along the line is crossed by no line
    u, w = u[crossing], w[crossing]
    order = np.argsort(u, axis=1)
    u, w = np.take_along_axis(u, order, 1), np.take_along_axis(w, order, 1)
    slope = (w[:, 1] - w[:, 0]) / (u[:, 1] - u[:, 0])
    breaks = np.unique(u)
    lo, hi = np.searchsorted(breaks, u[:, 0]), np.searchsorted(breaks, u[:, 1])
    spans = hi - lo
    edge = np.repeat(np.arange(len(u)), spans)
    gap = lo[edge] + np.arange(len(edge)) - np.repeat(np.cumsum(spans) - spans, spans)
    if len(edge) == 0:
        return 0.0

    def w_at(t: np.ndarray, e: np.ndarray) -> np.ndarray:
        return w[e, 0] + (t - u[e, 0]) * slope[e]

    middle = (breaks[gap] + breaks[gap + 1]) / 2.0
    order = np.lexsort((w_at(middle, edge), gap))
    # every line meets the closed boundary an even number of times: consecutive crossings pair up as (in, out)
    enter, leave = edge[order[0::2]], edge[order[1::2]]
    at = gap[order[0::2]]
    chords = [w_at(breaks[at + side], leave) - w_at(breaks[at + side], enter) for side in (0, 1)]
    return float(max(chords[0].max(), chords[1].max()))
