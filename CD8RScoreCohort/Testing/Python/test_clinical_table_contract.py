"""The clinical table as docs/clinical-table.md states it: covariates only named or recognised (a text column
nobody named never enters a model), each covariate's rule printed and reported; OS-only tables run the OS analyses
and say why PFS is not run; a cohort below the minimums says which analyses it did not run and why."""
import csv
import json
from pathlib import Path

import pytest

from CD8RScoreCohortLib.analysis import run_cohort
from CD8RScoreCohortLib.simulate import (CLINICAL_COLUMNS, SIMULATION_REFERENCE_CUTOFF, simulate_cohort,
                                         write_simulated_cohort)
from CD8RScoreLib.cli import main
from CD8RScoreLib.lesion_table import lesion_columns


def write(path: Path, rows: list[dict], columns: list[str]) -> Path:
    with open(path, "w", newline="") as handle:
        writer = csv.DictWriter(handle, fieldnames=columns, extrasaction="ignore")
        writer.writeheader()
        writer.writerows(rows)
    return path


@pytest.fixture(scope="module")
def cohort(tmp_path_factory):
    """60 simulated patients with a free-text comment column that varies with survival (so a model would take it)."""
    folder = tmp_path_factory.mktemp("contract")
    lesions, clinical = simulate_cohort(60, seed=7)
    clinical = [dict(r, comment="lost to FU" if float(r["os_time"]) < 12 else "seen") for r in clinical]
    return (write(folder / "lesions.csv", lesions, lesion_columns([])),
            write(folder / "clinical.csv", clinical, CLINICAL_COLUMNS + ["comment"]), clinical)


def model_variables(results: dict) -> set[str]:
    """Every variable that entered a Cox model: univariate, multivariate (p-value rule), AIC selection and the
    forced-variable models, besides the organ-site indicators (site_*)."""
    pl = results["patient_level"]
    names = {row["variable"] for rows in pl["univariate"].values() for row in rows}
    names |= {c for sel in pl["multivariate_selection"].values() for c in sel["candidates"]}
    for models in results["study"].get("model_choices", {}).values():
        names |= set(models["aic_backward"]["candidates"])
        names |= {v for key in ("reference_cutoff_score", "with_n_lesions") for v in models[key]["variables"]}
    return {n for n in names if not n.startswith("site_")}


def model_terms(results: dict) -> list[str]:
    """Every term of every fitted Cox model of results.json."""
    pl = results["patient_level"]
    terms = [t["term"] for rows in pl["univariate"].values() for row in rows for t in row["terms"]]
    terms += [t["term"] for ts in pl["multivariate"].values() for t in ts]
    terms += [t["term"] for models in results["study"].get("model_choices", {}).values()
              for m in models.values() for t in m["terms"]]
    return terms


def test_a_text_column_not_named_never_enters_a_model(tmp_path, cohort):
    lesions, clinical, _ = cohort
    recognised = run_cohort(lesions, clinical, tmp_path / "a", reference_cutoff=SIMULATION_REFERENCE_CUTOFF,
                            make_figures=False)
    named = run_cohort(lesions, clinical, tmp_path / "b", reference_cutoff=SIMULATION_REFERENCE_CUTOFF,
                       make_figures=False, covariates=["age", "presentation"])
    for results in (recognised, named):
        assert "comment" not in model_variables(results)
        assert model_terms(results) and not any("comment" in t or "lost to FU" in t for t in model_terms(results))
        assert "comment" in {c["column"] for c in results["covariates"]["not_used"]}
        assert "comment" not in {r["variable"] for r in results["study"]["table1"]["rows"]}
    # without --covariates: the recognised names (sex, age, albumin_g_l, ldh_uln), not presentation or comment;
    # RMH from albumin_g_l, ldh_uln and the organ sites (GRIm needs an NLR, which this table has not)
    assert {c["variable"] for c in recognised["covariates"]["used"]} >= {"sex", "age", "albumin_g_l", "ldh_uln"}
    assert model_variables(recognised) == {"sex", "age", "albumin_g_l", "ldh_uln", "min_score_optimised",
                                           "n_lesions", "n_organ_sites", "rmh_score", "min_score_reference"}
    rmh = next(c for c in recognised["covariates"]["used"] if c["variable"] == "rmh_score")
    assert "albumin_g_l: albumin < 35 g/L" in rmh["rule"] and rmh["rule"].endswith(
        "[derived from the lesions' locations and the covariate columns]")
    # named: exactly those, recognised names included only when named (so no RMH from albumin and LDH)
    assert model_variables(named) == {"age", "presentation", "min_score_optimised", "n_lesions", "n_organ_sites",
                                      "min_score_reference"}
    assert not named["study"]["prognostic_scores"]["rmh"]["available"]
    # a text column the user names does enter, as categories
    with_comment = run_cohort(lesions, clinical, tmp_path / "c", reference_cutoff=SIMULATION_REFERENCE_CUTOFF,
                              make_figures=False, covariates=["comment"])
    assert "comment" in model_variables(with_comment)


def test_each_covariate_rule_is_printed_and_reported(tmp_path, cohort, capsys):
    lesions, clinical, _ = cohort
    out = tmp_path / "out"
    assert main(["cohort", "--lesions", lesions, "--clinical", clinical, "--out", out, "--reference-cutoff",
                 SIMULATION_REFERENCE_CUTOFF]) == 0
    said = capsys.readouterr().out.splitlines()
    import statistics

    with open(out / "patient_metrics.csv", newline="") as handle:  # the patients analysed
        median = statistics.median(float(r["age"]) for r in csv.DictReader(handle))
    assert f"  age > median {median:g} [recognised name]" in said
    assert "  albumin_g_l < 35 (albumin < 35 g/L; Sun et al. 2022) [recognised name]" in said
    assert ("  not used: comment (not a recognised name; name it with --covariates to use it)") in said
    report = (out / "report.html").read_text()
    assert f"age &gt; median {median:g} [recognised name]" in report
    assert "not used: not a recognised name; name it with --covariates to use it" in report


def test_a_covariate_that_is_not_a_column_is_refused(tmp_path, cohort, capsys):
    lesions, clinical, _ = cohort
    assert main(["cohort", "--lesions", lesions, "--clinical", clinical, "--out", tmp_path / "out",
                 "--covariates", "stage"]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and "--covariates" in err[0] and "'stage'" in err[0] and str(clinical) in err[0]


def test_an_os_only_table_runs_the_os_analyses_and_says_why_pfs_is_not_run(tmp_path):
    lesions, clinical = simulate_cohort(60, seed=7)
    l = write(tmp_path / "lesions.csv", lesions, lesion_columns([]))
    c = write(tmp_path / "clinical.csv", clinical, [x for x in CLINICAL_COLUMNS if not x.startswith("pfs_")])
    results = run_cohort(l, c, tmp_path / "out", reference_cutoff=SIMULATION_REFERENCE_CUTOFF, make_figures=False)
    pl = results["patient_level"]
    assert "os" in pl and "pfs" not in pl and list(pl["univariate"]) == ["os"]
    assert pl["os"]["min_reference_cutoff"]["hr"] is not None
    pfs = [n for n in results["not_run"] if n["analysis"].startswith("progression-free survival")]
    assert len(pfs) == 1 and pfs[0]["reason"] == "the clinical table has no pfs_time and pfs_event columns"
    assert "figures S2 and S4" in pfs[0]["analysis"] and "figure 4E" in pfs[0]["analysis"]
    assert not (tmp_path / "out" / "univariate_cox_pfs.csv").exists()
    # the whole-study items: OS only (S2, S4, figure 4D; AIC and forced models)
    assert "os" in results["study"]["whole_cohort"] and "pfs" not in results["study"]["whole_cohort"]
    assert list(results["study"]["model_choices"]) == ["os"]
    report = (tmp_path / "out" / "report.html").read_text()
    assert "Patient level: Overall survival" in report and "Patient level: Progression-free survival" not in report
    # one PFS column without the other is refused
    c = write(tmp_path / "clinical2.csv", clinical, [x for x in CLINICAL_COLUMNS if x != "pfs_event"])
    assert main(["cohort", "--lesions", l, "--clinical", c, "--out", tmp_path / "out2"]) == 2


def test_a_three_patient_cohort_says_what_it_could_not_estimate(tmp_path, capsys):
    lesions, clinical = write_simulated_cohort(tmp_path / "small", n_patients=3, seed=2022)
    out = tmp_path / "out"
    assert main(["cohort", "--lesions", lesions, "--clinical", clinical, "--out", out]) == 0
    said = capsys.readouterr().out.splitlines()
    not_run = said[said.index("Not run:") + 1:-1]
    too_few = "3 patient(s) with a scored lesion > 1 mL; the patient-level analyses need at least 10"
    assert not_run == [
        "  overall survival: Kaplan-Meier and Cox models by score, optimised cut-offs, whole-cohort survival and the "
        "three groups (figures S2, S4, 4D), univariate, multivariate, AIC-selected and forced-variable models: "
        + too_few,
        "  progression-free survival: Kaplan-Meier and Cox models by score, optimised cut-offs, whole-cohort "
        "survival and the three groups (figures S2, S4, 4E), univariate, multivariate, AIC-selected and "
        "forced-variable models: " + too_few,
        "  prediction of progressive disease at E1: 3 patient(s) with a known progressive-disease status at E1; the "
        "prediction needs at least 10",
        "  nomogram of 12- and 24-month overall survival: the overall survival analyses were not run"]
    results = json.loads((out / "results.json").read_text())
    assert not {"os", "pfs", "progressive_disease_prediction"} & set(results["patient_level"])
    assert not {"os", "pfs"} & set(results["study"]["whole_cohort"]) and not results["study"].get("model_choices")
    report = (out / "report.html").read_text()
    assert "The survival analyses of the whole cohort were not run" in report
    assert "<h2>Not run</h2>" in report and "the patient-level analyses need at least 10" in report
    assert "Patient level: Overall survival" not in report and "Predicting progressive disease" not in report
    # the flow chart's training and test boxes do not claim a cut-off that was never searched
    from CD8RScoreCohortLib.flow_chart import box_texts

    boxes = box_texts(results)
    assert boxes["train"].endswith("(no cut-off optimised)") and boxes["test"].endswith("(no cut-off to apply)")


def test_the_three_groups_cox_model_needs_its_events_per_term():
    from CD8RScoreCohortLib.whole_cohort import grouped_survival

    groups = ["none", "high", "low"] * 4
    time = [float(t) for t in range(1, 13)]
    few = [1, 0, 1, 0, 1, 0, 1, 0, 1, 0, 1, 0]  # 6 events for 2 terms: below 5 per term
    res = grouped_survival(time, few, groups, ["none", "high", "low"], "low")
    assert [r["hr"] for r in res["cox"]] == [None, None]
    assert all(r["note"] == "not fitted: 6 event(s) for 2 term(s); a Cox model needs at least 5 events per term"
               for r in res["cox"])
    assert res["logrank"]["p"] is not None  # the log-rank test is not a model: it runs
    enough = [1] * 10 + [0, 0]
    assert all(r["hr"] is not None for r in grouped_survival(time, enough, groups, ["none", "high", "low"],
                                                             "low")["cox"])
