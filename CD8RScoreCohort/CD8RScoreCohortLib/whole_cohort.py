"""Survival of the whole cohort, including patients without a scored lesion larger than the minimum volume.

As the melanoma study (Sun et al., J Immunother Cancer 2022): Kaplan-Meier of OS and PFS for all patients with the
median and its 95 % CI (supplementary figure S2); patients without a scored lesion > 1 mL against the rest
(figure S4); the three groups of figure 4D/E (no scored lesion > 1 mL; minimum score high; minimum score low, at the
cut-off optimised on OS in the training set) with the three-group log-rank test, the Cox HR of each group against
the stated reference group and numbers at risk; and the median follow-up by the reverse Kaplan-Meier method (the
censoring times as events). Times in months. The Cox HRs need the events per term of ``minimums``; below them each
group's row says so.
"""
from __future__ import annotations

import numpy as np
import pandas as pd

from .minimums import model_shortfall
from .survival import at_risk_counts, cox_groups, km_quantiles, km_summary, logrank

NO_LESION_GROUP = "no scored lesion > min volume"
HIGH_GROUP = "minimum score high"
LOW_GROUP = "minimum score low"
REFERENCE_GROUP = LOW_GROUP
"""The three-group HRs are against this group (HR < 1: better survival than patients with a low minimum score)."""
SCORED_GROUP = "a scored lesion > min volume"
AT_RISK_STEP_MONTHS = 12.0
"""Numbers at risk are given every this many months from 0."""


def three_groups(data: pd.DataFrame, cutoff: float) -> pd.Series:
    """Each patient's group of figure 4D/E: no scored lesion > min volume, or minimum score > ``cutoff`` (high) or
    <= ``cutoff`` (low, maxstat's convention). Indexed like ``data``."""
    none = data["n_lesions_considered"] == 0
    high = data["score_min"] > cutoff
    return pd.Series(np.where(none, NO_LESION_GROUP, np.where(high, HIGH_GROUP, LOW_GROUP)), index=data.index)


def at_risk_times(time) -> list[float]:
    """0, 12, 24, ... months up to the longest follow-up."""
    longest = float(np.max(np.asarray(time, dtype=float))) if len(time) else 0.0
    return [float(t) for t in np.arange(0.0, longest + 1e-9, AT_RISK_STEP_MONTHS)]


def grouped_survival(time, event, group, order: list[str], reference: "str | None") -> dict:
    """KM summary, numbers at risk and log-rank test across groups; Cox HRs against ``reference`` (if given)."""
    time = np.asarray(time, dtype=float)
    event = np.asarray(event, dtype=float)
    group = np.asarray(group, dtype=object)
    present = [g for g in order if np.any(group == g)]
    times = at_risk_times(time)
    out = {"groups": {g: km_summary(time[group == g], event[group == g]) for g in present},
           "at_risk": {"times": times, **{g: at_risk_counts(time[group == g], times) for g in present}},
           "logrank": logrank(time, event, group) if len(present) > 1 else {"chi2": None, "df": 0, "p": None}}
    if reference is not None:
        out["reference"] = reference
        out["cox"] = cox_groups(time, event, group, reference) if len(present) > 1 else []
        too_few = model_shortfall(int(event.sum()), len(present) - 1)
        for row in out["cox"] if too_few else []:  # below the events per term of minimums: no HR, and why
            row.update(hr=None, ci95=None, p_wald=None, note=too_few)
    return out


def follow_up(time, event) -> dict:
    """Median follow-up (months) with its IQR by the reverse Kaplan-Meier method: the quartiles of
    ``survfit(Surv(time, 1 - event) ~ 1)``, censoring being the event."""
    q = km_quantiles(time, 1 - np.asarray(event, dtype=float))
    return {"method": "reverse Kaplan-Meier (censoring as the event)", "median": q[1]["time"],
            "ci95": q[1]["ci95"], "iqr": [q[0]["time"], q[2]["time"]]}


def whole_cohort_survival(data: pd.DataFrame, os_cutoff: "float | None", endpoints: tuple[str, ...],
                          min_volume_ml: float) -> tuple[dict, pd.Series]:
    """The ``whole_cohort`` block of results.json and each patient's figure 4D/E group ("" without a cut-off)."""
    scored = np.where(data["n_lesions_considered"] > 0, SCORED_GROUP, NO_LESION_GROUP)
    groups = three_groups(data, os_cutoff) if os_cutoff is not None else pd.Series("", index=data.index)
    block = {"n": int(len(data)), "min_volume_ml": min_volume_ml,
             "follow_up": follow_up(data["os_time"], data["os_event"]),
             "three_groups_cutoff": os_cutoff,
             "group_definitions": {NO_LESION_GROUP: f"no computable baseline lesion > {min_volume_ml:g} mL",
                                   HIGH_GROUP: f"minimum score > {os_cutoff:.4g} (optimised on OS, training set)"
                                   if os_cutoff is not None else "",
                                   LOW_GROUP: f"minimum score <= {os_cutoff:.4g}" if os_cutoff is not None else ""}}
    for endpoint in endpoints:
        t, e = data[f"{endpoint}_time"], data[f"{endpoint}_event"]
        ep = {"all": km_summary(t, e),
              "scored_vs_none": grouped_survival(t, e, scored, [NO_LESION_GROUP, SCORED_GROUP], SCORED_GROUP)}
        ep["all"]["at_risk"] = {"times": at_risk_times(t), "all": at_risk_counts(t, at_risk_times(t))}
        if os_cutoff is not None:
            ep["three_groups"] = grouped_survival(t, e, groups, [NO_LESION_GROUP, HIGH_GROUP, LOW_GROUP],
                                                  REFERENCE_GROUP)
        block[endpoint] = ep
    return block, groups
