"""``cd8rscore demo`` runs offline from a fresh clone and writes the lesion, patient, response and cohort tables."""
from __future__ import annotations

import csv
import json
import subprocess
import sys


def read(path):
    with open(path, newline="") as handle:
        return list(csv.DictReader(handle))


def test_demo_writes_every_table_labelled_with_the_demonstration_signature(tmp_path):
    out = tmp_path / "demo"
    result = subprocess.run([sys.executable, "-m", "CD8RScoreLib", "demo", "--out", str(out)],
                            capture_output=True, text=True, timeout=900)
    assert result.returncode == 0, result.stderr
    assert "DEMONSTRATION signature" in result.stderr
    e0, e1 = read(out / "lesions_E0.csv"), read(out / "lesions_E1.csv")
    assert len(e0) == len(e1) == 6
    assert all(r["signature_status"] == "demonstration" for r in e0 + e1)
    assert all(r["computable"] == "1" for r in e0)
    patients = read(out / "patients_E0.csv")
    assert len(patients) == 1 and patients[0]["least_infiltrated_lesion_id"]
    responses = {r["lesion_id"]: r["response"] for r in read(out / "response.csv")}
    # the demo's follow-up: lesion 1 grows x1.35, lesion 2 shrinks x0.6, lesion 3 disappears
    assert responses["1"] == "progression" and responses["2"] == "response"
    assert responses["3"] == "complete_response"
    cohort = read(out / "cohort.csv")
    assert sorted({r["timepoint"] for r in cohort}) == ["E0", "E1"] and len(cohort) == 12
    # the same baseline CT as DICOM, its lesions as DICOM SEG and as RTSTRUCT: the same scores, and a DICOM SR each
    for kind in ("SEG", "RTSTRUCT"):
        from_dicom = read(out / "dicom" / f"lesions_E0_from_{kind}.csv")
        assert [(r["lesion_id"], r["location"], r["score"]) for r in from_dicom] == \
               [(r["lesion_id"], r["location"], r["score"]) for r in e0]
        import highdicom as hd

        content = hd.sr.srread(out / "dicom" / f"report_from_{kind}.dcm").content
        groups = content.get_volumetric_roi_measurement_groups() + content.get_image_measurement_groups()
        assert len(groups) == len(e0)  # one measurement group per lesion
    # the DICOM tree: each CT with its SEG or RTSTRUCT at E0 and E1; the DICOMDIR, localizers and dose reports listed
    manifest = read(out / "dicom_tree_manifest.csv")
    assert [(r["patient_id"], r["timepoint"]) for r in manifest] == [
        (f"SYNTHETIC-{p}", tp) for p in (101, 102, 103) for tp in ("E0", "E1")]
    assert sorted(r["reason"] for r in read(out / "dicom_tree_manifest_unused.csv")) == \
           ["dicomdir"] + ["dose_report"] * 6 + ["localizer"] * 6
    for case in ("lung1", "lung2"):
        rows = read(out / f"lesions_{case}_sample.csv")
        assert len(rows) == 1 and rows[0]["computable"] == "1"
    report = out / "simulated_cohort" / "analysis" / "report.html"
    assert report.is_file() and "SIMULATED" in report.read_text().upper()
    # the simulated scores follow the melanoma study's scale: the analysis uses the simulation's cut-off
    from CD8RScoreCohortLib.simulate import SIMULATION_REFERENCE_CUTOFF

    settings = json.loads((out / "simulated_cohort" / "analysis" / "results.json").read_text())["settings"]
    assert settings["reference_cutoff"] == SIMULATION_REFERENCE_CUTOFF


def test_every_demo_file_the_examples_name_exists_and_the_lifex_export_imports(tmp_path):
    """The README's commands and every --help example run on the demo's files: each file they name is written by
    the demo; the LIFEx export imports to the features that `extract` computed."""
    import re
    from pathlib import Path

    from CD8RScoreLib.cli import build_parser, main

    out = tmp_path / "demo-output"
    result = subprocess.run([sys.executable, "-m", "CD8RScoreLib", "demo", "--out", str(out)],
                            capture_output=True, text=True, timeout=900)
    assert result.returncode == 0, result.stderr
    parser = build_parser()
    commands = next(a for a in parser._actions if hasattr(a, "choices") and isinstance(a.choices, dict)).choices
    texts = [p.epilog or "" for p in commands.values()]
    texts.append((Path(__file__).resolve().parents[3] / "README.md").read_text(encoding="utf-8"))
    named = {m for text in texts for m in re.findall(r"demo-output/[\w./-]+", text)}
    named = {n.rstrip(".") for n in named if not n.endswith("/")}
    assert len(named) >= 15
    missing = sorted(n for n in named if not (out / n[len("demo-output/"):]).exists())
    assert missing == []
    training = out / "signature_training"
    assert len(read(training / "demo_training_features.csv")) == len(read(training / "demo_training_target.csv"))
    imported = tmp_path / "imported.csv"
    assert main(["import-lifex", "--lifex", training / "lifex_export.csv", "--locations",
                 out / "synthetic" / "SYNTHETIC-001_locations.csv", "--kvp", "120", "--out", imported]) == 0
    extracted = {r["lesion_id"]: r for r in read(training / "SYNTHETIC-001_E0_features.csv")}
    rows = read(imported)
    assert len(rows) == 6
    for row in rows:
        for column, value in row.items():
            if column.startswith(("core_", "ring_")):
                assert float(value) == float(extracted[row["lesion_id"]][column]), column
    small = read(out / "small_cohort" / "clinical.csv")
    assert len(small) == 3
