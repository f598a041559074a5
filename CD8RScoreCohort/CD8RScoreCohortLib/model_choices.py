"""The melanoma study's other model choices: backward selection by AIC, and models with a forced variable.

- Backward selection by AIC, as R's ``step(coxph(...), direction = "backward")``: from the candidates of the
  p-value rule (univariate p < 0.1, complete cases), each step computes the AIC (-2 log partial likelihood + 2 x
  number of coefficients, ``extractAIC.coxph``) of the model without each variable (all its terms at once) and keeps
  the smallest; it stops when no removal lowers the AIC (the current model comes first among equal AICs, as
  ``step`` orders ``drop1``'s table). Written here because lifelines has no stepwise selection.
- Below the minimum events per term of ``minimums`` (for the starting model of the AIC selection, for each forced
  model) a model is not fitted and its note says why.
- Forced-variable models around the final model of the p-value rule (``multivariate.backward_stepwise``): the
  minimum score at the reference cut-off in place of the optimised one (supplementary table S7), and the number of
  lesions added (tables S9 and S10). Each is one Cox fit on its complete cases.
"""
from __future__ import annotations

import pandas as pd

from .covariates import Covariate
from .minimums import model_shortfall
from .multivariate import ENTRY_P, _design, _fit, _not_estimable
from .survival import cox_table


def _log_likelihood(design: pd.DataFrame, terms: list[str], any_terms: list[str]) -> float:
    """Log partial likelihood of the model of ``terms`` (the null model when empty, from a fit of ``any_terms``)."""
    if terms:
        return float(_fit(design, terms).log_likelihood_)
    fit = _fit(design, any_terms)
    return float(fit.log_likelihood_ - fit.log_likelihood_ratio_test().test_statistic / 2)


def aic_backward(data: pd.DataFrame, endpoint: str, covariates: list[Covariate], univariate_rows: list[dict],
                 entry_p: float = ENTRY_P) -> dict:
    """{"candidates", "n", "events", "steps": [{"removed", "aic"}], "aic", "variables", "terms"}."""
    by_name = {c.name: c for c in covariates}
    candidates = [r["variable"] for r in univariate_rows if r.get("p") is not None and r["p"] < entry_p]
    out = {"rule": "backward selection by AIC (R's step), from the candidates with univariate p < "
                   f"{entry_p:g}", "candidates": candidates, "steps": [], "variables": [], "terms": []}
    if not candidates:
        return {**out, "n": 0, "events": 0, "note": f"no variable with univariate p < {entry_p:g}"}
    design = _design(data, endpoint, [by_name[c] for c in candidates])
    variables = {c: list(by_name[c].terms.columns) for c in candidates}
    out.update(n=int(len(design)), events=int(design["event"].sum()))
    for name in list(variables):
        why = _not_estimable(design, variables[name])
        if why:
            out["steps"].append({"removed": name, "aic": None, "why": why})
            del variables[name]
    if not variables:
        return {**out, "note": "no candidate can be estimated"}
    every = [t for ts in variables.values() for t in ts]
    too_few = model_shortfall(out["events"], len(every))
    if too_few:  # the starting model; each step has fewer terms
        return {**out, "note": f"starting model {too_few}"}

    def aic(names: list[str]) -> float:
        terms = [t for n in names for t in variables[n]]
        return -2 * _log_likelihood(design, terms, every) + 2 * len(terms)

    try:
        current = aic(list(variables))
        while variables:
            names = list(variables)
            drops = [(aic([n for n in names if n != name]), name) for name in names]
            best_aic, best = min(drops, key=lambda d: d[0])  # the first of equal AICs, as R's order()
            if best_aic >= current:  # "<none>" comes first in drop1's table: it wins a tie
                break
            out["steps"].append({"removed": best, "aic": best_aic})
            del variables[best]
            current = best_aic
    except Exception as exc:  # lifelines convergence failures
        return {**out, "note": f"Cox model did not converge: {exc}"}
    out["aic"] = current
    out["variables"] = list(variables)
    if variables:
        out["terms"] = cox_table(_fit(design, [t for ts in variables.values() for t in ts]))
    return out


def forced_model(data: pd.DataFrame, endpoint: str, covariates: list[Covariate], what: str) -> dict:
    """One Cox model of ``covariates`` (all kept) on its complete cases: {"what", "variables", "n", "events",
    "terms"}."""
    out = {"what": what, "variables": [c.name for c in covariates], "terms": []}
    design = _design(data, endpoint, covariates)
    terms = [t for c in covariates for t in c.terms.columns]
    out.update(n=int(len(design)), events=int(design["event"].sum()))
    why = model_shortfall(out["events"], len(terms)) or _not_estimable(design, terms)
    if why:
        return {**out, "note": why}
    try:
        out["terms"] = cox_table(_fit(design, terms))
    except Exception as exc:  # lifelines convergence failures
        out["note"] = f"Cox model did not converge: {exc}"
    return out


def reference_score_covariate(data: pd.DataFrame, cutoff: float) -> Covariate:
    """Minimum score >= the reference cut-off (high, as a lesion's score_class), for the S7 model."""
    x = data.set_index("patient_id")["score_min"]
    term = (x >= cutoff).astype(float).where(x.notna())
    return Covariate("min_score_reference", "reference_cutoff", f"minimum score >= {cutoff:g} (reference cut-off)",
                     term.to_frame(f"min score >= {cutoff:g}"))


def model_choices(data: pd.DataFrame, endpoint: str, covariates: list[Covariate], univariate_rows: list[dict],
                  final_variables: list[str], reference_cutoff: float) -> dict:
    """AIC selection and the forced-variable models (S7: reference cut-off score; S9/S10: number of lesions) of one
    endpoint. ``final_variables``: the variables of the p-value rule's final model."""
    by_name = {c.name: c for c in covariates}
    final = [by_name[v] for v in final_variables]
    with_reference = [c for c in final if c.name != "min_score_optimised"] + [
        reference_score_covariate(data, reference_cutoff)]
    with_lesions = final + ([by_name["n_lesions"]] if "n_lesions" not in final_variables else [])
    return {"aic_backward": aic_backward(data, endpoint, covariates, univariate_rows),
            "reference_cutoff_score": forced_model(
                data, endpoint, with_reference, "final model with the minimum score at the reference cut-off in "
                "place of the optimised one (supplementary table S7)"),
            "with_n_lesions": forced_model(
                data, endpoint, with_lesions, "final model with the number of lesions added (supplementary tables "
                "S9 and S10)")}
