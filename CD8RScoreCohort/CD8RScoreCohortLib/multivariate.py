"""Univariate Cox models for every candidate variable and a multivariate Cox model by backward selection.

As the melanoma study: variables with univariate p < 0.1 enter, then backward stepwise elimination to the most
parsimonious model. A variable's p is the likelihood-ratio test of dropping all its terms (``drop1(fit,
test = "Chisq")`` in R); the least significant variable is removed while its p >= 0.05. Models are fitted on
complete cases (no imputation); the number left out for missing values is reported.
"""
from __future__ import annotations

import math

import numpy as np
import pandas as pd
from scipy.stats import chi2

from .covariates import Covariate
from .minimums import model_shortfall
from .survival import cox_table, fit_cox

ENTRY_P = 0.1
"""Univariate p below which a variable is a candidate for the multivariate model."""
STAY_P = 0.05
"""Backward elimination removes the least significant variable while its p is at least this."""


def _design(data: pd.DataFrame, endpoint: str, covariates: list[Covariate]) -> pd.DataFrame:
    """time, event and the covariates' terms on complete cases; index = patient_id."""
    frame = pd.DataFrame({"time": data.set_index("patient_id")[f"{endpoint}_time"],
                          "event": data.set_index("patient_id")[f"{endpoint}_event"]})
    for cov in covariates:
        frame = frame.join(cov.terms, how="left")
    return frame.dropna()


def _not_estimable(design: pd.DataFrame, terms: list[str]) -> "str | None":
    """Why a Cox model of ``terms`` has no finite estimate (a term constant or a level without events)."""
    for term in terms:
        values = design[term]
        if values.nunique() < 2:
            return f"term {term!r} takes a single value"
        if not set(values.unique()) <= {0.0, 1.0}:
            continue  # a continuous term
        for level in (0.0, 1.0):
            if design.loc[values == level, "event"].sum() == 0:
                return f"no events where {term!r} = {level:g}"
    if design["event"].sum() == 0:
        return "no events"
    return None


def _fit(design: pd.DataFrame, terms: list[str]):
    return fit_cox(design[["time", "event"] + terms], "time", "event")


def univariate(data: pd.DataFrame, endpoint: str, covariates: list[Covariate]) -> list[dict]:
    """One row per variable: n, events, missing, each term's HR/CI/Wald p, and the variable's LRT p."""
    rows = []
    for cov in covariates:
        terms = list(cov.terms.columns)
        row = {"variable": cov.name, "definition": cov.definition, "kind": cov.kind}
        if not terms:
            rows.append({**row, "n": 0, "events": 0, "terms": [], "p": None, "note": "not analysable"})
            continue
        design = _design(data, endpoint, [cov])
        row.update({"n": int(len(design)), "events": int(design["event"].sum()),
                    "n_missing": int(len(data) - len(design))})
        why = model_shortfall(row["events"], len(terms)) or _not_estimable(design, terms)
        if why:
            rows.append({**row, "terms": [], "p": None, "note": why})
            continue
        try:
            cph = _fit(design, terms)
        except Exception as exc:  # lifelines convergence failures (separation, collinearity)
            rows.append({**row, "terms": [], "p": None, "note": f"Cox model did not converge: {exc}"})
            continue
        lrt = cph.log_likelihood_ratio_test()
        rows.append({**row, "terms": cox_table(cph), "p": float(lrt.p_value), "note": ""})
    return rows


def _drop_one_p(design: pd.DataFrame, variables: dict[str, list[str]], full_ll: float, name: str) -> float:
    """LRT p of dropping ``name``'s terms from the model of ``variables``."""
    rest = [t for v, ts in variables.items() if v != name for t in ts]
    df = len(variables[name])
    if rest:
        reduced_ll = _fit(design, rest).log_likelihood_
    else:
        alone = _fit(design, variables[name])  # null log-likelihood = ll - LRT statistic / 2
        reduced_ll = alone.log_likelihood_ - alone.log_likelihood_ratio_test().test_statistic / 2
    return float(chi2.sf(max(0.0, 2 * (full_ll - reduced_ll)), df))


def backward_stepwise(data: pd.DataFrame, endpoint: str, covariates: list[Covariate],
                      univariate_rows: list[dict], entry_p: float = ENTRY_P, stay_p: float = STAY_P) -> dict:
    """Multivariate Cox model: candidates with univariate p < entry_p, backward elimination at stay_p.

    Returns {"candidates", "n", "events", "n_missing", "steps": [{"removed", "p"}], "terms": [...final model
    rows...], "variables": [...]}; "terms" is empty when no variable stays.
    """
    by_name = {c.name: c for c in covariates}
    candidates = [r["variable"] for r in univariate_rows if r.get("p") is not None and r["p"] < entry_p]
    out = {"candidates": candidates, "entry_p": entry_p, "stay_p": stay_p, "steps": [], "terms": [],
           "variables": []}
    if not candidates:
        out.update({"n": 0, "events": 0, "note": f"no variable with univariate p < {entry_p:g}"})
        return out
    design = _design(data, endpoint, [by_name[c] for c in candidates])
    out.update({"n": int(len(design)), "events": int(design["event"].sum()),
                "n_missing": int(len(data) - len(design))})
    variables = {c: list(by_name[c].terms.columns) for c in candidates}
    # a term that is constant or without events on the complete cases cannot be estimated: drop it first
    for name in list(variables):
        why = _not_estimable(design, variables[name])
        if why:
            out["steps"].append({"removed": name, "p": None, "why": why})
            del variables[name]
    too_few = model_shortfall(out["events"], sum(len(ts) for ts in variables.values()))
    if too_few:  # the starting model; each step of the selection has fewer terms
        out["note"] = f"multivariate model {too_few}"
        return out
    while variables:
        terms = [t for ts in variables.values() for t in ts]
        try:  # the full model of this step and the models without each variable
            cph = _fit(design, terms)
            ps = {name: _drop_one_p(design, variables, cph.log_likelihood_, name) for name in variables}
        except Exception as exc:  # lifelines convergence failures (too many terms for the events, separation)
            reason = " ".join(str(exc).split()[:40]) or type(exc).__name__
            out["note"] = (f"Cox model did not converge at step {len(out['steps']) + 1} of the backward selection "
                           f"({len(terms)} terms, {out['events']} events): {reason}; no multivariate model is "
                           "reported")
            return out
        worst = max(ps, key=lambda k: (ps[k], k))
        if ps[worst] < stay_p:
            out["terms"] = cox_table(cph)
            out["variables"] = [{"variable": v, "terms": list(variables[v]), "p_lrt": ps[v]} for v in variables]
            out["model"] = cph
            return out
        out["steps"].append({"removed": worst, "p": ps[worst]})
        del variables[worst]
    out["note"] = f"no variable stays at p < {stay_p:g}"
    return out


def strip_model(result: dict) -> dict:
    """The JSON-ready copy of a backward_stepwise result (without the fitted model object)."""
    return {k: v for k, v in result.items() if k != "model"}


def finite_or_none(value) -> "float | None":
    """None for NaN or infinite values (JSON has no NaN)."""
    if value is None:
        return None
    value = float(value)
    return value if math.isfinite(value) else None


def as_float_array(values) -> np.ndarray:
    """Float numpy array of ``values``."""
    return np.asarray(values, dtype=float)
