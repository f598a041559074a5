"""Table 2's acquisition rows (kVp, slice thickness, pixel spacing) and the nodes' short axis come from lesion tables
that `cd8rscore score` writes: two sample CTs scored as a patient's E0 and E1 and as a second patient's E0, gathered
with `cohort-add` and read as the cohort analysis reads them."""
from __future__ import annotations

from pathlib import Path

import pytest
import SimpleITK as sitk

from CD8RScoreCohortLib.inputs import read_lesions
from CD8RScoreCohortLib.study_tables import table2
from CD8RScoreLib.cli import main

SAMPLES = Path(__file__).resolve().parents[3] / "CD8RScore" / "Resources" / "SampleData"


@pytest.fixture(scope="module")
def cohort(tmp_path_factory):
    folder = tmp_path_factory.mktemp("scored")
    cases = [("P1", "E0", "lung1", "120"), ("P1", "E1", "lung2", "120"), ("P2", "E0", "lung2", "100")]
    for patient, timepoint, sample, kvp in cases:
        out = folder / f"{patient}_{timepoint}.csv"
        assert main(["score", "--image", SAMPLES / f"{sample}_crop_image.nrrd", "--segmentation",
                     SAMPLES / f"{sample}_crop_label.nrrd", "--patient-id", patient, "--timepoint", timepoint,
                     "--kvp", kvp, "--out", out]) == 0
        assert main(["cohort-add", "--lesions", out, "--cohort", folder / "cohort.csv"]) == 0
    return read_lesions(folder / "cohort.csv")


def test_table2_shows_kvp_slice_thickness_and_pixel_spacing_of_scored_tables(cohort):
    spacing = {name: sitk.ReadImage(str(SAMPLES / f"{name}_crop_image.nrrd")).GetSpacing()
               for name in ("lung1", "lung2")}
    rows = {row["variable"]: row for row in table2(cohort, reference_cutoff=0.0)["rows"]}
    expected = {"kVp (kV)": ([100.0, 120.0], [120.0]),
                "slice thickness (mm)": ([spacing["lung1"][2], spacing["lung2"][2]], [spacing["lung2"][2]]),
                "pixel spacing (mm)": ([spacing["lung1"][0], spacing["lung2"][0]], [spacing["lung2"][0]])}
    for label, (at_e0, at_e1) in expected.items():
        cells = rows[label]["cells"]
        assert "note" not in rows[label]  # read from the table, not "no column"
        assert cells["E0"]["n"] == 2 and cells["E1"]["n"] == 1
        assert cells["E0"]["median"] == pytest.approx(sum(at_e0) / 2)
        assert cells["E1"]["median"] == pytest.approx(at_e1[0])
    assert rows["kVp (kV)"]["cells"]["E0"]["q1"] == pytest.approx(105.0)  # R's quantile(c(100, 120), 0.25)


def test_short_axis_reaches_the_cohort_inputs(cohort):
    assert (cohort["short_axis_mm"] > 10).all()
    assert (cohort["short_axis_mm"] <= cohort["longest_axial_diameter_mm"]).all()
