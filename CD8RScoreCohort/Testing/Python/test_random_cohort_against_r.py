"""Every number of results.json that R can compute equals R's on a random cohort with ties and censoring.

The cohort (SIMULATED, seeded) is written by data/r_datasets/random_cohort.py: 160 patients, scores with two
decimals (tied scores and tied patient metrics), times in whole months (tied times), censoring, missing
covariates, a three-level covariate. R's values were produced by data/r_datasets/random_cohort.R (R 4.2,
survival 3.5-3, maxstat 0.7-25, e1071 1.7) and are stored in random_cohort_r_values.csv, one row per number
with the R expression that produced it, so this test runs without R. Agreement: 1e-6 (absolute) for estimates,
1e-4 relative for p-values and confidence limits.
"""
from __future__ import annotations

import csv
import math
from pathlib import Path

import pandas as pd
import pytest

from CD8RScoreCohortLib.analysis import run_cohort
from CD8RScoreCohortLib.inputs import Exclusions, read_clinical, read_lesions
from CD8RScoreCohortLib.patient_level import patient_metrics
from CD8RScoreLib.patient import METRICS

DATA = Path(__file__).resolve().parent / "data" / "r_datasets"
SEED = 1
REFERENCE_CUTOFF = 2.0
ESTIMATE_TOLERANCE = 1e-6
P_AND_LIMIT_RELATIVE_TOLERANCE = 1e-4


COVARIATES = ["sex", "age", "albumin_g_l", "ldh_uln", "crp_mg_l", "m_stage", "nlr"]
"""Every covariate column of random_cohort_clinical.csv, as random_cohort.R models them."""


def r_values() -> dict:
    """name -> R's value (None for NA) from random_cohort_r_values.csv."""
    with open(DATA / "random_cohort_r_values.csv", newline="") as handle:
        return {r["name"]: (None if r["value"] == "NA" else float(r["value"])) for r in csv.DictReader(handle)}


@pytest.fixture(scope="module")
def results(tmp_path_factory):
    out = tmp_path_factory.mktemp("random_cohort")
    results = run_cohort(DATA / "random_cohort_lesions.csv", DATA / "random_cohort_clinical.csv", out, seed=SEED,
                         reference_cutoff=REFERENCE_CUTOFF, make_figures=False, covariates=COVARIATES)
    return {**results, "output_folder": str(out)}


def _km(out: dict, prefix: str, km: "dict | None") -> None:
    if km is None:
        return
    out[f"{prefix}/median"] = km["median"]
    out[f"{prefix}/median_lcl"], out[f"{prefix}/median_ucl"] = km["ci95"]
    for row in km["survival"]:
        t = f"{prefix}/surv_{row['time']:g}"
        out[t] = row["surv"]
        out[f"{t}_lcl"], out[f"{t}_ucl"] = row["ci95"] or (None, None)


def _two_groups(out: dict, prefix: str, block: "dict | None") -> None:
    if not block or block.get("p_logrank") is None:
        return
    out[f"{prefix}/p_logrank"] = block["p_logrank"]
    if block["hr"] is not None:
        out[f"{prefix}/hr"] = block["hr"]
        out[f"{prefix}/ci_low"], out[f"{prefix}/ci_high"] = block["ci95"]
        out[f"{prefix}/p_wald"] = block["p_wald"]
    _km(out, f"{prefix}/km_high", block["km_high"])
    _km(out, f"{prefix}/km_low", block["km_low"])


def _terms(out: dict, prefix: str, terms: list[dict]) -> None:
    for t in terms:
        out[f"{prefix}/{t['term']}/hr"] = t["hr"]
        out[f"{prefix}/{t['term']}/ci_low"], out[f"{prefix}/{t['term']}/ci_high"] = t["ci95"]
        out[f"{prefix}/{t['term']}/p_wald"] = t["p_wald"]


def not_searched(results: dict) -> set[str]:
    """The cut-point searches below the project's minimum (minimums.MIN_CUTPOINT_GROUP), which R runs anyway."""
    return {f"{ep}/{m}/optimised/" for ep in ("os", "pfs")
            for m, opt in results["patient_level"][ep]["optimised_cutoff_by_metric"].items()
            if opt["cutoff"] is None and "not searched" in opt["note"]}


def flatten(results: dict) -> dict:
    """results.json's numbers that R computes, named as random_cohort.R names them."""
    out: dict = {}
    pl = results["patient_level"]
    for ep in ("os", "pfs"):
        _km(out, f"{ep}/all", pl[ep]["km_median_all"])
        for m in ("min", "max", "mean"):
            _two_groups(out, f"{ep}/{m}/reference", pl[ep][f"{m}_reference_cutoff"])
        for m, opt in pl[ep]["optimised_cutoff_by_metric"].items():
            pre = f"{ep}/{m}/optimised"
            if f"{pre}/" in not_searched(results):
                continue
            out[f"{pre}/cutoff"] = opt["cutoff"]
            if opt["cutoff_endpoint"] == ep:  # PFS applies the OS cut-off (the study's design)
                out[f"{pre}/statistic"] = opt["statistic"]
                out[f"{pre}/p_lausen_schumacher"] = opt["p_value_lausen_schumacher"]
                out[f"{pre}/p_lausen_schumacher_1994"] = opt["p_value_lausen_schumacher_1994"]
            for part in ("train", "test", "all"):
                _two_groups(out, f"{pre}/{part}", opt[part])
        for row in pl["univariate"][ep]:
            _terms(out, f"{ep}/univariate/{row['variable']}", row["terms"])
            out[f"{ep}/univariate/{row['variable']}/p"] = row["p"]
        selection = pl["multivariate_selection"][ep]
        removals = [s for s in selection["steps"] if s["p"] is not None]
        for k, s in enumerate(removals, start=1):
            out[f"{ep}/stepwise/step{k}/{s['removed']}/p"] = s["p"]
        for v in selection["variables"]:
            out[f"{ep}/multivariate/{v['variable']}/p_lrt"] = v["p_lrt"]
        _terms(out, f"{ep}/multivariate", pl["multivariate"][ep])
    nomogram = pl["nomogram"]
    if nomogram.get("available"):
        for profile in nomogram["profiles"]:
            parts = []
            for v in nomogram["variables"]:
                level = profile[v["variable"]]
                level = {"no": "reference", "yes": v["terms"][0]}.get(level, level) if len(v["terms"]) == 1 else level
                parts.append(f"{v['variable']}={level}")
            for t in (12, 24):
                out[f"os/profile/{';'.join(parts)}/surv_{t}"] = profile[f"os_{t}_months"]
    pdp = pl["progressive_disease_prediction"]
    for rule, block in (("optimised", pdp), ("reference", pdp["reference_cutoff"])):
        for q in ("sensitivity", "specificity", "ppv", "npv"):
            out[f"pd/{rule}/{q}/estimate"] = block[q]["estimate"]
            out[f"pd/{rule}/{q}/ci_low"], out[f"pd/{rule}/{q}/ci_high"] = block[q]["ci95"]
        odds = block["odds_ratio"]
        out[f"pd/{rule}/odds_ratio"] = odds["odds_ratio"]
        out[f"pd/{rule}/odds_ratio_ci_low"], out[f"pd/{rule}/odds_ratio_ci_high"] = odds["ci95"]
        out[f"pd/{rule}/p_fisher"] = odds["p_fisher"]
    return out


def is_p_or_limit(name: str) -> bool:
    """p-values and confidence limits are compared relatively, estimates absolutely."""
    last = name.rsplit("/", 1)[-1]
    return (last.startswith("p_") or last == "p" or last.endswith(("_lcl", "_ucl", "ci_low", "ci_high")))


FISHER_RELATIVE_TOLERANCE = 5e-4
"""R's fisher.test finds the conditional MLE odds ratio and its limits with uniroot at its default tolerance,
.Machine$double.eps^0.25 (1.2e-4), so R's own values are good to about 1e-4 relative (scipy solves them to
machine precision): the odds ratios (not among the numbers R is matched to 1e-6) are compared at 5e-4."""


def agrees(name: str, ours, theirs) -> bool:
    if ours is None or theirs is None:
        return ours is None and theirs is None
    if "/odds_ratio" in name:
        return ours == pytest.approx(theirs, rel=FISHER_RELATIVE_TOLERANCE)
    if is_p_or_limit(name):
        return ours == pytest.approx(theirs, rel=P_AND_LIMIT_RELATIVE_TOLERANCE, abs=1e-300)
    return abs(ours - theirs) <= ESTIMATE_TOLERANCE


def test_the_split_is_the_one_r_was_given(results):
    given = pd.read_csv(DATA / "random_cohort_split.csv", keep_default_na=False)
    ours = pd.read_csv(Path(results["output_folder"]) / "patient_metrics.csv", keep_default_na=False)
    assert dict(zip(ours["patient_id"], ours["split"])) == dict(zip(given["patient_id"], given["split"]))


def test_every_number_r_computes_equals_r(results):
    expected = r_values()
    ours = flatten(results)
    # kurtosis needs 4 lesions: 17 training patients, whose cut-point search would allow groups of one patient
    assert not_searched(results) == {"os/kurtosis/optimised/", "pfs/kurtosis/optimised/"}
    compared = {k: v for k, v in expected.items()
                if not k.startswith(("metric/", "study/", *not_searched(results)))}  # study: own test
    assert set(ours) == set(compared), (sorted(set(ours) - set(compared))[:5], sorted(set(compared) - set(ours))[:5])
    assert len(compared) > 800  # Cox terms, stepwise p, cut-points, HRs, KM, PD intervals, profiles
    disagree = {k: (ours[k], v) for k, v in compared.items() if not agrees(k, ours[k], v)}
    assert disagree == {}


def test_the_cohort_has_what_the_check_needs(results):
    # tied times, censoring, tied metric values, a removal step and a final model in each endpoint, profiles
    clinical = pd.read_csv(DATA / "random_cohort_clinical.csv")
    assert clinical["os_time"].duplicated().any() and (clinical["os_event"] == 0).any()
    assert clinical["albumin_g_l"].isna().any() and clinical["m_stage"].nunique() == 3
    # SDs equal in exact arithmetic that floating-point moments would split into different doubles
    lesions = pd.read_csv(DATA / "random_cohort_lesions.csv")
    considered = lesions[(lesions["timepoint"] == "E0") & (lesions["computable"] == 1) & (lesions["volume_ml"] > 1)]
    float_sd = considered.groupby("patient_id")["score"].std(ddof=1).dropna()
    ours = pd.read_csv(Path(results["output_folder"]) / "patient_metrics.csv")["score_sd"].dropna()
    assert len(ours) == len(float_sd) and ours.nunique() < float_sd.nunique()
    for ep in ("os", "pfs"):
        assert any(s["p"] is not None for s in results["patient_level"]["multivariate_selection"][ep]["steps"])
        assert results["patient_level"]["multivariate"][ep]
    assert len(results["patient_level"]["nomogram"]["profiles"]) >= 4


def test_patient_metrics_equal_r_and_equal_inputs_give_one_value():
    lesions = read_lesions(DATA / "random_cohort_lesions.csv")
    clinical, _ = read_clinical(DATA / "random_cohort_clinical.csv")
    data = patient_metrics(lesions, clinical, 1.0, Exclusions()).set_index("patient_id")
    expected = r_values()
    n = 0
    for name, theirs in expected.items():
        if not name.startswith("metric/"):
            continue
        _, pid, m = name.split("/")
        ours = data.loc[pid, f"score_{m}"]
        if theirs is None:
            assert math.isnan(ours), name
        else:
            assert ours == pytest.approx(theirs, rel=1e-12, abs=1e-12), name
        n += 1
    assert n == len(data) * len(METRICS)
    # R's values (rounded to 12 significant digits) and ours have the same distinct values: ties are kept
    for m in METRICS:
        theirs = {round(v, 10) for k, v in expected.items() if k.endswith(f"/{m}") and v is not None}
        ours = set(data[f"score_{m}"].dropna())
        assert len(ours) == len(theirs), m
