"""The longest axial diameter (RECIST 1.1, mm) equals pyradiomics' Maximum2DDiameterSlice to 1e-6 mm.

Reference: pyradiomics (bhklab fork) ``shape.RadiomicsShape(mask as float, mask, label=1)
.getMaximum2DDiameterSliceFeatureValue()``, computed here on the same mask: the all-pairs comparison of the
surface mesh's vertices that the lesion table reported before diameter.py.
"""
from __future__ import annotations

import logging
from pathlib import Path

import numpy as np
import pytest
import SimpleITK as sitk

from CD8RScoreLib.diameter import longest_axial_diameter_mm
from CD8RScoreLib.imageio import read_image, read_segmentation
from CD8RScoreLib.synthetic import ellipsoid_mask

SAMPLES = Path(__file__).resolve().parents[2] / "Resources" / "SampleData"
TOLERANCE_MM = 1e-6
ANISOTROPIC = [(0.7, 0.7, 5.0), (0.8, 0.8, 1.25), (0.6, 1.1, 2.5), (1.3, 0.45, 0.9)]


def pyradiomics_diameter_mm(mask: sitk.Image) -> float:
    from radiomics import shape

    logging.getLogger("radiomics").setLevel(logging.ERROR)
    return float(shape.RadiomicsShape(sitk.Cast(mask, sitk.sitkFloat32), mask, label=1)
                 .getMaximum2DDiameterSliceFeatureValue())


def as_mask(array_zyx: np.ndarray, spacing_xyz: tuple[float, float, float]) -> sitk.Image:
    mask = sitk.GetImageFromArray(array_zyx.astype(np.uint8))
    mask.SetSpacing(spacing_xyz)
    return mask


def ellipsoid(spacing, radii_mm=(11.0, 7.0, 9.0)) -> np.ndarray:
    field = [2 * r + 4 for r in radii_mm]
    shape = tuple(int(round(f / s)) for f, s in zip(reversed(field), reversed(spacing)))
    return ellipsoid_mask(shape, spacing, tuple(f / 2 for f in field), radii_mm)


def crescent(spacing) -> np.ndarray:
    """A concave lesion: an ellipsoid minus an overlapping one (its longest chord crosses the background)."""
    big = ellipsoid(spacing, (14.0, 10.0, 8.0))
    shape = big.shape
    bite = ellipsoid_mask(shape, spacing, (22.0, 12.0, 10.0), (9.0, 9.0, 9.0))
    return big & ~bite


def two_blobs_on_adjacent_slices(spacing) -> np.ndarray:
    """Two blobs that never share a slice: the farthest pair lies in the plane between their slices."""
    array = np.zeros((4, 30, 30), dtype=bool)
    array[1, 2:6, 2:6] = True
    array[2, 20:27, 21:28] = True
    return array


def oblique_bar(spacing) -> np.ndarray:
    """A one-voxel-thick diagonal bar with a staircase shift from slice to slice."""
    array = np.zeros((6, 40, 40), dtype=bool)
    for z in range(1, 5):
        for i in range(3, 35):
            array[z, i, min(39, i + z)] = True
    return array


SHAPES = {"ellipsoid": ellipsoid, "crescent": crescent, "two_blobs": two_blobs_on_adjacent_slices,
          "oblique_bar": oblique_bar}


@pytest.mark.parametrize("name", ["lung1", "lung2"])
def test_diameter_equals_pyradiomics_on_real_lung_lesions(name):
    image, _ = read_image(SAMPLES / f"{name}_crop_image.nrrd")
    for segment in read_segmentation(SAMPLES / f"{name}_crop_label.nrrd", image):
        expected = pyradiomics_diameter_mm(segment.mask)
        assert expected > 10.0  # real lesions of a few cm
        assert longest_axial_diameter_mm(segment.mask) == pytest.approx(expected, abs=TOLERANCE_MM)


@pytest.mark.parametrize("spacing", ANISOTROPIC)
@pytest.mark.parametrize("shape", sorted(SHAPES))
def test_diameter_equals_pyradiomics_on_synthetic_shapes(shape, spacing):
    mask = as_mask(SHAPES[shape](spacing), spacing)
    assert longest_axial_diameter_mm(mask) == pytest.approx(pyradiomics_diameter_mm(mask), abs=TOLERANCE_MM)


def test_diameter_equals_pyradiomics_on_random_masks():
    """Small random masks (holes, islands, lines, single voxels) at random anisotropic spacings, seed 7."""
    rng = np.random.default_rng(7)
    for _ in range(150):
        array = rng.random(tuple(rng.integers(1, 10, 3))) < rng.uniform(0.05, 0.9)
        if not array.any():
            continue
        mask = as_mask(array, tuple(float(s) for s in rng.uniform(0.3, 5.0, 3)))
        assert longest_axial_diameter_mm(mask) == pytest.approx(pyradiomics_diameter_mm(mask), abs=TOLERANCE_MM)


def test_single_voxel_and_square_diameters_are_the_analytic_values():
    # one voxel of 0.8 x 0.6 mm: the mesh's in-slice vertices are its edge midpoints, 0.8 mm apart in x;
    # the planes above and below hold its centre only.
    assert longest_axial_diameter_mm(as_mask(np.ones((1, 1, 1)), (0.8, 0.6, 3.0))) == pytest.approx(0.8)
    # a 10 x 10 voxel square of 1 mm voxels: the farthest edge midpoints are (0.5, 0) and (9.5, 10) mm apart
    square = np.zeros((1, 12, 12), dtype=bool)
    square[0, 1:11, 1:11] = True
    assert longest_axial_diameter_mm(as_mask(square, (1.0, 1.0, 2.0))) == pytest.approx(np.hypot(9.0, 10.0))


def test_empty_mask_has_no_diameter():
    assert longest_axial_diameter_mm(as_mask(np.zeros((3, 4, 5)), (1.0, 1.0, 1.0))) == 0.0


@pytest.mark.parametrize("order", [(2, 0, 1), (1, 2, 0), (0, 2, 1)])
@pytest.mark.parametrize("flip", [(False, False, False), (True, False, True)])
def test_diameter_is_measured_in_the_patients_axial_plane_whatever_the_storage_order(order, flip):
    """The same lesion stored with permuted and flipped axes (a valid direction matrix, same physical voxels) has
    the same longest axial diameter, and the slice thickness is the head-foot spacing."""
    from CD8RScoreLib.patient_axes import slice_spacing_mm

    spacing = (0.8, 0.8, 2.5)
    plain = as_mask(crescent(spacing), spacing)
    stored = sitk.Flip(sitk.PermuteAxes(plain, order), flip)
    centre = np.mean([plain.TransformIndexToPhysicalPoint(tuple(int(i) for i in p[::-1]))
                      for p in np.argwhere(sitk.GetArrayViewFromImage(plain))], axis=0)
    centre_stored = np.mean([stored.TransformIndexToPhysicalPoint(tuple(int(i) for i in p[::-1]))
                             for p in np.argwhere(sitk.GetArrayViewFromImage(stored))], axis=0)
    np.testing.assert_allclose(centre_stored, centre, atol=1e-9)  # the same lesion in the patient
    assert stored.GetSpacing() != plain.GetSpacing() or order == (0, 1, 2)
    assert longest_axial_diameter_mm(stored) == pytest.approx(longest_axial_diameter_mm(plain), abs=TOLERANCE_MM)
    assert slice_spacing_mm(stored) == 2.5


# --- the short axis (RECIST 1.1: lymph nodes) ---------------------------------------------------------------------

def mesh_planes_mm(array_zyx: np.ndarray, spacing) -> dict[float, np.ndarray]:
    """Every vertex of the surface mesh (x, y in mm) by plane (z in half-slice units), built voxel by voxel in
    plain Python: the midpoints of in-slice edges between lesion and background, and the centres of the voxels
    that differ between two slices (the mask padded by one empty voxel)."""
    a = np.pad(array_zyx.astype(bool), 1)
    planes: dict[float, list] = {}
    for k in range(a.shape[0]):
        for y in range(a.shape[1]):
            for x in range(a.shape[2]):
                if x + 1 < a.shape[2] and a[k, y, x] != a[k, y, x + 1]:
                    planes.setdefault(k, []).append(((x + 0.5) * spacing[0], y * spacing[1]))
                if y + 1 < a.shape[1] and a[k, y, x] != a[k, y + 1, x]:
                    planes.setdefault(k, []).append((x * spacing[0], (y + 0.5) * spacing[1]))
                if k + 1 < a.shape[0] and a[k, y, x] != a[k + 1, y, x]:
                    planes.setdefault(k + 0.5, []).append((x * spacing[0], y * spacing[1]))
    return {k: np.array(v) for k, v in planes.items()}


def section_pieces_mm(array_zyx: np.ndarray, spacing, plane: float) -> list[np.ndarray]:
    """The lesion's cross-section in one mesh plane as convex pieces (corners x, y in mm), built cell by cell in
    plain Python: marching squares at level 1/2 of the slice's mask (plane k) or of the mean of two slices' masks
    (plane k + 0.5), each cell's piece being its inside corners (field >= 1/2) and the points of its edges where the
    field, linear along the edge, is 1/2; a cell with two inside corners on a diagonal holds two triangles."""
    a = np.pad(array_zyx.astype(float), 1)
    k = int(plane)
    field = a[k] if plane == k else (a[k] + a[k + 1]) / 2
    pieces = []
    for y in range(field.shape[0] - 1):
        for x in range(field.shape[1] - 1):
            corners = [(x, y), (x + 1, y), (x + 1, y + 1), (x, y + 1)]  # clockwise on the screen
            values = [field[c[1], c[0]] for c in corners]
            ins = [v >= 0.5 for v in values]
            if not any(ins):
                continue
            ring = []  # corners and edge crossings around the cell
            for c in range(4):
                d = (c + 1) % 4
                ring.append((c, ins[c], corners[c]))
                if ins[c] != ins[d]:
                    f_in, p_in, p_out = (values[c], corners[c], corners[d]) if ins[c] else (values[d], corners[d],
                                                                                          corners[c])
                    t = (f_in - 0.5) / f_in
                    ring.append((None, True, (p_in[0] + t * (p_out[0] - p_in[0]), p_in[1] + t * (p_out[1] - p_in[1]))))
            if ins == [True, False, True, False] or ins == [False, True, False, True]:
                for c in (i for i in range(4) if ins[i]):  # the triangle around each inside corner
                    at = next(n for n, r in enumerate(ring) if r[0] == c)
                    pieces.append([ring[at - 1][2], ring[at][2], ring[(at + 1) % len(ring)][2]])
            else:
                pieces.append([r[2] for r in ring if r[1]])
    return [np.array(p, dtype=float) * np.array(spacing[:2]) for p in pieces]


def longest_chord_mm(pieces: list[np.ndarray], direction: np.ndarray, offsets: np.ndarray) -> float:
    """The longest segment inside the union of the pieces on the lines perpendicular to ``direction`` at the given
    offsets along it: each convex piece cut by a line gives an interval; overlapping or touching intervals join."""
    normal = np.array([-direction[1], direction[0]])
    piece = np.concatenate([np.full(len(p), n) for n, p in enumerate(pieces)])
    start = np.concatenate(pieces)
    end = np.concatenate([np.roll(p, -1, axis=0) for p in pieces])
    u0, u1, w0, w1 = start @ direction, end @ direction, start @ normal, end @ normal
    best = 0.0
    for t in offsets:
        cut = (np.minimum(u0, u1) <= t) & (t <= np.maximum(u0, u1)) & (u0 != u1)
        w = w0[cut] + (t - u0[cut]) * (w1[cut] - w0[cut]) / (u1[cut] - u0[cut])
        lo, hi = np.full(len(pieces), np.inf), np.full(len(pieces), -np.inf)
        np.minimum.at(lo, piece[cut], w)
        np.maximum.at(hi, piece[cut], w)
        run = None
        for a, b in sorted(zip(lo[lo <= hi], hi[lo <= hi])):
            run = (a, b) if run is None or a > run[1] + 1e-12 else (run[0], max(run[1], b))
            best = max(best, run[1] - run[0])
    return best


def brute_force_short_axis_mm(array_zyx: np.ndarray, spacing) -> tuple[float, float]:
    """The longest axial diameter from every pair of every plane's vertices, and the short axis: over the pairs that
    reach it (several can tie), the largest longest chord of the plane's cross-section perpendicular to the pair,
    on lines just either side of every corner of the section's pieces (the chord is linear between them)."""
    planes = mesh_planes_mm(array_zyx, spacing)
    pairs = []
    for plane, points in planes.items():
        d = np.sqrt(((points[:, None, :] - points[None, :, :]) ** 2).sum(-1))
        pairs += [(d[i, j], plane, points[i], points[j]) for i, j in zip(*np.nonzero(d >= d.max() - 1e-9))]
    longest = max(p[0] for p in pairs)
    chords = [0.0]
    for length, plane, first, second in pairs:
        if length >= longest - 1e-9 and length > 0:
            direction = (second - first) / length
            pieces = section_pieces_mm(array_zyx, spacing, plane)
            corners = np.unique(np.concatenate(pieces) @ direction)
            chords.append(longest_chord_mm(pieces, direction, np.r_[corners - 1e-7, corners + 1e-7]))
    return float(longest), max(chords)


def test_short_axis_of_an_ellipsoid_is_its_second_axis():
    """Axes 22 x 14 x 18 mm at 0.5 mm pixels: the mesh vertices lie half a voxel outside the outermost voxel centres,
    so the long and short axes are 22.5 and 14.5 mm exactly; at 5 mm slices the same to within one pixel."""
    from CD8RScoreLib.diameter import axial_diameters_mm

    spacing = (0.5, 0.5, 1.0)
    assert axial_diameters_mm(as_mask(ellipsoid(spacing), spacing)) == pytest.approx((22.5, 14.5), abs=1e-9)
    spacing = (0.7, 0.7, 5.0)
    long_axis, short_axis = axial_diameters_mm(as_mask(ellipsoid(spacing), spacing))
    assert long_axis == pytest.approx(22.0, abs=0.7) and short_axis == pytest.approx(14.0, abs=0.7)


@pytest.mark.parametrize("angle_deg", [0.0, 30.0, 63.0])
def test_short_axis_of_an_ellipse_turned_in_plane_is_perpendicular_to_its_long_axis(angle_deg):
    """An elliptical cylinder of axes 30 x 12 mm turned by an angle in the axial plane (0.4 mm pixels): the short
    axis is the 12 mm axis (plus at most a pixel of staircase), not the lesion's extent along y."""
    from CD8RScoreLib.diameter import axial_diameters_mm

    z, y, x = np.ogrid[:5, :100, :100]
    turn = np.radians(angle_deg)
    u = (x * 0.4 - 20.0) * np.cos(turn) + (y * 0.4 - 20.0) * np.sin(turn)
    v = -(x * 0.4 - 20.0) * np.sin(turn) + (y * 0.4 - 20.0) * np.cos(turn)
    array = np.broadcast_to((u / 15.0) ** 2 + (v / 6.0) ** 2 <= 1.0, (5, 100, 100)).copy()
    array[[0, 4]] = False
    long_axis, short_axis = axial_diameters_mm(as_mask(array, (0.4, 0.4, 2.0)))
    assert long_axis == pytest.approx(30.0, abs=0.6)
    assert short_axis == pytest.approx(12.0, abs=0.6)


def test_short_axis_of_a_kite_is_its_longest_perpendicular_chord_not_its_extent():
    """The convex quadrilateral (0, 0), (8, -3), (10, 0), (2, 3) mm (0.05 mm pixels): long axis 10 mm along y = 0;
    across it the section reaches from y = -3 to y = 3 (6 mm), but the longest chord perpendicular to the long axis,
    RECIST 1.1's short axis, is 3.75 mm (at x = 2 and x = 8: from -0.75 to 3, and from -3 to 0.75)."""
    from CD8RScoreLib.diameter import axial_diameters_mm

    pixel = 0.05
    y, x = np.mgrid[-4:4:pixel, -1:11:pixel] + pixel / 2
    corners = [(0, 0), (8, -3), (10, 0), (2, 3)]
    kite = np.ones(x.shape, dtype=bool)
    for (x0, y0), (x1, y1) in zip(corners, corners[1:] + corners[:1]):  # left of every edge, counter-clockwise
        kite &= (x1 - x0) * (y - y0) - (y1 - y0) * (x - x0) >= 0
    array = np.zeros((3, *kite.shape), dtype=bool)
    array[1] = kite
    long_axis, short_axis = axial_diameters_mm(as_mask(array, (pixel, pixel, 2.0)))
    assert long_axis == pytest.approx(10.0, abs=pixel)
    assert short_axis == pytest.approx(3.75, abs=pixel)


def test_short_axis_of_an_l_shaped_section_stays_inside_the_lesion():
    """An L of two 1 mm-thick bars, 20 mm along x and 12 mm along y from the same corner: the long axis joins the
    bars' far ends; every line perpendicular to it crosses the 1 mm-thick bars only near the corner (longest chord
    1.9 mm), where the L's whole extent across the long axis is 11.1 mm."""
    from CD8RScoreLib.diameter import axial_diameters_mm

    array = np.zeros((3, 16, 24), dtype=bool)
    array[1, 14, 2:22] = True  # the bar along x: 20 voxels of 1 mm
    array[1, 2:15, 2] = True  # the bar along y: 13 voxels
    long_axis, short_axis = axial_diameters_mm(as_mask(array, (1.0, 1.0, 2.0)))
    expected_long, expected_short = brute_force_short_axis_mm(array, (1.0, 1.0, 2.0))
    assert long_axis == pytest.approx(expected_long, abs=TOLERANCE_MM)
    assert short_axis == pytest.approx(expected_short, abs=TOLERANCE_MM)
    assert short_axis < 4.0


def test_short_axis_equals_the_brute_force_over_every_mesh_vertex():
    """Random small masks (seed 11) and the crescent: the same long axis as the all-pairs search and the same short
    axis as the chord search over every cell's piece of the section."""
    from CD8RScoreLib.diameter import axial_diameters_mm

    rng = np.random.default_rng(11)
    cases = [(crescent((0.8, 0.8, 2.5)), (0.8, 0.8, 2.5))]
    for _ in range(60):
        array = rng.random(tuple(rng.integers(1, 8, 3))) < rng.uniform(0.1, 0.9)
        if array.any():
            cases.append((array, tuple(float(s) for s in rng.uniform(0.3, 3.0, 3))))
    for array, spacing in cases:
        long_axis, short_axis = axial_diameters_mm(as_mask(array, spacing))
        expected_long, expected_short = brute_force_short_axis_mm(array, spacing)
        assert long_axis == pytest.approx(expected_long, abs=TOLERANCE_MM)
        assert short_axis == pytest.approx(expected_short, abs=TOLERANCE_MM)


@pytest.mark.parametrize("name", ["lung1", "lung2"])
def test_short_axis_of_the_sample_lesions_is_perpendicular_and_shorter(name):
    """Real lung lesions: the short axis is at most the long axis and equals the brute force on the lesion."""
    from CD8RScoreLib.diameter import axial_diameters_mm

    image, _ = read_image(SAMPLES / f"{name}_crop_image.nrrd")
    for segment in read_segmentation(SAMPLES / f"{name}_crop_label.nrrd", image):
        array = sitk.GetArrayFromImage(segment.mask).astype(bool)
        long_axis, short_axis = axial_diameters_mm(segment.mask)
        expected_long, expected_short = brute_force_short_axis_mm(array, segment.mask.GetSpacing())
        assert long_axis == pytest.approx(expected_long, abs=TOLERANCE_MM)
        assert short_axis == pytest.approx(expected_short, abs=TOLERANCE_MM)
        assert 10.0 < short_axis <= long_axis


@pytest.mark.parametrize("order", [(2, 0, 1), (1, 2, 0), (0, 2, 1)])
def test_short_axis_is_measured_in_the_patients_axial_plane_whatever_the_storage_order(order):
    from CD8RScoreLib.diameter import axial_diameters_mm

    spacing = (0.8, 0.8, 2.5)
    plain = as_mask(ellipsoid(spacing), spacing)
    from CD8RScoreLib.scoring import ct_geometry

    stored = sitk.Flip(sitk.PermuteAxes(plain, order), (True, False, True))
    assert axial_diameters_mm(stored) == pytest.approx(axial_diameters_mm(plain), abs=TOLERANCE_MM)
    assert ct_geometry(stored) == ct_geometry(plain) == {"slice_thickness_mm": 2.5, "pixel_spacing_mm": 0.8}
