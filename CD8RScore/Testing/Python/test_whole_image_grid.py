"""The whole image's IBSI grid (DESIGN §2 step 1): every lesion's features equal those of a whole-image IBSI pipeline
(mirp, IBSI-validated, on the whole CT with the same settings) to 1e-6 relative, and a lesion's core does not depend
on its crop, its bounding box, or the other lesions.

Reference values: mirp_reference/mirp_whole_image_features.json, written by mirp_reference/compute_mirp_reference.py
(mirp 2.7.0 in its own virtual environment; the exact mirp call and settings are in that script and in the JSON).
Cases: the two real lung CTs of Resources/SampleData (whole images as shipped) and three lesions of a synthetic CT
(mirp_reference/make_synthetic_case.py), each lesion's core (mirp's resampled mask) and ring (built on mirp's
resampled mask, DESIGN §2 step 2, given to mirp as a separate mask).
"""
from __future__ import annotations

import json
import math
from fractions import Fraction
from pathlib import Path

import numpy as np
import pytest
import SimpleITK as sitk

from CD8RScoreLib.features import FAMILIES, FEATURES, Discretisation, compute_features
from CD8RScoreLib.imageio import read_image, read_segmentation
from CD8RScoreLib.voi import build_vois, lesion_region, sample_region

HERE = Path(__file__).resolve().parent
MODULE_DIR = HERE.parents[1]  # CD8RScore/
REFERENCE = json.loads((HERE / "mirp_reference" / "mirp_whole_image_features.json").read_text())
ONE_MM = (1.0, 1.0, 1.0)
RING_MM = 2.0
DISCRETISATION = Discretisation(lower_bound=-1000.0, bin_width=10.0, n_bins=400, out_of_range="clip")
RELATIVE_TOLERANCE = 1e-6
# mirp reads images as float32 (mirp/_data_import/itk_file.py) and sums third powers in float32: its skewness is off
# the exact value by up to 1.4e-6 relative on these lesions (ours: 1e-13, checked in exact rational arithmetic by
# test_skewness_equals_exact_rational_arithmetic). Every other feature is held to RELATIVE_TOLERANCE.
MIRP_FLOAT32_TOLERANCE = {"firstorder_Skewness": 5e-6}

# catalogue key -> mirp's IBSI feature tag (without its "_d1_3d_avg_fbs_w10.0"-style suffix)
MIRP_TAG = {
    "firstorder_Minimum": "stat_min", "firstorder_Maximum": "stat_max", "firstorder_Mean": "stat_mean",
    "firstorder_Median": "stat_median", "firstorder_10Percentile": "stat_p10", "firstorder_90Percentile": "stat_p90",
    "firstorder_InterquartileRange": "stat_iqr", "firstorder_Range": "stat_range",
    "firstorder_MeanAbsoluteDeviation": "stat_mad", "firstorder_RobustMeanAbsoluteDeviation": "stat_rmad",
    "firstorder_Variance": "stat_var", "firstorder_Skewness": "stat_skew", "firstorder_Energy": "stat_energy",
    "firstorder_RootMeanSquared": "stat_rms", "firstorder_Entropy": "ih_entropy",
    "firstorder_Uniformity": "ih_uniformity",
    "glcm_MaximumProbability": "cm_joint_max", "glcm_JointAverage": "cm_joint_avg", "glcm_SumSquares": "cm_joint_var",
    "glcm_JointEntropy": "cm_joint_entr", "glcm_DifferenceAverage": "cm_diff_avg",
    "glcm_DifferenceVariance": "cm_diff_var", "glcm_DifferenceEntropy": "cm_diff_entr",
    "glcm_SumAverage": "cm_sum_avg", "glcm_ClusterTendency": "cm_sum_var", "glcm_SumEntropy": "cm_sum_entr",
    "glcm_JointEnergy": "cm_energy", "glcm_Contrast": "cm_contrast", "glcm_Id": "cm_inv_diff",
    "glcm_Idn": "cm_inv_diff_norm", "glcm_Idm": "cm_inv_diff_mom", "glcm_Idmn": "cm_inv_diff_mom_norm",
    "glcm_InverseVariance": "cm_inv_var", "glcm_Correlation": "cm_corr", "glcm_Autocorrelation": "cm_auto_corr",
    "glcm_ClusterShade": "cm_clust_shade", "glcm_ClusterProminence": "cm_clust_prom", "glcm_Imc1": "cm_info_corr1",
    "glcm_Imc2": "cm_info_corr2",
    "glrlm_ShortRunEmphasis": "rlm_sre", "glrlm_LongRunEmphasis": "rlm_lre", "glrlm_LowGrayLevelRunEmphasis": "rlm_lgre",
    "glrlm_HighGrayLevelRunEmphasis": "rlm_hgre", "glrlm_ShortRunLowGrayLevelEmphasis": "rlm_srlge",
    "glrlm_ShortRunHighGrayLevelEmphasis": "rlm_srhge", "glrlm_LongRunLowGrayLevelEmphasis": "rlm_lrlge",
    "glrlm_LongRunHighGrayLevelEmphasis": "rlm_lrhge", "glrlm_GrayLevelNonUniformity": "rlm_glnu",
    "glrlm_GrayLevelNonUniformityNormalized": "rlm_glnu_norm", "glrlm_RunLengthNonUniformity": "rlm_rlnu",
    "glrlm_RunLengthNonUniformityNormalized": "rlm_rlnu_norm", "glrlm_RunPercentage": "rlm_r_perc",
    "glrlm_GrayLevelVariance": "rlm_gl_var", "glrlm_RunVariance": "rlm_rl_var", "glrlm_RunEntropy": "rlm_rl_entr",
    "glszm_SmallAreaEmphasis": "szm_sze", "glszm_LargeAreaEmphasis": "szm_lze",
    "glszm_LowGrayLevelZoneEmphasis": "szm_lgze", "glszm_HighGrayLevelZoneEmphasis": "szm_hgze",
    "glszm_SmallAreaLowGrayLevelEmphasis": "szm_szlge", "glszm_SmallAreaHighGrayLevelEmphasis": "szm_szhge",
    "glszm_LargeAreaLowGrayLevelEmphasis": "szm_lzlge", "glszm_LargeAreaHighGrayLevelEmphasis": "szm_lzhge",
    "glszm_GrayLevelNonUniformity": "szm_glnu", "glszm_GrayLevelNonUniformityNormalized": "szm_glnu_norm",
    "glszm_SizeZoneNonUniformity": "szm_zsnu", "glszm_SizeZoneNonUniformityNormalized": "szm_zsnu_norm",
    "glszm_ZonePercentage": "szm_z_perc", "glszm_GrayLevelVariance": "szm_gl_var", "glszm_ZoneVariance": "szm_zs_var",
    "glszm_ZoneEntropy": "szm_zs_entr",
    "ngtdm_Coarseness": "ngt_coarseness", "ngtdm_Contrast": "ngt_contrast", "ngtdm_Busyness": "ngt_busyness",
    "ngtdm_Complexity": "ngt_complexity", "ngtdm_Strength": "ngt_strength",
}
FAMILY_SUFFIX = {"stat": "", "ih": "_fbs_w10.0", "cm": "_d1_3d_avg_fbs_w10.0", "rlm": "_3d_avg_fbs_w10.0",
                 "szm": "_3d_fbs_w10.0", "ngt": "_3d_fbs_w10.0"}


def mirp_value(values: dict, key: str) -> float:
    tag = MIRP_TAG[key]
    return values[tag + FAMILY_SUFFIX[tag.split("_", 1)[0]]]


def lesion_inputs(name: str) -> tuple[sitk.Image, sitk.Image]:
    """The CT and the lesion mask the reference used, read as the product reads them."""
    case = REFERENCE["lesions"][name]
    image, _ = read_image(MODULE_DIR / case["image"])
    masks = read_segmentation(MODULE_DIR / case["mask"], image)
    assert len(masks) == 1
    return image, masks[0].mask


@pytest.fixture(scope="module")
def project_features() -> dict:
    """{lesion: (core voxels, ring voxels, {voi: features})} of the product's pipeline."""
    out = {}
    for name in REFERENCE["lesions"]:
        image, mask = lesion_inputs(name)
        vois = build_vois(image, mask, ONE_MM, RING_MM, RING_MM)
        features = {voi: compute_features(vois.image, getattr(vois, voi), FAMILIES, DISCRETISATION)
                    for voi in ("core", "ring")}
        out[name] = (vois.core_voxels, vois.ring_voxels, features)
    return out


def test_reference_covers_every_catalogue_feature_of_real_and_synthetic_lesions():
    assert set(MIRP_TAG) == set(FEATURES)
    assert {"lung1", "lung2"} <= set(REFERENCE["lesions"]) and len(REFERENCE["lesions"]) == 5
    assert REFERENCE["mirp_settings"]["new_spacing"] == 1.0 and not REFERENCE["mirp_settings"]["crop_around_roi"]


@pytest.mark.parametrize("name", sorted(REFERENCE["lesions"]))
def test_core_and_ring_voxels_equal_mirp_whole_image(project_features, name):
    core_voxels, ring_voxels, _ = project_features[name]
    assert (core_voxels, ring_voxels) == (REFERENCE["lesions"][name]["core_voxels"],
                                          REFERENCE["lesions"][name]["ring_voxels"])


@pytest.mark.parametrize("voi", ["core", "ring"])
@pytest.mark.parametrize("name", sorted(REFERENCE["lesions"]))
def test_every_feature_equals_mirp_whole_image_to_1e6_relative(project_features, name, voi):
    ours = project_features[name][2][voi]
    reference = REFERENCE["lesions"][name][voi]
    worse = []
    for key in sorted(FEATURES):
        expected, got = mirp_value(reference, key), ours[key]
        tolerance = MIRP_FLOAT32_TOLERANCE.get(key, RELATIVE_TOLERANCE)
        if not math.isclose(got, expected, rel_tol=tolerance, abs_tol=1e-12):
            worse.append(f"{key}: {got!r} vs mirp {expected!r}")
    assert not worse, f"{len(worse)} of {len(FEATURES)} differ: " + "; ".join(worse)


@pytest.mark.parametrize("name", ["lung1", "synthetic_1", "synthetic_2", "synthetic_3"])
def test_skewness_equals_exact_rational_arithmetic(project_features, name):
    image, mask = lesion_inputs(name)
    vois = build_vois(image, mask, ONE_MM, RING_MM, RING_MM)
    hu = sitk.GetArrayFromImage(vois.image)[sitk.GetArrayFromImage(vois.core) > 0]
    assert np.array_equal(hu, np.round(hu))  # integers: exact as Fractions
    values = [Fraction(int(v)) for v in hu]
    mean = sum(values) / len(values)
    m2 = sum((v - mean) ** 2 for v in values) / len(values)
    m3 = sum((v - mean) ** 3 for v in values) / len(values)
    exact = float(m3) / float(m2) ** 1.5
    assert project_features[name][2]["core"]["firstorder_Skewness"] == pytest.approx(exact, rel=1e-12)


def test_lesion_features_do_not_depend_on_the_mask_extent_or_other_lesions():
    # the synthetic lesions read from the label map of all three (each mask cut to its own box) equal the reference,
    # which was computed from one whole-image mask per lesion
    image, _ = read_image(HERE / "mirp_reference" / "synthetic_image.nrrd")
    for segment in read_segmentation(HERE / "mirp_reference" / "synthetic_label.nrrd", image):
        name = f"synthetic_{segment.lesion_id}"
        vois = build_vois(image, segment.mask, ONE_MM, RING_MM, RING_MM)
        core = compute_features(vois.image, vois.core, ["glszm"], DISCRETISATION)
        assert vois.core_voxels == REFERENCE["lesions"][name]["core_voxels"]
        for key, value in core.items():
            assert value == pytest.approx(mirp_value(REFERENCE["lesions"][name]["core"], key), rel=RELATIVE_TOLERANCE)


def test_block_margin_does_not_change_the_lesion_voxels():
    # the same lesion sampled on a block 7 mm wider: identical HU and core on the common voxels
    image, mask = lesion_inputs("lung1")
    narrow = lesion_region(image, mask, ONE_MM, 3.0)
    wide = lesion_region(image, mask, ONE_MM, 10.0)
    hu_narrow, core_narrow = sample_region(narrow)
    hu_wide, core_wide = sample_region(wide)
    offset = (narrow.block_start - wide.block_start)[::-1]
    window = tuple(slice(o, o + n) for o, n in zip(offset, hu_narrow.shape))
    np.testing.assert_array_equal(hu_wide[window], hu_narrow)
    np.testing.assert_array_equal(core_wide[window], core_narrow)
    assert core_wide.sum() == core_narrow.sum()


def core_on_whole_grid(image: sitk.Image, mask: sitk.Image) -> dict[tuple[int, int, int], bool]:
    """{whole-grid index (x, y, z): True} of the lesion's core voxels."""
    region = lesion_region(image, mask, ONE_MM, RING_MM + 1.0)
    _, core = sample_region(region)
    return {tuple(int(v) for v in region.block_start + index[::-1]): True for index in np.argwhere(core)}


@pytest.mark.parametrize("edit", ["add", "remove"])
def test_one_voxel_edit_changes_the_core_only_where_the_voxel_reaches_after_interpolation(edit):
    # lung1 (0.57 x 0.57 x 5 mm): adding a voxel just beyond the lesion's largest x, or removing the voxel at its
    # largest x, moves its bounding box. The core may change only at new voxels whose trilinear stencil holds the
    # edited voxel (original continuous index within one voxel of it), and only in the edit's direction: the rest of
    # the lesion keeps its voxels exactly (a grid that followed the bounding box would move them all).
    image, mask = lesion_inputs("lung1")
    array = sitk.GetArrayFromImage(mask)  # the mask as read: a sub-grid of the CT cut to the lesion's box
    z, y, x = max(np.argwhere(array), key=lambda zyx: (zyx[2], -abs(zyx[0] - array.shape[0] // 2)))
    assert x == array.shape[2] - 1
    if edit == "add":
        array = np.pad(array, ((0, 0), (0, 0), (0, 1)))
        voxel_zyx = (z, y, x + 1)
        array[voxel_zyx] = 1
    else:
        voxel_zyx = (z, y, x)
        array[voxel_zyx] = 0
    edited = sitk.GetImageFromArray(array)
    edited.SetSpacing(mask.GetSpacing())
    edited.SetOrigin(mask.GetOrigin())
    edited.SetDirection(mask.GetDirection())
    before, after = core_on_whole_grid(image, mask), core_on_whole_grid(image, edited)
    changed = set(before) ^ set(after)
    assert (set(after) >= set(before)) if edit == "add" else (set(after) <= set(before))
    offset = np.round(image.TransformPhysicalPointToContinuousIndex(mask.GetOrigin())).astype(int)
    voxel_xyz = offset + np.array(voxel_zyx[::-1])
    grid = lesion_region(image, mask, ONE_MM, 1.0).grid
    for index in changed:
        original = np.array(grid.first_index) + np.array(index) * np.array(grid.step)
        assert (np.abs(original - voxel_xyz) < 1.0).all(), (index, original, voxel_xyz)
    if edit == "add":
        assert changed, "the added voxel reaches one 1 mm voxel of this lesion's core"


def test_signature_names_its_grid_rule_and_another_rule_is_scored_with_a_warning(tmp_path):
    from CD8RScoreLib.errors import InputError
    from CD8RScoreLib.scoring import KvpInfo, LesionInput, score_lesions
    from CD8RScoreLib.signature import GRID_RULE, default_signature_path, load_signature, parse_signature

    document = json.loads(default_signature_path().read_text())
    assert document["preprocessing"]["grid"] == GRID_RULE == "whole_image_ibsi"
    assert load_signature().grid_warning() is None
    image, mask = lesion_inputs("synthetic_1")
    lesion = [LesionInput("1", "lesion 1", mask, "liver")]
    kvp = KvpInfo(120.0, "user")
    row = score_lesions(image, lesion, load_signature(), kvp, "P", "E0")[0]
    assert "grid" not in row["warnings"]
    for grid, said in (("lesion_crop_ibsi", "fitted on the 'lesion_crop_ibsi' grid"),
                       (None, "fitted on a grid it does not name")):
        if grid is None:
            del document["preprocessing"]["grid"]
        else:
            document["preprocessing"]["grid"] = grid
        row = score_lesions(image, lesion, parse_signature(document, "other.json"), kvp, "P", "E0")[0]
        assert said in row["warnings"] and "'whole_image_ibsi' grid" in row["warnings"]
    document["preprocessing"]["grid"] = "crop_centre"
    with pytest.raises(InputError, match=r"field 'preprocessing\.grid'"):
        parse_signature(document, "other.json")


@pytest.mark.parametrize("lo, hi", [((10.3, 4.2, 2.7), (17.8, 9.9, 5.1)),  # inside
                                    ((-2.0, -1.5, -0.7), (6.5, 3.2, 2.0)),  # beyond the first voxels
                                    ((31.0, 20.4, 6.2), (41.5, 31.0, 10.0)),  # beyond the last voxels
                                    ((3.2, 5.0, -1.9), (8.7, 9.1, -1.1)),  # every z beyond the first slice
                                    ((-60.0, 2.0, 1.0), (-45.0, 6.0, 4.0)),  # every x far beyond the first column
                                    ((12.0, 7.0, 3.0), (12.0, 7.0, 3.0))])  # one point on a voxel centre
def test_interpolating_from_the_block_the_points_reach_equals_interpolating_the_whole_volume(lo, hi):
    # lesions are sampled from the few voxels their points reach: bit for bit what the whole region gives
    from CD8RScoreLib.resampling import sample_trilinear
    from CD8RScoreLib.voi import _sample_block

    rng = np.random.default_rng(5)
    volume = rng.normal(0.0, 300.0, (9, 30, 40)).round()  # z, y, x
    points = tuple(rng.uniform(a, b, (3, 7, 11)) for a, b in zip(lo, hi))  # x, y, z
    block = _sample_block(volume, points)
    assert block.shape == (3, 7, 11)
    np.testing.assert_array_equal(block, sample_trilinear(volume, points))


@pytest.mark.parametrize("size, spacing_mm, expected", [
    (500, 0.8, 400),  # an extent of exactly 400 new voxels
    (500, float(np.float32(0.8)), 400),  # the same spacing as NIfTI stores it (float32: +1.5e-8 relative)
    (500, 0.8 + 1.5e-8, 400),  # an NRRD spacing nudged by 1.5e-8 mm
    (2048, float(np.float32(0.9765625 * 1.000000119)), 2000),  # float32's largest rounding on a long axis
    (501, 0.8, 401),  # 400.8 new voxels: IBSI's ceiling
    (500, 0.8 + 1e-5, 401),  # 400.006: a real excess still adds a voxel
])
def test_grid_voxel_count_ignores_storage_precision_but_not_geometry(size, spacing_mm, expected):
    """IBSI's count ceil(n * spacing / new spacing), with an excess below 1e-6 of the extent taken as storage
    precision (resampling.GRID_EXTENT_RELATIVE_TOLERANCE): otherwise float32 noise adds a voxel and shifts the grid
    by half a voxel."""
    from CD8RScoreLib.resampling import whole_image_grid

    image = sitk.Image([size, 4, 4], sitk.sitkInt16)
    image.SetSpacing((spacing_mm, 1.0, 1.0))
    assert whole_image_grid(image, ONE_MM).size[0] == expected


def test_nrrd_and_nifti_of_one_ct_give_identical_lesion_tables(tmp_path):
    """One CT with 0.8 mm pixels (an extent of exactly 40 new voxels) saved as NRRD and as NIfTI (spacing in float32)
    give byte-identical lesion tables; an NRRD whose spacing differs by 1.5e-8 mm gives the same VOIs and score (its
    volume differs in the 8th digit, as its geometry does)."""
    import csv
    import io

    from scipy import ndimage

    from CD8RScoreLib.cli import main

    rng = np.random.default_rng(3)
    shape = (20, 50, 50)
    z, y, x = np.ogrid[:shape[0], :shape[1], :shape[2]]
    lesion = ((x * 0.8 - 20) ** 2 + (y * 0.8 - 20) ** 2 + (z * 2.0 - 20) ** 2) <= 7 ** 2
    hu = 40 + 240 * ndimage.gaussian_filter(rng.standard_normal(shape), 1.5)
    hu[lesion] = (60 + 300 * ndimage.gaussian_filter(rng.standard_normal(shape), 1.0))[lesion]
    hu[:, :, :2] = -1000
    ct = sitk.GetImageFromArray(np.round(hu).astype(np.int16))
    ct.SetSpacing((0.8, 0.8, 2.0))
    ct.SetOrigin((-20.3, 11.7, 100.1))
    labels = sitk.GetImageFromArray(lesion.astype(np.uint8))
    labels.CopyInformation(ct)
    tables = {}
    for name, spacing in (("ct.nrrd", (0.8, 0.8, 2.0)), ("ct.nii.gz", (0.8, 0.8, 2.0)),
                          ("nudged.nrrd", (0.8 + 1.5e-8, 0.8 + 1.5e-8, 2.0))):
        ct.SetSpacing(spacing)
        labels.SetSpacing(spacing)
        sitk.WriteImage(ct, str(tmp_path / name))
        sitk.WriteImage(labels, str(tmp_path / f"labels_{name}"))
        out = tmp_path / f"{name}.csv"
        assert main(["score", "--image", tmp_path / name, "--segmentation", tmp_path / f"labels_{name}",
                     "--patient-id", "P1", "--out", out]) == 0
        tables[name] = out.read_text()
    assert sitk.ReadImage(str(tmp_path / "ct.nii.gz")).GetSpacing()[0] != 0.8  # NIfTI did store float32
    assert ",1,label 1," in tables["ct.nrrd"]
    assert tables["ct.nii.gz"] == tables["ct.nrrd"]
    plain, nudged = (next(csv.DictReader(io.StringIO(tables[n]))) for n in ("ct.nrrd", "nudged.nrrd"))
    for column in ("core_voxels", "ring_voxels", "score_class"):
        assert nudged[column] == plain[column], column
    # a tie in the rounding of one interpolated voxel to integer HU may go the other way: 3e-6 here; a shifted
    # grid moved the score by 0.06
    assert float(nudged["score"]) == pytest.approx(float(plain["score"]), abs=1e-4)
