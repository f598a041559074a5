"""The whole cohort analysis on the simulated melanoma-sized cohort: every contract key, every output file,
a self-contained report, and recovery of the simulated effect of the minimum score (HR 0.35 high vs low)."""
import json
import re

import pytest

from CD8RScoreCohortLib.analysis import run_cohort
from CD8RScoreCohortLib.report_html import escape as report_escape
from CD8RScoreCohortLib.simulate import (HR_OS_HIGH_VS_LOW, SIMULATION_REFERENCE_CUTOFF, simulate_cohort,
                                         write_simulated_cohort)

NOTICE = "For research use only, not for clinical decisions."


@pytest.fixture(scope="module")
def run136(tmp_path_factory):
    base = tmp_path_factory.mktemp("sim136")
    lesions, clinical = write_simulated_cohort(base, seed=1)
    results = run_cohort(lesions, clinical, base / "out", seed=11, reference_cutoff=SIMULATION_REFERENCE_CUTOFF)
    return base / "out", results


def test_results_json_has_every_key_of_the_contract(run136):
    out, _ = run136
    r = json.loads((out / "results.json").read_text())
    ll = r["lesion_level"]
    for key in ("all", "volume_gt_0.5ml", "volume_gt_1ml"):
        assert set(ll["progression_auc"][key]) >= {"n", "n_progressive", "auc", "ci95", "p"}
    assert ll["progression_auc"]["by_location"]
    for block in ll["progression_auc"]["by_location"].values():
        assert set(block) >= {"n", "n_progressive", "auc", "ci95", "p"}
    assert set(ll["reference_cutoff"]) >= {"odds_ratio", "ci95", "p_fisher"}
    pl = r["patient_level"]
    for endpoint in ("os", "pfs"):
        for metric in ("min", "max", "mean"):
            assert set(pl[endpoint][f"{metric}_reference_cutoff"]) >= {"hr", "ci95", "p_wald", "p_logrank"}
        opt = pl[endpoint]["optimised_cutoff"]
        assert set(opt) >= {"metric", "cutoff", "train", "test"} and opt["metric"] == "min"
        assert set(opt["test"]) >= {"hr", "ci95", "p_wald", "p_logrank"}
        assert isinstance(pl["multivariate"][endpoint], list)
    assert set(pl["progressive_disease_prediction"]) >= {"sensitivity", "specificity", "ppv", "npv"}
    assert r["signature_name"] == "cd8rscore-demonstration" and r["signature_status"] == "demonstration"
    assert r["notice"] == NOTICE and r["simulated"] is True
    assert all({"reason", "count"} <= set(e) for e in r["exclusions"])


def test_outputs_written_and_report_self_contained(run136):
    out, r = run136
    for name in r["files"]["tables"] + r["files"]["figures"]:
        assert (out / name).stat().st_size > 0, name
    figures = set(r["files"]["figures"])
    assert {"km_os_min_reference_cutoff.png", "roc_progression.png", "forest_os.png", "score_by_location.png",
            "nomogram_os.png"} <= figures
    html = (out / "report.html").read_text()
    assert NOTICE in html[:3000] and "cd8rscore-demonstration" in html[:3000] and "SIMULATED" in html[:3000]
    assert html.count("data:image/png;base64,") == len(figures)
    assert not re.search(r"""src=["'](?!data:)""", html)  # nothing loaded from outside the file


def test_every_item_of_the_paper_has_its_figure_with_a_caption_and_its_table(run136):
    out, r = run136
    captions = r["files"]["figure_captions"]
    for endpoint in ("os", "pfs"):
        for name in (f"km_{endpoint}_three_groups.png", f"km_{endpoint}_whole_cohort.png",
                     f"km_{endpoint}_no_scored_lesion_vs_rest.png"):
            assert name in captions
    assert {"forest_os_metrics_train_test.png", "km_os_min_optimised_train.png",
            "progression_by_reference_class.png"} <= set(captions)
    html = (out / "report.html").read_text()
    for caption in captions.values():
        assert f"{report_escape(caption)}</figcaption>" in html
    for heading in ("Table 1: baseline characteristics", "Table 2: lesions at baseline", "Whole cohort survival",
                    "Patient response at the first evaluation (RECIST 1.1)", "Other model choices",
                    "Organ sites and prognostic scores", "Further panels"):
        assert heading in html, heading
    for name in ("table1_baseline.csv", "table2_lesions_e0_e1.csv", "whole_cohort_survival.csv", "numbers_at_risk.csv",
                 "follow_up.csv", "recist_e1.csv", "model_choices.csv", "spearman_panels.csv"):
        assert name in r["files"]["tables"], name
    # the simulated cohort's 3 groups: the minimum score low group dies sooner than the high group
    three = r["study"]["whole_cohort"]["os"]["three_groups"]
    high = next(c for c in three["cox"] if c["group"] == "minimum score high")
    assert high["hr"] < 1 and three["logrank"]["df"] == 2 and sum(three["at_risk"][g][0] for g in three["groups"]) \
        == r["study"]["whole_cohort"]["n"]


def test_simulated_effect_of_minimum_score_is_recovered(run136):
    _, r = run136
    ref = r["patient_level"]["os"]["min_reference_cutoff"]
    # simulated HR 0.35 (high vs low minimum score): same direction, same order of magnitude
    assert ref["hr"] < 1 and ref["ci95"][1] < 1
    assert HR_OS_HIGH_VS_LOW / 3 < ref["hr"] < HR_OS_HIGH_VS_LOW * 3
    assert r["patient_level"]["pfs"]["min_reference_cutoff"]["hr"] < 1
    # low-score lesions progress more often: AUC > 0.5 (progressive lesions have lower scores), OR > 1
    assert r["lesion_level"]["progression_auc"]["all"]["auc"] > 0.5
    assert r["lesion_level"]["progression_auc"]["all"]["ci95"][0] > 0.5
    assert r["lesion_level"]["reference_cutoff"]["odds_ratio"] > 1


def test_cohort_shape_matches_the_study(run136):
    _, r = run136
    c = r["counts"]
    assert c["patients_clinical"] == 136
    assert 110 <= c["patients_with_e1"] <= 136
    assert 800 <= c["lesions_e0"] <= 1500
    nc = sum(e["count"] for e in r["exclusions"] if e["reason"].startswith("baseline score not computable"))
    assert 0.01 < nc / c["lesions_e0"] < 0.06  # about 3 % not computable


def test_larger_simulation_estimates_the_hazard_ratio(tmp_path):
    lesions, clinical = write_simulated_cohort(tmp_path, n_patients=800, seed=3)
    r = run_cohort(lesions, clinical, tmp_path / "out", reference_cutoff=SIMULATION_REFERENCE_CUTOFF,
                   make_figures=False)
    ref = r["patient_level"]["os"]["min_reference_cutoff"]
    assert ref["ci95"][0] < HR_OS_HIGH_VS_LOW * 1.6 and ref["ci95"][1] > HR_OS_HIGH_VS_LOW / 1.6
    assert 0.2 < ref["hr"] < 0.6


def test_simulation_is_deterministic_for_a_seed():
    a = simulate_cohort(40, seed=5)
    b = simulate_cohort(40, seed=5)
    c = simulate_cohort(40, seed=6)
    assert a == b and a != c
    lesions, clinical = a
    assert all(r["patient_id"].startswith("SIM-") for r in lesions + clinical)
    assert {r["signature_status"] for r in lesions} == {"demonstration"}
    assert {r["simulated"] for r in clinical} == {1}


def test_same_seed_gives_same_split_and_cutoff(tmp_path, run136):
    out, r = run136
    lesions, clinical = write_simulated_cohort(tmp_path, seed=1)
    again = run_cohort(lesions, clinical, tmp_path / "out", seed=11, reference_cutoff=SIMULATION_REFERENCE_CUTOFF,
                       make_figures=False)
    assert again["patient_level"]["os"]["optimised_cutoff"] == r["patient_level"]["os"]["optimised_cutoff"]
    assert (tmp_path / "out" / "patient_metrics.csv").read_text() == (out / "patient_metrics.csv").read_text()
