"""Every item of the melanoma study is where docs/paper-items.md says it is produced, and figure 2 (the flow chart)
is drawn from the cohort's own counts: one `cohort` run on the random cohort of test_random_cohort_against_r.py."""
from __future__ import annotations

import json
import re
from pathlib import Path

import pandas as pd
import pytest

from CD8RScoreCohortLib.analysis import run_cohort
from test_random_cohort_against_r import DATA, REFERENCE_CUTOFF, SEED

DOCS = Path(__file__).resolve().parents[3] / "docs" / "paper-items.md"


@pytest.fixture(scope="module")
def run(tmp_path_factory):
    out = tmp_path_factory.mktemp("paper_items") / "out"
    run_cohort(DATA / "random_cohort_lesions.csv", DATA / "random_cohort_clinical.csv", out, seed=SEED,
               reference_cutoff=REFERENCE_CUTOFF)
    return out, json.loads((out / "results.json").read_text(encoding="utf-8"))


def test_flow_chart_counts_are_the_tables_counts(run):
    """Figure 2's counts, recounted here from the input tables and the patient table the run wrote."""
    out, results = run
    flow = results["study"]["flow_chart"]
    lesions = pd.read_csv(DATA / "random_cohort_lesions.csv")
    patients = pd.read_csv(out / "patient_metrics.csv")
    e0, e1 = lesions[lesions["timepoint"] == "E0"], lesions[lesions["timepoint"] == "E1"]
    assert flow["patients_analysed"] == len(patients) == 160
    assert flow["lesions_e0"] == len(e0)
    computable = (e0["computable"] == 1) & e0["score"].notna()
    assert flow["lesions_e0_not_computable"] == (~computable).sum() > 0
    assert flow["lesions_e0_considered"] == (computable & (e0["volume_ml"] > 1.0)).sum()
    assert (flow["lesions_e0_considered"] + flow["lesions_e0_not_computable"]
            + flow["lesions_e0_computable_not_above_min_volume"]) == flow["lesions_e0"]
    assert sum(flow["lesions_e0_not_computable_by_reason"].values()) == flow["lesions_e0_not_computable"]
    assert flow["patients_with_e1"] == e1["patient_id"].nunique()
    assert flow["patients_with_e1"] + flow["patients_without_e1"] == flow["patients_analysed"]
    assert flow["lesions_e1_new"] == (e1["lesion_id"] == "N1").sum() > 0
    assert flow["lesions_e1_of_baseline_lesions"] + flow["lesions_e1_new"] == len(e1)
    assert flow["patients_with_lesion_above_min_volume"] == (patients["n_lesions_considered"] > 0).sum()
    split = pd.read_csv(DATA / "random_cohort_split.csv")
    assert (flow["train"], flow["test"]) == ((split["split"] == "train").sum(), (split["split"] == "test").sum())
    assert flow["train"] + flow["test"] == flow["patients_with_lesion_above_min_volume"]


def test_flow_chart_is_drawn_and_shown_under_the_cohort_counts_with_its_caption(run):
    out, results = run
    flow = results["study"]["flow_chart"]
    assert (out / "flow_chart.png").stat().st_size > 10_000
    caption = results["files"]["figure_captions"]["flow_chart.png"]
    assert f"{flow['patients_analysed']} patients analysed" in caption and "figure 2" in caption
    report = (out / "report.html").read_text(encoding="utf-8")
    cohort, exclusions = report.index("<h2>Cohort</h2>"), report.index("<h2>Exclusions</h2>")
    assert cohort < report.index("<figcaption><b>Figure 1.</b> Flow chart of the patients") < exclusions
