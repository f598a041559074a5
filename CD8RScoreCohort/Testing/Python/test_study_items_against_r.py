"""The study items of results.json (``study`` block: whole-cohort survival, the three groups of figure 4D/E, ...)
equal R's values on the random cohort of test_random_cohort_against_r.py.

R's values are the "study/..." rows of data/r_datasets/random_cohort_r_values.csv, each with the R expression that
produced it (written by data/r_datasets/random_cohort.R; R 4.2, survival 3.5-3, maxstat 0.7-25), so this test runs
without R. Tolerances are those of test_random_cohort_against_r.py.
"""
from __future__ import annotations

import pytest

import pandas as pd

from CD8RScoreCohortLib.analysis import run_cohort
from CD8RScoreCohortLib.prognostic_scores import prognostic_covariates
from test_random_cohort_against_r import DATA, REFERENCE_CUTOFF, SEED, _km, _terms, agrees, r_values


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
    for ep in ("os", "pfs"):
        choices = study["model_choices"][ep]
        aic = choices["aic_backward"]
        for k, step in enumerate([s for s in aic["steps"] if s["aic"] is not None], start=1):
            out[f"study/model/{ep}/aic/step{k}/{step['removed']}"] = step["aic"]
        out[f"study/model/{ep}/aic/final_aic"] = aic["aic"]
        _terms(out, f"study/model/{ep}/aic", aic["terms"])
        for what in ("reference_cutoff_score", "with_n_lesions"):
            _terms(out, f"study/model/{ep}/{what}", choices[what]["terms"])
    prognostic = study["prognostic_scores"]
    for name in ("rmh", "grim"):
        for k in range(4):
            out[f"study/prognostic/{name}/{k}"] = prognostic[name]["n_patients_by_score"].get(str(k), 0)
        out[f"study/prognostic/{name}/missing"] = prognostic[name]["n_missing"]
    for k, n in prognostic["organ_sites"]["n_patients_by_count"].items():
        out[f"study/prognostic/n_sites/{k}"] = n
    for site, n in prognostic["organ_sites"]["n_patients_by_site"].items():
        out[f"study/prognostic/site/{site}"] = n
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


def test_prognostic_scores_from_their_parts_and_nlr_from_neutrophils_and_lymphocytes():
    lesions = pd.DataFrame({"patient_id": ["A", "A", "A", "B", "C"], "timepoint": ["E0", "E0", "E0", "E0", "E0"],
                            "location": ["liver", "lung", "bone", "node", "unknown"]})
    data = pd.DataFrame({"patient_id": ["A", "B", "C"], "albumin": ["30", "40", None], "ldh_uln": ["1.5", "0.9", "2"],
                         "neutrophils": ["8", "3", "9"], "lymphocytes": ["1", "1", "1"]})
    covs, block, columns = prognostic_covariates(data, lesions)
    # A: albumin < 35, LDH > ULN, 3 sites -> RMH 3; B: none -> 0; C: albumin missing -> missing
    assert list(columns["rmh_score"].fillna(-1)) == [3, 0, -1]
    # GRIm: NLR 8 > 6 (A), 3 (B), 9 (C, but albumin missing)
    assert list(columns["grim_score"].fillna(-1)) == [3, 0, -1]
    assert block["components"]["nlr"].startswith("neutrophils / lymphocytes")
    assert list(columns["n_organ_sites"]) == [3, 1, 0]  # "unknown" is not a site
    terms = {c.name: c for c in covs}
    assert list(terms["rmh_score"].terms["RMH 2-3"].fillna(-1)) == [1.0, 0.0, -1]
    assert set(terms) >= {"site_bone", "site_liver", "site_lung", "site_node", "n_organ_sites", "grim_score"}
    # without an NLR, the GRIm score is not available, and says why
    _, block, _ = prognostic_covariates(data.drop(columns=["neutrophils"]), lesions)
    assert block["grim"] == {"available": False, "note": "Gustave Roussy Immune Score: no clinical column for nlr"}
