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
