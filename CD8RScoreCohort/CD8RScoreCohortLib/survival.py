"""Kaplan-Meier medians, log-rank test and Cox proportional hazards, as R's ``survival`` package does them.

Kaplan-Meier and log-rank come from lifelines; the median and its 95 % CI follow ``survival::survfit``
defaults (conf.type = "log", Greenwood variance) as ``print(survfit(...))`` shows them (``survival:::survmean``:
a curve that sits exactly at 0.5 and falls later gives the midpoint of that flat stretch; each limit is found
on its own limit curve), and the survival at 12 and 24 months with its CI as ``summary(survfit, times =
c(12, 24))``. Cox models are lifelines' CoxPHFitter with Efron ties, as
``survival::coxph``; CIs are exp(beta -/+ z_0.975 SE) as ``confint``. Times are in months.
"""
from __future__ import annotations

import math
import warnings
from dataclasses import asdict, dataclass

import numpy as np
import pandas as pd
from lifelines import CoxPHFitter
from lifelines.exceptions import ConvergenceError
from lifelines.statistics import logrank_test, multivariate_logrank_test
from lifelines.utils import survival_table_from_events
from scipy.stats import norm

COX_FIT_OPTIONS = {"precision": 1e-18, "r_precision": 1e-15, "max_steps": 500}
"""Newton-Raphson convergence for CoxPHFitter: to the maximum of the partial likelihood. lifelines returns the
last iterate without its last Newton step, and by default stops when the log-likelihood changes by < 1e-9
relative (R's rule) or the Newton decrement is < 1e-7; after damped steps that leaves the estimate up to 1e-5
from the maximum, where R's full Newton steps stop within 1e-9 of it. A Newton decrement < 1e-18 (a step of
about 1e-9) and a relative change < 1e-15 reach R's estimate to 1e-9, one or two iterations more."""

MAX_ABS_LOG_HR = 15.0
"""|log HR| beyond this (HR < 3e-7 or > 3e6) means the estimate diverged (monotone likelihood)."""

R_TOLERANCE = math.sqrt(np.finfo(float).eps)
"""survival:::survmean's tolerance, sqrt(.Machine$double.eps)."""


def _as_arrays(time, event) -> tuple[np.ndarray, np.ndarray]:
    time = np.asarray(time, dtype=float)
    event = np.asarray(event, dtype=float)
    if time.shape != event.shape:
        raise ValueError("time and event must have the same length")
    if np.isnan(time).any() or np.isnan(event).any():
        raise ValueError("time and event must not contain missing values")
    return time, event


def _minmin(times: np.ndarray, curve: np.ndarray, tol: float = R_TOLERANCE, level: float = 0.5) -> "float | None":
    """Where a survival curve (or one of its limit curves) reaches 0.5, as ``survival:::survmean``'s ``minmin``,
    which ``print(survfit(...))`` and ``summary(survfit)$table`` use.

    Over the times where the curve is defined (not NA), the first time (in time order) where it is < 0.5 + tol;
    if the curve is 0.5 there (within tol) and later falls below that value, the midpoint between that time and
    the first time it does. None when the curve never reaches 0.5. A limit curve need not be monotone (the upper
    limit rises at the tail when the Greenwood variance grows faster than the curve falls); this reads it in
    time order, as R does. ``level`` other than 0.5 gives the other quantiles (``quantile(survfit, 1 - level)``).
    """
    keep = ~np.isnan(curve) & (curve < level + tol)
    if not keep.any():
        return None
    x, y = times[keep], curve[keep]
    below = np.flatnonzero(y < y[0])
    if abs(y[0] - level) < tol and below.size:
        return float((x[0] + x[below[0]]) / 2)
    return float(x[0])


SURVIVAL_TIMES_MONTHS: tuple[float, ...] = (12.0, 24.0)
"""Times (months) at which the report gives each group's Kaplan-Meier survival with its CI."""


def _km_curve(time: np.ndarray, event: np.ndarray, confidence: float) -> dict:
    """survfit's curve at every observed time: surv and the conf.type = "log" limits (Greenwood).

    The counts come from lifelines' event table (what its KaplanMeierFitter builds on; its own intervals are
    log(-log), not R's default).
    """
    table = survival_table_from_events(time, event)
    table = table[table.index > 0] if (table.index == 0).any() and table.loc[0, "observed"] == 0 else table
    times = table.index.to_numpy(dtype=float)
    d = table["observed"].to_numpy(dtype=float)
    n_risk = table["at_risk"].to_numpy(dtype=float)
    surv = np.cumprod(1 - d / n_risk)
    with np.errstate(divide="ignore", invalid="ignore"):
        se_log = np.sqrt(np.cumsum(d / (n_risk * (n_risk - d))))
        z = norm.ppf(1 - (1 - confidence) / 2)
        lower = surv * np.exp(-z * se_log)
        upper = np.minimum(1.0, surv * np.exp(z * se_log))
    undefined = (surv <= 0) | ~np.isfinite(se_log)
    lower[undefined] = np.nan
    upper[undefined] = np.nan
    return {"time": times, "surv": surv, "lower": lower, "upper": upper}


def km_median(time, event, confidence: float = 0.95) -> dict:
    """Kaplan-Meier median survival (months) with its CI, as ``print(survfit(Surv(time, event) ~ 1))``.

    conf.type "log" (R's default, Greenwood variance): the limits are where the lower and upper limit curves
    reach 0.5 (``_minmin``). Returns {"n", "events", "median", "ci95": [lo, hi]}; None where a curve does not
    reach 0.5.
    """
    time, event = _as_arrays(time, event)
    return _median_of(_km_curve(time, event, confidence), time, event)


def km_summary(time, event, times=SURVIVAL_TIMES_MONTHS, confidence: float = 0.95) -> dict:
    """``km_median`` of one group and its survival at ``times`` (months) with the CI, as ``summary(survfit(...),
    times = times)``: {"n", "events", "median", "ci95", "survival"}. "survival" has one {"time", "n_risk", "surv",
    "ci95"} per time; surv and ci95 are None past the last follow-up time (R leaves such a time out) and the
    limits None where the curve is 0."""
    time, event = _as_arrays(time, event)
    curve = _km_curve(time, event, confidence)
    return {**_median_of(curve, time, event), "survival": _survival_of(curve, time, times)}


def km_quantiles(time, event, probs=(0.25, 0.5, 0.75), confidence: float = 0.95) -> list[dict]:
    """Times (months) by which a fraction ``p`` of the curve has fallen, with CIs, as ``quantile(survfit(...),
    probs)``: [{"p", "time", "ci95"}]; None where not reached. The reverse Kaplan-Meier median follow-up is this on
    the censoring indicator (``follow_up``)."""
    time, event = _as_arrays(time, event)
    curve = _km_curve(time, event, confidence)
    return [{"p": float(p), "time": _minmin(curve["time"], curve["surv"], level=1 - p),
             "ci95": [_minmin(curve["time"], curve["lower"], level=1 - p),
                      _minmin(curve["time"], curve["upper"], level=1 - p)]} for p in probs]


def at_risk_counts(time, times) -> list[int]:
    """Numbers at risk (time >= t) at each of ``times`` (months), as ``summary(survfit, times)$n.risk``."""
    time = np.asarray(time, dtype=float)
    return [int(np.sum(time >= t)) for t in times]


def _median_of(curve: dict, time: np.ndarray, event: np.ndarray) -> dict:
    return {"n": int(time.size), "events": int(event.sum()), "median": _minmin(curve["time"], curve["surv"]),
            "ci95": [_minmin(curve["time"], curve["lower"]), _minmin(curve["time"], curve["upper"])]}


def _survival_of(curve: dict, time: np.ndarray, times) -> list[dict]:
    rows = []
    for t in times:
        if t > curve["time"][-1]:
            rows.append({"time": float(t), "n_risk": int(np.sum(time >= t)), "surv": None, "ci95": None})
            continue
        i = int(np.searchsorted(curve["time"], t, side="right")) - 1  # last curve time <= t
        surv = float(curve["surv"][i]) if i >= 0 else 1.0
        lo, hi = (float(curve["lower"][i]), float(curve["upper"][i])) if i >= 0 else (1.0, 1.0)
        ci = None if math.isnan(lo) or math.isnan(hi) else [lo, hi]
        rows.append({"time": float(t), "n_risk": int(np.sum(time >= t)), "surv": surv, "ci95": ci})
    return rows


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
    km_high: "dict | None" = None
    km_low: "dict | None" = None
    """Each group's Kaplan-Meier median with CI and survival at 12 and 24 months with CI (``km_summary``)."""

    def to_dict(self) -> dict:
        """JSON-ready dictionary."""
        return asdict(self)


class CoxModel(CoxPHFitter):
    """lifelines' CoxPHFitter that keeps its training data, so that it can predict survival as R does.

    ``survfit_survival`` is ``survfit(coxph(..., ties = "efron"), newdata)``: a step function of the
    Efron-corrected baseline cumulative hazard. It is written here because lifelines does not provide it:
    lifelines' ``predict_survival_function`` uses Breslow's baseline and interpolates the cumulative hazard
    linearly between event times, which moves a 12- or 24-month prediction by up to 0.02.
    """

    def fit(self, df: pd.DataFrame, duration_col: str, event_col: str, **kwargs) -> "CoxModel":
        super().fit(df, duration_col=duration_col, event_col=event_col, **kwargs)
        self.training_data_ = df.reset_index(drop=True)  # a new frame
        self.training_columns_ = (duration_col, event_col)
        self._efron_baseline_ = None
        return self

    def survfit_survival(self, profiles: pd.DataFrame, times) -> np.ndarray:
        """S(t | x) for each profile (rows) at each time (columns, months), as ``survfit.coxph``.

        Baseline (survival:::agsurv, ctype 2 with Efron ties): at each event time with d deaths, risk-set sum
        R and deaths' sum D of exp(lp), the cumulative hazard grows by sum_{k=0}^{d-1} 1 / (R - k/d D); the
        linear predictor is centred at the training means as coxph does; S = exp(-H(t) exp(lp(x))), with H the
        sum over event times <= t.
        """
        terms = list(self.params_.index)
        beta = self.params_.to_numpy(dtype=float)
        centre, event_times, cumulative = self._efron_baseline()
        index = np.searchsorted(event_times, np.asarray(times, dtype=float), side="right") - 1
        hazard = np.where(index >= 0, cumulative[np.clip(index, 0, None)], 0.0)
        lp = (profiles[terms].to_numpy(dtype=float) - centre) @ beta
        return np.exp(-np.outer(np.exp(lp), hazard))

    def _efron_baseline(self) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """(training means of the terms, event times, Efron cumulative hazard at them), computed once."""
        if getattr(self, "_efron_baseline_", None) is None:
            terms = list(self.params_.index)
            duration_col, event_col = self.training_columns_
            data = self.training_data_
            x = data[terms].to_numpy(dtype=float)
            centre = x.mean(axis=0)
            risk = np.exp((x - centre) @ self.params_.to_numpy(dtype=float))
            time = data[duration_col].to_numpy(dtype=float)
            event = data[event_col].to_numpy(dtype=float) > 0
            event_times, which = np.unique(time[event], return_inverse=True)
            d = np.bincount(which, minlength=event_times.size)
            deaths = np.bincount(which, weights=risk[event], minlength=event_times.size)
            order = np.argsort(time, kind="mergesort")
            tail = np.cumsum(risk[order][::-1])[::-1]  # sum of risk over time >= time[order][i]
            at_risk = tail[np.searchsorted(time[order], event_times, side="left")]
            increments = np.zeros(event_times.size)
            for k in range(int(d.max()) if d.size else 0):
                tied = d > k
                increments[tied] += 1.0 / (at_risk[tied] - k / d[tied] * deaths[tied])
            self._efron_baseline_ = (centre, event_times, np.cumsum(increments))
        return self._efron_baseline_


def fit_cox(data: pd.DataFrame, duration_col: str, event_col: str) -> CoxModel:
    """Fit ``coxph(Surv(duration, event) ~ .)`` on every other column of ``data`` (Efron ties)."""
    cph = CoxModel()
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
    km_high = km_summary(time[high], event[high]) if n_high else None
    km_low = km_summary(time[~high], event[~high]) if n_low else None
    base = dict(n=int(time.size), n_high=n_high, n_low=n_low, events_high=ev_high, events_low=ev_low,
                median_high=km_high["median"] if km_high else None,
                median_low=km_low["median"] if km_low else None, km_high=km_high, km_low=km_low)
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


def cox_groups(time, event, group, reference: str) -> list[dict]:
    """HR of each group against ``reference`` (``coxph(Surv(time, event) ~ relevel(factor(group), reference))``):
    one {"group", "n", "events", "hr", "ci95", "p_wald", "note"} per other group, in order of first appearance.
    A group without events, or a reference without events, has no HR (a note says why)."""
    time, event = _as_arrays(time, event)
    group = np.asarray(group, dtype=object)
    others = [g for g in pd.unique(group) if g != reference]
    rows = [{"group": str(g), "n": int(np.sum(group == g)), "events": int(event[group == g].sum()), "hr": None,
             "ci95": None, "p_wald": None, "note": ""} for g in others]
    if not np.any(group == reference):
        for r in rows:
            r["note"] = f"no patient in the reference group {reference!r}"
        return rows
    if event[group == reference].sum() == 0 or any(r["events"] == 0 for r in rows):
        for r in rows:
            r["note"] = "a group has no events; HR not estimable"
        return rows
    design = pd.DataFrame({"time": time, "event": event})
    for g in others:
        design[str(g)] = (group == g).astype(float)
    try:
        table = {t["term"]: t for t in cox_table(fit_cox(design, "time", "event"))}
    except ConvergenceError:
        for r in rows:
            r["note"] = "Cox model did not converge"
        return rows
    for r in rows:
        t = table[r["group"]]
        r.update(hr=t["hr"], ci95=t["ci95"], p_wald=t["p_wald"], note=t.get("note", ""))
    return rows
