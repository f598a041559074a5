"""The study items of results.json (``study`` block: whole-cohort survival, the three groups of figure 4D/E, ...)
equal R's values on the random cohort of test_random_cohort_against_r.py.

R's values are the "study/..." rows of data/r_datasets/random_cohort_r_values.csv, each with the R expression that
produced it (written by data/r_datasets/random_cohort.R; R 4.2, survival 3.5-3, maxstat 0.7-25), so this test runs
without R. Tolerances are those of test_random_cohort_against_r.py.
"""
from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from CD8RScoreCohortLib.analysis import run_cohort
from CD8RScoreCohortLib.prognostic_scores import prognostic_covariates
from CD8RScoreCohortLib.recist_patient import RESPONSES, best_of, best_overall_response, patient_response
from CD8RScoreCohortLib.study_tables import TABLE2_NUMBERS
from test_random_cohort_against_r import COVARIATES, DATA, REFERENCE_CUTOFF, SEED, _km, _terms, agrees, r_values


@pytest.fixture(scope="module")
def results(tmp_path_factory):
    out = tmp_path_factory.mktemp("random_cohort_study")
    results = run_cohort(DATA / "random_cohort_lesions.csv", DATA / "random_cohort_clinical.csv", out, seed=SEED,
                         reference_cutoff=REFERENCE_CUTOFF, make_figures=False, covariates=COVARIATES)
    return {**results, "output_folder": out}


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


TABLE1_NUMBERS = {"age": "age", "albumin_g_l": "albumin_g_l", "ldh_uln": "ldh_uln", "crp_mg_l": "crp_mg_l",
                  "nlr": "nlr", "n_organ_sites": "n_sites"}
TABLE1_CATEGORIES = {"sex": "sex", "m_stage": "m_stage", "rmh_score": "rmh", "grim_score": "grim"}
TABLE2_NAMES = {"location": "location", "score class (reference cut-off)": "class", "volume (mL)": "volume_class",
                **{label: column for column, label in TABLE2_NUMBERS}}


def _tables(out: dict, study: dict) -> None:
    t1 = study["table1"]
    for row in t1["rows"]:
        var = row["variable"]
        for group, cell in row["cells"].items():
            if row["kind"] == "median (IQR)" and var in TABLE1_NUMBERS:
                for k, key in enumerate(("q1", "median", "q3"), start=1):
                    out[f"study/table1/{group}/{TABLE1_NUMBERS[var]}/q{k}"] = cell[key]
            elif row["kind"] == "n (%)" and var in TABLE1_CATEGORIES and cell["n"] > 0:
                out[f"study/table1/{group}/{TABLE1_CATEGORIES[var]}/{row['level']}"] = cell["n"]
    for row in study["table2"]["rows"]:
        name = TABLE2_NAMES.get(row["variable"])
        if name is None:
            continue
        if row.get("p") is not None:
            out[f"study/table2/{name}/p"] = row["p"]
        if row["kind"] == "median (IQR)":
            for tp, cell in row["cells"].items():
                for k, key in enumerate(("q1", "median", "q3"), start=1):
                    out[f"study/table2/{name}/{tp}/q{k}"] = cell[key]


def flatten_study(study: dict, folder) -> dict:
    """The study block's numbers (and per-patient tables of ``folder``) that R computes, named as random_cohort.R
    names them."""
    out: dict = {}
    recist = study["recist_e1"]
    for r, n in recist["counts"].items():
        out[f"study/recist/count/{r}"] = n
    orr = recist["objective_response_rate"]
    out["study/recist/orr/estimate"] = orr["estimate"]
    out["study/recist/orr/ci_low"], out["study/recist/orr/ci_high"] = orr["ci95"]
    for key, value in study["flow_chart"].items():
        if key not in ("min_volume_ml", "lesions_e0_not_computable_by_reason"):
            out[f"study/flow/{key}"] = value
    bor = study["best_overall_response"]
    for r, n in bor["derived"]["counts"].items():
        out[f"study/bor/derived/count/{r}"] = n
    given = bor["given"]
    for r, n in given["counts"].items():
        out[f"study/bor/given/count/{r}"] = n
    out["study/bor/given/missing"] = given["missing"]
    out["study/bor/given/orr/estimate"] = given["objective_response_rate"]["estimate"]
    out["study/bor/given/orr/ci_low"], out["study/bor/given/orr/ci_high"] = given["objective_response_rate"]["ci95"]
    for e1 in RESPONSES:
        for g in given["counts"]:
            out[f"study/bor/e1_vs_given/{e1}/{g}"] = bor["e1_vs_given"].get(e1, {}).get(g, 0)
    _tables(out, study)
    panels = study["panels"]
    for m, pair in panels["spearman_metric_vs_number_of_lesions"].items():
        for what, res in pair.items():
            out[f"study/panels/s8/{m}/{what}/rho"], out[f"study/panels/s8/{m}/{what}/p"] = res["rho"], res["p"]
    comparison = panels["score_progressive_vs_other"]
    for g in ("progressive", "other"):
        for k, key in enumerate(("q1", "median", "q3"), start=1):
            out[f"study/panels/score_{g}/q{k}"] = comparison[g][key]
    out["study/panels/score_progressive_vs_other/p"] = comparison["p_wilcoxon_rank_sum"]
    for key, res in panels["spearman_score_vs_volume_change_pct"].items():
        out[f"study/panels/volume_change/{key}/rho"], out[f"study/panels/volume_change/{key}/p"] = res["rho"], res["p"]
    per_patient = pd.read_csv(folder / "recist_e1.csv", keep_default_na=False)
    for pid, response in zip(per_patient["patient_id"], per_patient["response"]):
        out[f"study/recist/patient/{pid}"] = RESPONSES.index(response) + 1
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
    ours = flatten_study(results["study"], results["output_folder"])
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
    assert block["grim"] == {"available": False, "note": "Gustave Roussy Immune Score: no covariate column for nlr"}


def _lesions(rows):
    return pd.DataFrame(rows, columns=["lesion_id", "location", "longest_axial_diameter_mm", "short_axis_mm"])


def test_recist_measurable_size_follows_the_slice_thickness_above_5_mm():
    """RECIST 1.1: a lesion is measurable from 10 mm, or from twice the slice thickness when the CT's slices are
    thicker than 5 mm; a node from 15 mm of short axis whatever the thickness. Without the column: 10 mm."""
    from CD8RScoreCohortLib.recist_patient import recist_at_e1

    def table(thickness):
        rows = [("P", tp, lid, loc, diameter, short) for tp in ("E0", "E1")
                for lid, loc, diameter, short in (("L1", "liver", 15.0, None), ("L2", "lung", 21.0, None),
                                                  ("N1", "node", 30.0, 16.0))]
        lesions = pd.DataFrame(rows, columns=["patient_id", "timepoint", "lesion_id", "location",
                                              "longest_axial_diameter_mm", "short_axis_mm"])
        if thickness is not None:
            lesions["slice_thickness_mm"] = thickness
        return lesions

    # 10 mm slices: the 15 mm liver lesion is under 20 mm, not measurable; the 21 mm lung lesion and the node are
    block, by_patient = recist_at_e1(table(10.0), ["P"])
    assert by_patient.loc[0, "targets"] == "L2 N1" and by_patient.loc[0, "sum_e0_mm"] == 21.0 + 16.0
    assert "twice the slice thickness above 5 mm" in block["definition"]
    assert "each baseline CT's slice_thickness_mm" in block["definition"]
    # 5 mm slices (not above 5 mm), or no slice thickness column: the fixed 10 mm
    assert recist_at_e1(table(5.0), ["P"])[1].loc[0, "targets"] == "L2 N1 L1"
    block, by_patient = recist_at_e1(table(None), ["P"])
    assert by_patient.loc[0, "targets"] == "L2 N1 L1"
    assert "no slice_thickness_mm column: every CT taken as slices <= 5 mm thick" in block["definition"]
    # a thickness of 12 mm: 24 mm is the limit (the lung lesion too is out); the node stays measurable
    assert recist_at_e1(table(12.0), ["P"])[1].loc[0, "targets"] == "N1"


def test_recist_targets_nodes_and_thresholds():
    # six measurable lesions, three in the liver: 5 targets at most, 2 per organ (the liver's smallest is not one)
    e0 = _lesions([("L1", "liver", 40, None), ("L2", "liver", 30, None), ("L3", "liver", 50, None),
                   ("L4", "lung", 12, None), ("L5", "bone", 11, None), ("N1", "node", 30, 16)])
    e1 = _lesions([("L1", "liver", 40, None), ("L2", "liver", 30, None), ("L3", "liver", 50, None),
                   ("L4", "lung", 12, None), ("L5", "bone", 11, None), ("N1", "node", 30, 20)])
    res = patient_response(e0, e1, use_short_axis=True)
    assert res["targets"] == "L3 L1 N1 L4 L5" and res["sum_e0_mm"] == 50 + 40 + 16 + 12 + 11
    # the node grew by 4 mm of short axis: +3 %, stable
    assert res["response"] == "SD"
    # +20 % but less than +5 mm is not progression
    small0 = _lesions([("L1", "lung", 10, None), ("L2", "lung", 10, None)])
    small1 = _lesions([("L1", "lung", 12.2, None), ("L2", "lung", 12.2, None)])
    assert patient_response(small0, small1, True)["response"] == "SD"
    assert patient_response(small0, _lesions([("L1", "lung", 12.6, None), ("L2", "lung", 12.6, None)]),
                            True)["response"] == "PD"
    # every lesion gone and a node back under 10 mm of short axis: complete response; a new lesion: PD
    e0 = _lesions([("L1", "liver", 20, None), ("N1", "node", 25, 18)])
    gone = [("L1", "liver", 0, None), ("N1", "node", 12, 8)]
    assert patient_response(e0, _lesions(gone), True)["response"] == "CR"
    assert patient_response(e0, _lesions(gone + [("X", "lung", 6, None)]), True)["response"] == "PD"
    # -30 %: partial response; nodes measured by the longest diameter when the short axis is not given
    assert patient_response(e0, _lesions([("L1", "liver", 10, None), ("N1", "node", 17, 12)]), True)["response"] \
        == "PR"
    assert patient_response(e0, _lesions([("L1", "liver", 20, None), ("N1", "node", 25, 12)]), False)[
        "sum_e0_mm"] == 45


def test_rank_sum_and_contingency_p_as_r_on_small_samples():
    from CD8RScoreCohortLib.study_tables import categorical_p, rank_sum_p

    # R 4.2: wilcox.test(c(1.1, 2.3, 3.5, 8.1), c(4.2, 5.1, 6.3, 7.7, 0.4))$p.value (exact: no ties, n < 50)
    assert rank_sum_p([1.1, 2.3, 3.5, 8.1], [4.2, 5.1, 6.3, 7.7, 0.4]) == pytest.approx(0.73015873015873023,
                                                                                      rel=1e-12)
    # wilcox.test(c(1, 2, 2, 3, 5), c(2, 3, 3, 4, 6, 7))$p.value (ties: normal approximation, continuity correction)
    assert rank_sum_p([1, 2, 2, 3, 5], [2, 3, 3, 4, 6, 7]) == pytest.approx(0.16304505585423726, rel=1e-10)
    # chisq.test(matrix(c(10, 12, 5, 9, 7, 3), 2))$p.value (2 x 3: no continuity correction)
    res = categorical_p(np.array([[10, 5, 7], [12, 9, 3]]))
    assert res["test"] == "chi-squared" and res["p"] == pytest.approx(0.24134046244497298, rel=1e-10)


def test_best_overall_response_is_the_best_before_the_first_progression():
    assert best_of(["SD", "PR", "CR"]) == "CR"
    assert best_of(["PR", "PD", "CR"]) == "PR"  # a response after progression is not the best overall response
    assert best_of(["PD", "CR"]) == "PD"
    assert best_of(["NE", "SD"]) == "SD"
    assert best_of([]) is None


def test_response_after_initial_progression_from_the_clinical_best_overall_response():
    at_e1 = pd.DataFrame({"patient_id": ["A", "B", "C", "D"], "response": ["PD", "PD", "PR", "PD"]})
    patients = pd.DataFrame({"patient_id": ["A", "B", "C", "D", "E"], "bor": ["CR", "PD", "PR", "SD", None]})
    block, table = best_overall_response(at_e1, patients, "bor")
    assert block["after_initial_progression"] == {"CR": 1, "PR": 0, "SD": 1}
    assert block["given"]["counts"]["CR"] == 1 and block["given"]["missing"] == 1 and block["given"]["n"] == 4
    assert block["given"]["objective_response_rate"]["k"] == 2  # A (CR) and C (PR) of the 4 with a value
    assert block["derived"]["counts"]["PD"] == 3 and block["derived"]["missing"] == 1  # E has no E1 CT
    assert list(table["best_overall_response_derived"].fillna("-")) == ["PD", "PD", "PR", "PD", "-"]
    block, _ = best_overall_response(at_e1, patients.drop(columns=["bor"]), "bor")
    assert block["given"] is None and "no bor column" in block["note"]


def test_the_given_best_overall_response_is_said_to_count_a_response_after_initial_progression():
    """The clinical column is the study's best response over the whole follow-up (patients with PD at E1 and a
    later CR count as CR), not RECIST 1.1's best overall response: results.json, `cohort --help` and
    docs/clinical-table.md say it in the same words."""
    from pathlib import Path

    from CD8RScoreCohortLib.cli_commands import clinical_table_help
    from CD8RScoreCohortLib.inputs import BOR_MEANING

    at_e1 = pd.DataFrame({"patient_id": ["A"], "response": ["PD"]})
    block, _ = best_overall_response(at_e1, pd.DataFrame({"patient_id": ["A"], "bor": ["CR"]}), "bor")
    assert block["given"]["counts"]["CR"] == 1 and block["after_initial_progression"]["CR"] == 1
    assert block["derived"]["counts"]["PD"] == 1  # RECIST 1.1: the best up to the first progression
    assert BOR_MEANING in block["given"]["source"] and "after an initial progression included" in BOR_MEANING
    assert BOR_MEANING in " ".join(clinical_table_help().split())
    doc = (Path(__file__).resolve().parents[3] / "docs" / "clinical-table.md").read_text(encoding="utf-8")
    assert BOR_MEANING in doc and "by RECIST 1.1" not in doc


def test_a_best_overall_response_that_is_not_recist_is_refused_with_its_row(tmp_path):
    from CD8RScoreCohortLib.inputs import read_clinical
    from CD8RScoreLib.errors import InputError

    clinical = tmp_path / "clinical.csv"
    clinical.write_text("patient_id,os_time,os_event,pfs_time,pfs_event,best_overall_response\n"
                        "A,10,1,5,1,pr\nB,12,0,6,1,\nC,3,1,2,1,partial\n")
    with pytest.raises(InputError) as error:
        read_clinical(clinical)
    assert "row 4" in str(error.value) and "best_overall_response" in str(error.value) and "CR, PR" in str(error.value)
    clinical.write_text(clinical.read_text().replace("partial", "NE"))
    df, covariates = read_clinical(clinical)
    assert list(df["best_overall_response"]) == ["PR", None, "NE"] and "best_overall_response" not in covariates
