"""Kaplan-Meier medians, log-rank test and Cox proportional hazards, as R's ``survival`` package does them.

Kaplan-Meier and log-rank come from lifelines; the median and its 95 % CI follow ``survival::survfit``
defaults (conf.type = "log", Greenwood variance) and ``survival:::findq`` (a curve that sits exactly at 0.5
gives the midpoint of that flat stretch). Cox models are lifelines' CoxPHFitter with Efron ties, as
``survival::coxph``; CIs are exp(beta -/+ z_0.975 SE) as ``confint``. Times are in months.
"""
from __future__ import annotations

import math
import warnings
from dataclasses import asdict, dataclass

import numpy as np
import pandas as pd
from lifelines import CoxPHFitter, KaplanMeierFitter
from lifelines.exceptions import ConvergenceError
from lifelines.statistics import logrank_test, multivariate_logrank_test
from scipy.stats import norm

COX_FIT_OPTIONS = {"precision": 1e-12, "max_steps": 500}
"""Newton-Raphson convergence for CoxPHFitter: lifelines' default stops early enough to move p-values in the
4th digit; this reaches survival::coxph's converged estimate (relative log-likelihood change < 1e-9)."""

MAX_ABS_LOG_HR = 15.0
"""|log HR| beyond this (HR < 3e-7 or > 3e6) means the estimate diverged (monotone likelihood)."""

R_TOLERANCE = math.sqrt(np.finfo(float).eps)
"""survival:::quantile.survfit's tolerance, sqrt(.Machine$double.eps)."""


def _as_arrays(time, event) -> tuple[np.ndarray, np.ndarray]:
    time = np.asarray(time, dtype=float)
    event = np.asarray(event, dtype=float)
    if time.shape != event.shape:
        raise ValueError("time and event must have the same length")
    if np.isnan(time).any() or np.isnan(event).any():
        raise ValueError("time and event must not contain missing values")
    return time, event


def _findq(x: np.ndarray, y: np.ndarray, p: float, tol: float = R_TOLERANCE) -> float:
    """``survival:::findq`` for one probability p: x = (0, times), y = (0, 1 - S(times)); NaN if not reached."""
    keep = ~np.isnan(y)
    xmax = x[-1]
    x, y = x[keep], y[keep]
    if y.size == 0 or np.max(y) < p:
        return float("nan")
    _, first = np.unique(y, return_index=True)
    first = np.sort(first)
    x, y = x[first], y[first]
    n = y.size

    def first_index(shifted: np.ndarray) -> "int | None":
        # approx(shifted, 1:n, p, method = "constant", f = 1): index of the first shifted value >= p
        if p < shifted[0] or p > shifted[-1]:
            return None
        return int(np.flatnonzero(shifted >= p)[0])

    i1 = first_index(y + tol)
    i2 = first_index(y - tol)
    if p == 0:
        return float(x[0])
    if abs(p - y[-1]) < tol and i1 is not None:
        return float((x[i1] + xmax) / 2)
    if i1 is None or i2 is None:
        return float("nan")
    return float((x[i1] + x[i2]) / 2)


def km_median(time, event, confidence: float = 0.95) -> dict:
    """Kaplan-Meier median survival (months) with its CI, as ``print(survfit(Surv(time, event) ~ 1))``.

    Returns {"n", "events", "median", "ci95": [lo, hi]}; None where the curve does not reach 0.5.
    """
    time, event = _as_arrays(time, event)
    kmf = KaplanMeierFitter().fit(time, event)
    table = kmf.event_table
    table = table[table.index > 0] if (table.index == 0).any() and table.loc[0, "observed"] == 0 else table
    times = table.index.to_numpy(dtype=float)
    d = table["observed"].to_numpy(dtype=float)
    n_risk = table["at_risk"].to_numpy(dtype=float)
    surv = np.cumprod(1 - d / n_risk)
    with np.errstate(divide="ignore", invalid="ignore"):
        greenwood = np.cumsum(d / (n_risk * (n_risk - d)))
        se_log = np.sqrt(greenwood)
        z = norm.ppf(1 - (1 - confidence) / 2)
        lower = surv * np.exp(-z * se_log)
        upper = np.minimum(1.0, surv * np.exp(z * se_log))
    undefined = (surv <= 0) | ~np.isfinite(se_log)
    lower[undefined] = np.nan
    upper[undefined] = np.nan
    x = np.concatenate([[0.0], times])

    def q(curve: np.ndarray) -> "float | None":
        value = _findq(x, np.concatenate([[0.0], 1 - curve]), 0.5)
        return None if math.isnan(value) else value

    return {"n": int(time.size), "events": int(event.sum()), "median": q(surv),
            "ci95": [q(lower), q(upper)]}


def logrank(time, event, group) -> dict:
    """Log-rank test across the groups of ``group`` (``survival::survdiff``): {"chi2", "df", "p"}."""
    time, event = _as_arrays(time, event)
    group = np.asarray(group)
    levels = pd.unique(group)
    if levels.size < 2:
        return {"chi2": None, "df": 0, "p": None}
    if levels.size == 2:
        a, b = group == levels[0], group == levels[1]
        res = logrank_test(time[a], time[b], event[a], event[b])
        return {"chi2": float(res.test_statistic), "df": 1, "p": float(res.p_value)}
    res = multivariate_logrank_test(time, group, event)
    return {"chi2": float(res.test_statistic), "df": int(levels.size - 1), "p": float(res.p_value)}


@dataclass
class TwoGroupCox:
    """Cox HR of group "high" vs "low" with 95 % CI, Wald p and log-rank p, plus group sizes and events."""

    n: int
    n_high: int
    n_low: int
    events_high: int
    events_low: int
    hr: "float | None"
    ci95: "list | None"
    p_wald: "float | None"
    p_logrank: "float | None"
    median_high: "float | None"
    median_low: "float | None"
    note: str = ""

    def to_dict(self) -> dict:
        """JSON-ready dictionary."""
        return asdict(self)


def fit_cox(data: pd.DataFrame, duration_col: str, event_col: str) -> CoxPHFitter:
    """Fit ``coxph(Surv(duration, event) ~ .)`` on every other column of ``data`` (Efron ties)."""
    cph = CoxPHFitter()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        cph.fit(data, duration_col=duration_col, event_col=event_col, fit_options=dict(COX_FIT_OPTIONS))
    return cph


def cox_high_vs_low(time, event, high) -> TwoGroupCox:
    """HR of high vs low (``coxph(Surv(time, event) ~ high)``, high = 1), Wald p, and survdiff log-rank p.

    The HR is not estimated (None, with a note) when a group is empty or has no events: the partial
    likelihood then has no finite maximum.
    """
    time, event = _as_arrays(time, event)
    high = np.asarray(high, dtype=bool)
    n_high, n_low = int(high.sum()), int((~high).sum())
    ev_high, ev_low = int(event[high].sum()), int(event[~high].sum())
    med_high = km_median(time[high], event[high])["median"] if n_high else None
    med_low = km_median(time[~high], event[~high])["median"] if n_low else None
    base = dict(n=int(time.size), n_high=n_high, n_low=n_low, events_high=ev_high, events_low=ev_low,
                median_high=med_high, median_low=med_low)
    if n_high == 0 or n_low == 0:
        return TwoGroupCox(**base, hr=None, ci95=None, p_wald=None, p_logrank=None,
                           note="one group is empty")
    p_lr = logrank(time, event, high)["p"]
    if ev_high == 0 or ev_low == 0:
        return TwoGroupCox(**base, hr=None, ci95=None, p_wald=None, p_logrank=p_lr,
                           note=f"no events in group {'high' if ev_high == 0 else 'low'}; HR not estimable")
    df = pd.DataFrame({"time": time, "event": event, "high": high.astype(float)})
    try:
        cph = fit_cox(df, "time", "event")
        beta = float(cph.params_["high"])
        se = float(cph.standard_errors_["high"])
    except ConvergenceError:
        beta = se = float("nan")
    if not (math.isfinite(beta) and math.isfinite(se)) or abs(beta) > MAX_ABS_LOG_HR:
        return TwoGroupCox(**base, hr=None, ci95=None, p_wald=None, p_logrank=p_lr,
                           note="HR not estimable: the partial likelihood has no finite maximum (monotone "
                                "likelihood; events in one group all occur where the other has none at risk)")
    z = norm.ppf(0.975)
    return TwoGroupCox(**base, hr=math.exp(beta), ci95=[math.exp(beta - z * se), math.exp(beta + z * se)],
                       p_wald=float(2 * norm.sf(abs(beta / se))), p_logrank=p_lr)


def cox_table(cph: CoxPHFitter) -> list[dict]:
    """One row per model term: {"term", "coef", "se", "hr", "ci95", "p_wald"}."""
    z = norm.ppf(0.975)
    rows = []
    for term in cph.params_.index:
        beta = float(cph.params_[term])
        se = float(cph.standard_errors_[term])
        if not (math.isfinite(beta) and math.isfinite(se)) or abs(beta) > MAX_ABS_LOG_HR:
            rows.append({"term": str(term), "coef": beta, "se": se, "hr": None, "ci95": None, "p_wald": None,
                         "note": "not estimable (monotone likelihood)"})
            continue
        rows.append({"term": str(term), "coef": beta, "se": se, "hr": math.exp(beta),
                     "ci95": [math.exp(beta - z * se), math.exp(beta + z * se)],
                     "p_wald": float(2 * norm.sf(abs(beta / se)))})
    return rows
