"""``cd8rscore extract``: every candidate feature of core and ring with IBSI names, finite on the real lung2 sample;
a tiny lesion keeps its row with empty cells and the reason; scores computed from the table equal ``score``'s."""
from __future__ import annotations

import csv
import math
from pathlib import Path

import pytest
import SimpleITK as sitk

from CD8RScoreLib.cli import main
from CD8RScoreLib.feature_table import read_feature_table, score_rows, table_columns
from CD8RScoreLib.features import FEATURES
from CD8RScoreLib.signature import load_signature

SAMPLES = Path(__file__).resolve().parents[2] / "Resources" / "SampleData"
LUNG2_IMAGE = SAMPLES / "lung2_crop_image.nrrd"
LUNG2_LABEL = SAMPLES / "lung2_crop_label.nrrd"


def read(path: Path) -> tuple[list[str], list[dict]]:
    with open(path, newline="") as handle:
        reader = csv.DictReader(handle)
        return list(reader.fieldnames), list(reader)


@pytest.fixture(scope="module")
def lung2_with_tiny_lesion(tmp_path_factory):
    folder = tmp_path_factory.mktemp("extract")
    labels = sitk.ReadImage(str(LUNG2_LABEL))
    array = sitk.GetArrayFromImage(labels)
    array[2, 5, 5] = 2  # a 1-voxel lesion far from lesion 1: core and ring below 64 voxels at 1 mm
    tiny = sitk.GetImageFromArray(array)
    tiny.CopyInformation(labels)
    seg = folder / "labels.nrrd"
    sitk.WriteImage(tiny, str(seg))
    locations = folder / "locations.csv"
    locations.write_text("lesion,location\n1,lung\n2,LN\n")
    out = folder / "features.csv"
    assert main(["extract", "--image", LUNG2_IMAGE, "--segmentation", seg, "--locations", locations, "--kvp", "120",
                 "--patient-id", "LUNG2", "--out", out]) == 0
    return folder, seg, locations, out


def test_every_candidate_column_with_ibsi_names_and_finite_values(lung2_with_tiny_lesion):
    _, _, _, out = lung2_with_tiny_lesion
    columns, rows = read(out)
    assert columns == table_columns()
    assert columns[:5] == ["patient_id", "lesion_id", "location", "kvp", "reason"]
    candidates = columns[5:]
    assert len(candidates) == 2 * len(FEATURES)
    ibsi = {info.ibsi_column for info in FEATURES.values()}
    for column in candidates:
        voi, name = column.split("_", 1)
        assert voi in ("core", "ring") and name in ibsi, column
    assert "ring_stat_minimum_intensity" in candidates
    assert "core_rlm_long_run_high_grey_level_emphasis" in candidates
    assert "core_szm_small_zone_high_grey_level_emphasis" in candidates
    lesion = next(r for r in rows if r["lesion_id"] == "1")
    assert lesion["reason"] == "" and lesion["location"] == "lung" and float(lesion["kvp"]) == 120
    for column in candidates:
        assert math.isfinite(float(lesion[column])), column
    # first-order values in HU: the ring of a lung lesion reaches into the lung
    assert float(lesion["ring_stat_minimum_intensity"]) < -500 < float(lesion["core_stat_mean_intensity"])


def test_tiny_lesion_is_empty_with_its_reason_not_zero(lung2_with_tiny_lesion):
    _, _, _, out = lung2_with_tiny_lesion
    columns, rows = read(out)
    tiny = next(r for r in rows if r["lesion_id"] == "2")
    assert "core has" in tiny["reason"] and "at least" in tiny["reason"]
    assert tiny["location"] == "node"
    assert all(tiny[c] == "" for c in columns[5:])


def test_scores_from_the_features_table_equal_the_lesion_table(lung2_with_tiny_lesion):
    folder, seg, locations, out = lung2_with_tiny_lesion
    lesions = folder / "lesions.csv"
    assert main(["score", "--image", LUNG2_IMAGE, "--segmentation", seg, "--locations", locations, "--kvp", "120",
                 "--patient-id", "LUNG2", "--out", lesions]) == 0
    _, scored = read(lesions)
    signature = load_signature()
    table = read_feature_table(out)
    scores = dict(zip((r["lesion_id"] for r in table.rows), score_rows(signature, table)))
    by_id = {r["lesion_id"]: r for r in scored}
    assert scores["1"] == pytest.approx(float(by_id["1"]["score"]), rel=1e-8)
    assert scores["2"] is None and by_id["2"]["score"] == ""


def test_extract_keeps_pyradiomics_notes_off_the_terminal(tmp_path):
    """A fresh process: pyradiomics' import sets its logger to INFO, and its GLCM note ("GLCM is symmetrical ...")
    must still not reach the terminal; the one line the command prints is its own."""
    import subprocess
    import sys

    out = tmp_path / "features.csv"
    result = subprocess.run([sys.executable, "-m", "CD8RScoreLib", "extract", "--image", LUNG2_IMAGE,
                             "--segmentation", LUNG2_LABEL, "--kvp", "120", "--out", out],
                            capture_output=True, text=True)
    assert result.returncode == 0, result.stderr
    said = [line for line in (result.stdout + result.stderr).splitlines() if line.strip()]
    assert said == [f"1 lesion(s), 1 with every candidate feature ({len(FEATURES) * 2} per lesion) -> {out}"]
