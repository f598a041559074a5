"""IBSI conformance of the features (pyradiomics with absolute bin edges) and of the preprocessing.

Reference values: data/ibsi/ibsi_reference_values.csv beside this file (IBSI 1 reference manual, theibsi/ibsi-doc
commit b952e71), one row per feature, data set and aggregation. A value matches when
|computed - reference| <= tolerance; rows without a tolerance must agree to the 3 significant digits shown.
"""
from __future__ import annotations

import csv
import math
from pathlib import Path

import numpy as np
import pytest
import SimpleITK as sitk

from CD8RScoreLib.features import FAMILIES, FEATURES, Discretisation, compute_features
from CD8RScoreLib.voi import lesion_region, sample_region

IBSI_DIR = Path(__file__).resolve().parent / "data" / "ibsi"  # source and licences: README.md there
REFERENCE_CSV = IBSI_DIR / "ibsi_reference_values.csv"


def load_references(data: str) -> dict[tuple[str, str, str], tuple[float, float | None]]:
    """{(IBSI family, IBSI feature name, aggregation): (value, tolerance or None)} for one data set."""
    refs = {}
    with open(REFERENCE_CSV, newline="") as handle:
        for row in csv.DictReader(handle):
            if row["data"] != data or not row["value"].strip():  # a few config rows have no consensus value
                continue
            name = row["feature"].replace("\\ :sup:`th`", "th")
            tol = float(row["tol"]) if row["tol"].strip() else None
            refs[(row["family"], name, row["aggregation"] or "3D")] = (float(row["value"]), tol)
    return refs


def matches(computed: float, reference: float, tol: float | None) -> bool:
    if tol is not None:
        return abs(computed - reference) <= tol + 1e-12
    # no tolerance given: agreement to the 3 significant digits of the reference
    if reference == 0:
        return abs(computed) < 5e-4
    digits = 3 - int(math.floor(math.log10(abs(reference)))) - 1
    return round(computed, digits) == pytest.approx(reference, abs=0.5 * 10 ** -digits)


def reference_for(refs, key: str):
    info = FEATURES[key]
    return refs.get((info.ibsi_family, info.ibsi_name, info.ibsi_aggregation))


@pytest.fixture(scope="module")
def digital_phantom_features():
    image = sitk.Cast(sitk.ReadImage(str(IBSI_DIR / "digital_phantom" / "phantom.nii.gz")), sitk.sitkFloat32)
    mask = sitk.Cast(sitk.ReadImage(str(IBSI_DIR / "digital_phantom" / "mask.nii.gz")), sitk.sitkUInt8)
    # the phantom's grey levels are its values (1..6): bins of width 1 with edges at 0.5, 1.5, ...
    return compute_features(image, mask, FAMILIES, Discretisation(lower_bound=0.5, bin_width=1.0, n_bins=6))


DIGITAL_REFS = load_references("dig. phantom")


@pytest.mark.parametrize("key", sorted(FEATURES))
def test_digital_phantom_matches_ibsi_reference(digital_phantom_features, key):
    ref = reference_for(DIGITAL_REFS, key)
    assert ref is not None, f"{key}: no IBSI digital phantom reference for {FEATURES[key].ibsi_name!r}"
    value, tol = ref
    computed = digital_phantom_features[key]
    assert matches(computed, value, tol), f"{key} = {computed:.6g}, IBSI {value} ± {tol}"


@pytest.fixture(scope="module")
def ct_phantom_config_c():
    """IBSI configuration C with the product's own preprocessing: 2 mm isotropic trilinear on an aligned grid,
    intensities rounded, mask trilinear >= 0.5, re-segmentation [-1000, 400] HU, fixed bins of 25 HU from -1000."""
    image = sitk.Cast(sitk.ReadImage(str(IBSI_DIR / "ct_phantom" / "image.nii.gz")), sitk.sitkFloat32)
    mask = sitk.ReadImage(str(IBSI_DIR / "ct_phantom" / "mask.nii.gz"))
    region = lesion_region(image, mask, (2.0, 2.0, 2.0), 0.0)  # the whole image's grid, near the ROI
    values, core = sample_region(region)
    resampled = sitk.GetImageFromArray(values.astype(np.float32))
    roi = sitk.GetImageFromArray(core.astype(np.uint8))
    for part in (resampled, roi):
        part.SetSpacing((2.0, 2.0, 2.0))
    discretisation = Discretisation(lower_bound=-1000.0, bin_width=25.0, n_bins=56, out_of_range="exclude")
    return compute_features(resampled, roi, FAMILIES, discretisation)


CONFIG_C_REFS = load_references("config. C")


@pytest.mark.parametrize("key", sorted(FEATURES))
def test_ct_phantom_config_c_matches_ibsi_reference(ct_phantom_config_c, key):
    ref = reference_for(CONFIG_C_REFS, key)
    assert ref is not None, f"{key}: no IBSI config C reference for {FEATURES[key].ibsi_name!r}"
    value, tol = ref
    computed = ct_phantom_config_c[key]
    assert matches(computed, value, tol), f"{key} = {computed:.6g}, IBSI {value} ± {tol}"


def run_length_matrix_emphasis(levels: np.ndarray) -> tuple[float, float]:
    """LGRE and HGRE from an independent run-length count along the 13 directions of 3D, averaged.

    LGRE = sum_runs 1/i^2 / N_runs, HGRE = sum_runs i^2 / N_runs, per direction, then the mean over directions
    (IBSI 3D, averaged). ``levels``: grey levels, 0 outside the VOI.
    """
    directions = [(0, 0, 1), (0, 1, 0), (1, 0, 0), (0, 1, 1), (0, 1, -1), (1, 0, 1), (1, 0, -1), (1, 1, 0),
                  (1, -1, 0), (1, 1, 1), (1, 1, -1), (1, -1, 1), (1, -1, -1)]
    lgre, hgre = [], []
    shape = np.array(levels.shape)
    for d in directions:
        d = np.array(d)
        runs = []
        for start in np.argwhere(levels > 0):
            previous = start - d
            if (previous >= 0).all() and (previous < shape).all() and levels[tuple(previous)] == levels[tuple(start)]:
                continue  # not the first voxel of its run
            length, position = 0, start.copy()
            while (position >= 0).all() and (position < shape).all() and levels[tuple(position)] == levels[tuple(start)]:
                length += 1
                position += d
            runs.append(levels[tuple(start)])
        runs = np.array(runs, dtype=float)
        lgre.append(np.mean(1.0 / runs ** 2))
        hgre.append(np.mean(runs ** 2))
    return float(np.mean(lgre)), float(np.mean(hgre))


def test_hu_shift_of_one_bin_changes_lgre_and_hgre_as_absolute_grey_levels_predict():
    rng = np.random.default_rng(1)
    hu = rng.choice([15.0, 25.0, 45.0, 75.0], size=(6, 7, 8))  # bins 102, 103, 105, 108 of 10 HU from -1000
    image = sitk.GetImageFromArray(hu.astype(np.float32))
    mask = sitk.GetImageFromArray(np.ones(hu.shape, dtype=np.uint8))
    mask.CopyInformation(image)
    discretisation = Discretisation(lower_bound=-1000.0, bin_width=10.0, n_bins=400)
    before = compute_features(image, mask, ["glrlm"], discretisation)
    shifted = sitk.GetImageFromArray((hu + 10.0).astype(np.float32))
    after = compute_features(shifted, mask, ["glrlm"], discretisation)

    levels = discretisation.grey_levels(hu)
    lgre0, hgre0 = run_length_matrix_emphasis(levels)
    lgre1, hgre1 = run_length_matrix_emphasis(levels + 1)  # same runs, every grey level one higher
    assert before["glrlm_LowGrayLevelRunEmphasis"] == pytest.approx(lgre0, rel=1e-9)
    assert before["glrlm_HighGrayLevelRunEmphasis"] == pytest.approx(hgre0, rel=1e-9)
    assert after["glrlm_LowGrayLevelRunEmphasis"] == pytest.approx(lgre1, rel=1e-9)
    assert after["glrlm_HighGrayLevelRunEmphasis"] == pytest.approx(hgre1, rel=1e-9)
    # absolute grey levels ~ 104: one bin up raises HGRE by about 2/104 and lowers LGRE by about 2/104
    assert after["glrlm_HighGrayLevelRunEmphasis"] > before["glrlm_HighGrayLevelRunEmphasis"] * 1.015


def test_pyradiomics_default_binning_would_hide_the_shift():
    """The trap the fixed edges avoid: with pyradiomics' own edges (from the ROI minimum) a +10 HU shift of the
    whole lesion leaves LGRE unchanged, because grey level 1 follows the ROI's minimum."""
    from radiomics import glrlm

    rng = np.random.default_rng(1)
    hu = rng.choice([15.0, 25.0, 45.0, 75.0], size=(6, 7, 8))
    mask = sitk.GetImageFromArray(np.ones(hu.shape, dtype=np.uint8))
    values = []
    for offset in (0.0, 10.0):
        image = sitk.GetImageFromArray((hu + offset).astype(np.float32))
        mask.CopyInformation(image)
        extractor = glrlm.RadiomicsGLRLM(image, mask, binWidth=10, label=1)
        extractor.enableFeatureByName("LowGrayLevelRunEmphasis", True)
        values.append(float(extractor.execute()["LowGrayLevelRunEmphasis"]))
    assert values[0] == pytest.approx(values[1], rel=1e-12)
