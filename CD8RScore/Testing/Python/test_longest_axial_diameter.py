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
