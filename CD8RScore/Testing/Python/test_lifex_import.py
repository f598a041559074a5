"""``cd8rscore import-lifex``: a LIFEx feature export (LIFEx names, <lesion>_core / <lesion>_ring ROIs, comma or
semicolon with decimal comma) becomes the same candidate-features table as ``extract``, so it scores the same."""
from __future__ import annotations

import copy
import csv
import json
import math
import subprocess
import sys
from pathlib import Path

import pytest

from CD8RScoreLib.cli import main
from CD8RScoreLib.feature_table import read_feature_table, score_rows
from CD8RScoreLib.features import FEATURES
from CD8RScoreLib.signature import default_signature_path, parse_signature

SAMPLES = Path(__file__).resolve().parents[2] / "Resources" / "SampleData"
LIFEX_NAMED = [info for info in FEATURES.values() if info.lifex_name]


def run_cli(*args) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "CD8RScoreLib", *map(str, args)], capture_output=True, text=True)


@pytest.fixture(scope="module")
def extracted(tmp_path_factory) -> Path:
    folder = tmp_path_factory.mktemp("lifex")
    out = folder / "features.csv"
    assert main(["extract", "--image", SAMPLES / "lung2_crop_image.nrrd", "--segmentation",
                 SAMPLES / "lung2_crop_label.nrrd", "--kvp", "120", "--patient-id", "LUNG2", "--out", out]) == 0
    return out


def write_lifex_export(path: Path, extracted: Path, semicolon: bool = False) -> None:
    """What LIFEx writes for lesion 1's two ROIs, with the values of this software's extraction."""
    with open(extracted, newline="") as handle:
        row = next(csv.DictReader(handle))
    header = ["INFO_PatientID", "INFO_NameOfRoi", "SHAPE_Volume(mL)"] + [i.lifex_name for i in LIFEX_NAMED]
    lines = [header]
    for voi in ("core", "ring"):
        values = [row[f"{voi}_{info.ibsi_column}"] for info in LIFEX_NAMED]
        if semicolon:
            values = [v.replace(".", ",") for v in values]
        lines.append(["LUNG2", f"1_{voi}", "48,4" if semicolon else "48.4"] + values)
    with open(path, "w", newline="") as handle:
        csv.writer(handle, delimiter=";" if semicolon else ",").writerows(lines)


@pytest.mark.parametrize("semicolon", [False, True])
def test_lifex_export_gives_the_extracted_values(extracted, tmp_path, semicolon):
    export = tmp_path / "lifex.csv"
    write_lifex_export(export, extracted, semicolon)
    locations = tmp_path / "locations.csv"
    locations.write_text("lesion,location\n1,lung\n")
    out = tmp_path / "imported.csv"
    result = run_cli("import-lifex", "--lifex", export, "--locations", locations, "--kvp", 120, "--out", out)
    assert result.returncode == 0, result.stderr
    assert "1 LIFEx column(s) without an IBSI counterpart in the catalogue skipped: SHAPE_Volume(mL)" in result.stderr
    imported, original = read_feature_table(out), read_feature_table(extracted)
    assert len(imported.candidates) == 2 * len(LIFEX_NAMED)
    row, reference = imported.rows[0], original.rows[0]
    assert (row["patient_id"], row["lesion_id"], row["location"], row["kvp"]) == ("LUNG2", "1", "lung", 120.0)
    for column in imported.candidates:
        assert row[column] == pytest.approx(reference[column], rel=1e-9), column
    assert "core_rlm_long_run_high_grey_level_emphasis" in imported.candidates  # LIFEx GLRLM_LRHGE
    assert "core_szm_small_zone_high_grey_level_emphasis" in imported.candidates  # LIFEx GLZLM_SZHGE
    assert "ring_ngt_busyness" in imported.candidates  # LIFEx NGLDM_Busyness = IBSI NGTDM busyness


def test_imported_table_scores_as_the_extracted_one(extracted, tmp_path):
    export = tmp_path / "lifex.csv"
    write_lifex_export(export, extracted)
    out = tmp_path / "imported.csv"
    assert run_cli("import-lifex", "--lifex", export, "--kvp", 120, "--out", out).returncode == 0
    # a signature of LIFEx-named features only: the demonstration file's, without the others
    document = json.loads(default_signature_path().read_text())
    lifex_document = copy.deepcopy(document)
    lifex_document["features"] = [f for f in document["features"] if f["lifex_name"]]
    assert lifex_document["features"]
    signature = parse_signature(lifex_document)
    imported = score_rows(signature, read_feature_table(out))
    extracted_scores = score_rows(signature, read_feature_table(extracted))
    assert math.isfinite(imported[0]) and imported[0] == pytest.approx(extracted_scores[0], rel=1e-9)


def test_bad_roi_names_and_missing_patient_are_refused(tmp_path):
    export = tmp_path / "lifex.csv"
    export.write_text("INFO_NameOfRoi,CONVENTIONAL_HUmin\nlesion1,-100\n")
    result = run_cli("import-lifex", "--lifex", export, "--patient-id", "P", "--out", tmp_path / "o.csv")
    assert result.returncode == 2 and "row 2, column INFO_NameOfRoi" in result.stderr
    assert "<lesion>_core or <lesion>_ring" in result.stderr
    export.write_text("INFO_NameOfRoi,CONVENTIONAL_HUmin\n1_core,-100\n")
    result = run_cli("import-lifex", "--lifex", export, "--out", tmp_path / "o.csv")
    assert result.returncode == 2 and "--patient-id" in result.stderr
