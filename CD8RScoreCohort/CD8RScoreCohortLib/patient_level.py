"""Patient-level analyses (DESIGN §3): heterogeneity metrics of the baseline lesion scores against OS and PFS.

Per patient, the metrics of ``CD8RScoreLib.patient.heterogeneity_metrics`` over the computable baseline lesions
larger than ``min_volume_ml`` (mL). Each metric is dichotomised (a) at the signature's reference cut-off (score
metrics min, max and mean; group "high" = metric >= cut-off, as a lesion's score_class), and (b) at an
optimised cut-off: a seeded 2/3 training / 1/3 test split of patients stratified by the OS event, the maximally
selected log-rank cut-point of OS on training (``cutpoint.maxstat_logrank``, minprop 0.1; "low" = metric <= cut),
and the hazard ratio on test; PFS and progressive disease use the OS cut-off, as the study did. HR convention: high vs low (HR < 1: high metric, longer survival).
"""
from __future__ import annotations

import math

import numpy as np
import pandas as pd

from CD8RScoreLib.patient import METRICS, heterogeneity_metrics

from .cutpoint import DEFAULT_MINPROP, maxstat_logrank
from .diagnostics import diagnostic_performance
from .inputs import PD_COLUMN, Exclusions
from .minimums import cutpoint_shortfall
from .lesion_level import fisher_2x2
from .survival import cox_high_vs_low, km_summary

ENDPOINTS: tuple[str, ...] = ("os", "pfs")
CUTOFF_ENDPOINT = "os"
"""The endpoint the optimised cut-offs are found on (training set); the others apply them, as the melanoma study."""
REFERENCE_CUTOFF_METRICS: tuple[str, ...] = ("min", "max", "mean")
"""Metrics on the score scale, which the signature's reference cut-off applies to."""
PRIMARY_METRIC = "min"
"""The least-infiltrated lesion's score: the melanoma study's main patient-level marker."""
TRAINING_FRACTION = 2.0 / 3.0
"""Fraction of patients (per OS-event stratum) in the training set."""
RECIST_PD_INCREASE_PCT = 20.0
RECIST_PD_ABSOLUTE_MM = 5.0
"""RECIST 1.1's thresholds of progression (sum of diameters +20 % and +5 mm), applied here to every matched lesion."""
PD_FROM_LESION_TABLE = (
    f"a new lesion at E1, or the sum of the longest axial diameters of all delineated baseline lesions matched at E1 "
    f"up by >= {RECIST_PD_INCREASE_PCT:g} % and >= {RECIST_PD_ABSOLUTE_MM:g} mm (every matched lesion, nodes by "
    "their longest diameter too: not RECIST 1.1 target lesions)")
"""Progressive disease at E1 without a ``pd_at_e1`` clinical column, in words (results.json, report, --help, docs)."""


def patient_metrics(lesions: pd.DataFrame, clinical: pd.DataFrame, min_volume_ml: float,
                    exclusions: Exclusions) -> pd.DataFrame:
    """One row per clinical patient with baseline lesions: survival columns and score_<metric> columns.

    Also ``n_lesions`` (all baseline lesions), ``n_lesions_considered`` (computable and > min_volume_ml mL).
    """
    e0 = lesions[lesions["timepoint"] == "E0"]
    patients = clinical[clinical["patient_id"].isin(set(e0["patient_id"]))].copy()
    considered = e0[(e0["computable"] == 1) & (e0["volume_ml"] > min_volume_ml) & np.isfinite(e0["score"])]
    grouped = {pid: g["score"].to_numpy() for pid, g in considered.groupby("patient_id")}
    n_all = e0.groupby("patient_id").size()
    rows = []
    for pid in patients["patient_id"]:
        scores = grouped.get(pid, np.array([]))
        metrics = heterogeneity_metrics(scores)
        row = {"patient_id": pid, "n_lesions": int(n_all.get(pid, 0)), "n_lesions_considered": int(scores.size)}
        row.update({f"score_{m}": metrics[m] for m in METRICS})
        rows.append(row)
    out = patients.merge(pd.DataFrame(rows), on="patient_id", how="left")
    exclusions.add("patients", f"no computable baseline lesion > {min_volume_ml:g} mL: "
                   "left out of the score-based patient analyses",
                   out.loc[out["n_lesions_considered"] == 0, "patient_id"])
    return out


def split_train_test(patients: pd.DataFrame, seed: int, stratify_by: str = "os_event") -> pd.Series:
    """Seeded split stratified by ``stratify_by``: "train" for round(2/3 n) of each stratum, else "test"."""
    rng = np.random.default_rng(seed)
    labels = pd.Series("test", index=patients.index, dtype=object)
    for _, stratum in sorted(patients.groupby(stratify_by), key=lambda kv: kv[0]):
        idx = stratum.sort_values("patient_id").index.to_numpy()
        idx = idx[rng.permutation(idx.size)]
        n_train = int(round(TRAINING_FRACTION * idx.size))
        labels.loc[idx[:n_train]] = "train"
    return labels


def _cox_dict(time, event, high) -> dict:
    return cox_high_vs_low(time, event, high).to_dict()


def reference_cutoff_analysis(data: pd.DataFrame, endpoint: str, metric: str, cutoff: float) -> dict:
    """HR high (metric >= cut-off) vs low with CI, Wald p and log-rank p, on patients with the metric."""
    d = data[np.isfinite(data[f"score_{metric}"])]
    res = _cox_dict(d[f"{endpoint}_time"], d[f"{endpoint}_event"], d[f"score_{metric}"] >= cutoff)
    res["cutoff"] = cutoff
    return res


def optimised_cutoff_analysis(data: pd.DataFrame, split: pd.Series, endpoint: str, metric: str,
                              minprop: float = DEFAULT_MINPROP, optimised_on: "dict | None" = None) -> dict:
    """Cut-point by maximally selected log-rank on training, HR (high = metric > cut) on train, test and all.

    ``optimised_on``: the block of another endpoint whose cut-off is applied here instead of optimising one (the
    melanoma study optimises on OS in the training set and applies that cut-off to PFS).
    """
    col = f"score_{metric}"
    d = data[np.isfinite(data[col])]
    train = d[split.loc[d.index] == "train"]
    test = d[split.loc[d.index] == "test"]
    out = {"metric": metric, "n_train": int(len(train)), "n_test": int(len(test)),
           "n_metric_undefined": int(len(data) - len(d))}  # e.g. SD needs 2 lesions, kurtosis 4
    if optimised_on is not None:
        out["cutoff_endpoint"] = optimised_on["cutoff_endpoint"]
        if optimised_on.get("cutoff") is None:
            out.update({"cutoff": None, "note": optimised_on.get("note", ""), "train": None, "test": None})
            return out
        cut = optimised_on["cutoff"]
    else:
        out["cutoff_endpoint"] = endpoint
        too_few = cutpoint_shortfall(len(train), minprop)
        if too_few:
            out.update({"cutoff": None, "note": too_few, "train": None, "test": None})
            return out
        try:
            cp = maxstat_logrank(train[f"{endpoint}_time"], train[f"{endpoint}_event"], train[col], minprop=minprop)
        except ValueError as exc:
            out.update({"cutoff": None, "note": f"no cut-point on the training set: {exc}", "train": None,
                        "test": None})
            return out
        cut = cp.cutpoint
        out.update({"statistic": cp.statistic, "p_value_lausen_schumacher": cp.p_value_lausen_schumacher,
                    "p_value_lausen_schumacher_1994": cp.p_value_lausen_schumacher_1994, "minprop": minprop})
    out["cutoff"] = cut
    for name, frame in (("train", train), ("test", test), ("all", d)):
        out[name] = _cox_dict(frame[f"{endpoint}_time"], frame[f"{endpoint}_event"], frame[col] > cut)
    return out


def progressive_disease_truth(lesions: pd.DataFrame, resp: pd.DataFrame, clinical: pd.DataFrame) -> pd.Series:
    """Progressive disease at E1 per patient (1/0, NaN without E1 CT), indexed by patient_id.

    From the clinical column ``pd_at_e1`` when present, else from the lesion table as ``PD_FROM_LESION_TABLE`` says
    (every matched lesion, not RECIST 1.1 target lesions: ``recist_patient`` gives the per-patient RECIST 1.1).
    """
    if PD_COLUMN in clinical.columns:
        return clinical.set_index("patient_id")[PD_COLUMN].astype(float)
    with_e1 = set(lesions.loc[lesions["timepoint"] == "E1", "patient_id"])
    e0_keys = set(zip(resp["patient_id"], resp["lesion_id"]))
    e1 = lesions[lesions["timepoint"] == "E1"]
    new_patients = {p for p, l in zip(e1["patient_id"], e1["lesion_id"]) if (p, l) not in e0_keys}
    matched = resp[resp["diameter_e1_mm"].notna() & resp["diameter_e0_mm"].notna()]
    sums = matched.groupby("patient_id")[["diameter_e0_mm", "diameter_e1_mm"]].sum()
    truth = {}
    for pid in clinical["patient_id"]:
        if pid not in with_e1:
            truth[pid] = float("nan")
            continue
        pd_flag = pid in new_patients
        if pid in sums.index:
            s0, s1 = sums.loc[pid, "diameter_e0_mm"], sums.loc[pid, "diameter_e1_mm"]
            if s0 > 0 and 100.0 * (s1 - s0) / s0 >= RECIST_PD_INCREASE_PCT and s1 - s0 >= RECIST_PD_ABSOLUTE_MM:
                pd_flag = True
        truth[pid] = float(pd_flag)
    return pd.Series(truth, dtype=float)


def progressive_disease_definition(clinical: pd.DataFrame) -> str:
    """Which definition of progressive disease at E1 ``progressive_disease_truth`` uses for this clinical table."""
    if PD_COLUMN in clinical.columns:
        return f"clinical column {PD_COLUMN} (as given)"
    return f"lesion table: {PD_FROM_LESION_TABLE}; the per-patient RECIST 1.1 response is in study.recist_e1"


def pd_prediction(data: pd.DataFrame, pd_truth: pd.Series, cutoff: float, cutoff_source: str,
                  exclusions: Exclusions, record_exclusions: bool = True, strict: bool = False) -> dict:
    """High risk = at least one computable lesion > min volume and a low minimum score.

    Low = minimum <= ``cutoff`` (optimised cut-offs, maxstat's convention), or < ``cutoff`` when ``strict``
    (reference cut-off: a score equal to it is "high", as a lesion's score_class).
    Sensitivity, specificity, PPV and NPV (exact CIs) for progressive disease at E1, and the OR (Fisher).
    """
    truth = pd_truth.reindex(data["patient_id"]).to_numpy()
    known = np.isfinite(truth)
    if record_exclusions:
        exclusions.add("patients", "no progressive-disease status at E1 (no E1 CT): left out of PD prediction",
                       data.loc[~known, "patient_id"])
    d = data[known]
    minimum = d[f"score_{PRIMARY_METRIC}"]
    low = minimum < cutoff if strict else minimum <= cutoff
    high_risk = (d["n_lesions_considered"] > 0) & low
    actual = truth[known] == 1
    out = diagnostic_performance(high_risk.to_numpy(), actual)
    c = out["counts"]
    out["odds_ratio"] = fisher_2x2(c["true_positive"], c["false_positive"], c["false_negative"],
                                   c["true_negative"])
    out.update({"n": int(len(d)), "n_high_risk": int(high_risk.sum()), "n_progressive_disease": int(actual.sum()),
                "cutoff": cutoff, "cutoff_source": cutoff_source,
                "rule": "high risk = at least one computable lesion > min volume and minimum score <= cut-off"})
    return out


def analyse_patients(data: pd.DataFrame, reference_cutoff: float, seed: int, minprop: float = DEFAULT_MINPROP,
                     endpoints: tuple[str, ...] = ENDPOINTS) -> tuple[dict, pd.Series]:
    """The blocks of results.json of ``endpoints`` (reference and optimised cut-offs per metric) and the split.

    An endpoint other than CUTOFF_ENDPOINT applies that endpoint's optimised cut-offs; without it (not analysed),
    it has none, and says why."""
    eligible = data[data["n_lesions_considered"] > 0]
    split = split_train_test(eligible, seed)
    out = {}
    not_analysed = {m: {"cutoff_endpoint": CUTOFF_ENDPOINT, "cutoff": None,
                        "note": f"the {CUTOFF_ENDPOINT.upper()} analyses, whose cut-off applies here, were not run"}
                    for m in METRICS}
    for endpoint in endpoints:
        block = {"n": int(len(eligible)), "events": int(eligible[f"{endpoint}_event"].sum()),
                 "km_median_all": km_summary(eligible[f"{endpoint}_time"], eligible[f"{endpoint}_event"])}
        for metric in REFERENCE_CUTOFF_METRICS:
            block[f"{metric}_reference_cutoff"] = reference_cutoff_analysis(eligible, endpoint, metric,
                                                                            reference_cutoff)
        source = None if endpoint == CUTOFF_ENDPOINT else (
            out[CUTOFF_ENDPOINT]["optimised_cutoff_by_metric"] if CUTOFF_ENDPOINT in out else not_analysed)
        all_optimised = {m: optimised_cutoff_analysis(eligible, split, endpoint, m, minprop,
                                                      source[m] if source else None) for m in METRICS}
        block["optimised_cutoff"] = all_optimised[PRIMARY_METRIC]
        block["optimised_cutoff_by_metric"] = all_optimised
        out[endpoint] = block
    return out, split


def analysed_endpoints(results: dict) -> list[str]:
    """The endpoints whose patient-level analyses ran (results.json's ``patient_level`` has their block)."""
    return [endpoint for endpoint in ENDPOINTS if endpoint in results["patient_level"]]


def finite(value) -> bool:
    """True for a finite number."""
    return value is not None and isinstance(value, (int, float)) and math.isfinite(value)
