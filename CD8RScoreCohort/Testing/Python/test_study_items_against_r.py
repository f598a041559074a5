"""The study items of results.json (``study`` block: whole-cohort survival, the three groups of figure 4D/E, ...)
equal R's values on the random cohort of test_random_cohort_against_r.py.

R's values are the "study/..." rows of data/r_datasets/random_cohort_r_values.csv, each with the R expression that
produced it (written by data/r_datasets/random_cohort.R; R 4.2, survival 3.5-3, maxstat 0.7-25), so this test runs
without R. Tolerances are those of test_random_cohort_against_r.py.
"""
from __future__ import annotations

import pytest

from CD8RScoreCohortLib.analysis import run_cohort
from test_random_cohort_against_r import DATA, REFERENCE_CUTOFF, SEED, _km, agrees, r_values


@pytest.fixture(scope="module")
def results(tmp_path_factory):
    out = tmp_path_factory.mktemp("random_cohort_study")
    return run_cohort(DATA / "random_cohort_lesions.csv", DATA / "random_cohort_clinical.csv", out, seed=SEED,
                      reference_cutoff=REFERENCE_CUTOFF, make_figures=False)


def _at_risk(out: dict, prefix: str, at_risk: dict, group: str) -> None:
    for t, n in zip(at_risk["times"], at_risk[group]):
        out[f"{prefix}/at_risk/{t:g}"] = n


def _groups(out: dict, prefix: str, res: dict) -> None:
    out[f"{prefix}/logrank_chi2"] = res["logrank"]["chi2"]
    out[f"{prefix}/p_logrank"] = res["logrank"]["p"]
    for c in res["cox"]:
        out[f"{prefix}/cox/{c['group']}/hr"] = c["hr"]
        out[f"{prefix}/cox/{c['group']}/ci_low"], out[f"{prefix}/cox/{c['group']}/ci_high"] = c["ci95"]
        out[f"{prefix}/cox/{c['group']}/p_wald"] = c["p_wald"]
    for group, km in res["groups"].items():
        _km(out, f"{prefix}/group/{group}", km)
        _at_risk(out, f"{prefix}/group/{group}", res["at_risk"], group)


def flatten_study(study: dict) -> dict:
    """The study block's numbers that R computes, named as random_cohort.R names them."""
    out: dict = {}
    whole = study["whole_cohort"]
    for ep in ("os", "pfs"):
        _km(out, f"study/whole/{ep}/all", whole[ep]["all"])
        _at_risk(out, f"study/whole/{ep}/all", whole[ep]["all"]["at_risk"], "all")
        _groups(out, f"study/whole/{ep}/scored_vs_none", whole[ep]["scored_vs_none"])
        _groups(out, f"study/whole/{ep}/three_groups", whole[ep]["three_groups"])
    fu = whole["follow_up"]
    out["study/follow_up/q1"], out["study/follow_up/q2"], out["study/follow_up/q3"] = (
        fu["iqr"][0], fu["median"], fu["iqr"][1])
    out["study/follow_up/median_lcl"], out["study/follow_up/median_ucl"] = fu["ci95"]
    return out


def test_every_study_number_r_computes_equals_r(results):
    expected = {k: v for k, v in r_values().items() if k.startswith("study/")}
    ours = flatten_study(results["study"])
    assert set(ours) == set(expected), (sorted(set(ours) - set(expected))[:5], sorted(set(expected) - set(ours))[:5])
    disagree = {k: (ours[k], v) for k, v in expected.items() if not agrees(k, ours[k], v)}
    assert disagree == {}


def test_three_groups_are_the_paper_s(results):
    whole = results["study"]["whole_cohort"]
    three = whole["os"]["three_groups"]
    assert three["reference"] == "minimum score low" and three["logrank"]["df"] == 2
    assert sum(km["n"] for km in three["groups"].values()) == whole["n"]
    # the cut-off is the one optimised on OS in the training set
    assert whole["three_groups_cutoff"] == results["patient_level"]["os"]["optimised_cutoff"]["cutoff"]
    assert results["patient_level"]["pfs"]["optimised_cutoff"]["cutoff"] == whole["three_groups_cutoff"]
