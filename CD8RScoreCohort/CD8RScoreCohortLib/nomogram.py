"""Nomogram of 12- and 24-month overall survival from a Cox model whose terms are 0/1 indicators.

Points as in ``rms::nomogram``: a variable (one indicator, or the indicators of one categorical variable) has
levels "reference" (all its indicators 0) and one level per indicator; a level's contribution to the linear
predictor is its beta (0 for the reference), shifted so that the variable's lowest-risk level scores 0, and
scaled so that the variable with the widest range spans 0-100 points. Total points map back to the linear
predictor, and S(t | x) = S0(t) ** exp(lp), S0 being the model's survival with every indicator 0, predicted as
``survfit(coxph(..., ties = "efron"), newdata)`` (``CoxModel.survfit_survival``). Times in months.
"""
from __future__ import annotations

import itertools

import numpy as np
import pandas as pd

NOMOGRAM_TIMES_MONTHS: tuple[float, ...] = (12.0, 24.0)
MAX_POINTS = 100.0
MAX_PROFILES = 512
"""The risk-profile table lists every combination of levels while there are at most this many."""


def baseline_survival_at_zero(cph, terms: list[str], times) -> np.ndarray:
    """S0(t) for a patient with every term 0."""
    zero = pd.DataFrame([dict.fromkeys(terms, 0.0)])
    return cph.survfit_survival(zero, list(times))[0]


def nomogram_model(cph, times=NOMOGRAM_TIMES_MONTHS, groups: "dict[str, list[str]] | None" = None) -> dict:
    """Points per variable level, total-points range, and S0(t) at ``times`` (months).

    groups: variable name -> its indicator terms (default: each term is its own variable, levels no/yes).
    """
    terms = [str(t) for t in cph.params_.index]
    beta = dict(zip(terms, cph.params_.to_numpy(dtype=float)))
    if groups is None:
        groups = {t: [t] for t in terms}
    variables = []
    for name, var_terms in groups.items():
        if len(var_terms) == 1:
            levels = [("no", {}, 0.0), ("yes", {var_terms[0]: 1.0}, beta[var_terms[0]])]
        else:
            levels = [("reference", {}, 0.0)] + [(t, {t: 1.0}, beta[t]) for t in var_terms]
        label = var_terms[0] if len(var_terms) == 1 else name  # e.g. "albumin_g_l < 35": no / yes
        variables.append({"variable": name, "label": label, "terms": list(var_terms), "levels": levels})
    widest = max(max(lv[2] for lv in v["levels"]) - min(lv[2] for lv in v["levels"]) for v in variables)
    scale = MAX_POINTS / max(widest, 1e-12)
    lp_at_zero = 0.0
    for v in variables:
        low = min(lv[2] for lv in v["levels"])
        lp_at_zero += low
        v["levels"] = [{"level": lv[0], "x": lv[1], "lp": lv[2], "points": (lv[2] - low) * scale}
                       for lv in v["levels"]]
    s0 = baseline_survival_at_zero(cph, terms, times)
    return {"terms": terms, "variables": variables, "points_per_unit_lp": float(scale),
            "lp_at_zero_points": float(lp_at_zero),
            "max_total_points": float(sum(max(lv["points"] for lv in v["levels"]) for v in variables)),
            "times_months": [float(t) for t in times], "baseline_survival": [float(v) for v in s0]}


def survival_from_points(model: dict, total_points, time_index: int) -> np.ndarray:
    """Predicted survival at ``model["times_months"][time_index]`` for total points."""
    lp = model["lp_at_zero_points"] + np.asarray(total_points, dtype=float) / model["points_per_unit_lp"]
    return model["baseline_survival"][time_index] ** np.exp(lp)


def risk_profiles(cph, model: dict) -> list[dict]:
    """Every combination of variable levels with total points and the model's predicted OS at each time."""
    variables = model["variables"]
    n_profiles = int(np.prod([len(v["levels"]) for v in variables]))
    if n_profiles > MAX_PROFILES:
        return []
    rows = []
    for combo in itertools.product(*[v["levels"] for v in variables]):
        x = dict.fromkeys(model["terms"], 0.0)
        for level in combo:
            x.update(level["x"])
        predicted = cph.survfit_survival(pd.DataFrame([x]), model["times_months"])[0]
        row = {v["variable"]: level["level"] for v, level in zip(variables, combo)}
        row["total_points"] = float(sum(level["points"] for level in combo))
        for t, s in zip(model["times_months"], predicted):
            row[f"os_{t:g}_months"] = float(s)
        rows.append(row)
    return rows


def plot_nomogram(model: dict, path, title: str) -> None:
    """PNG nomogram: a points scale, one scale per term, total points and the 12/24-month OS scales."""
    from .plots import new_figure, save, set_title

    variables = model["variables"]
    n_rows = 1 + len(variables) + 1 + len(model["times_months"])
    fig, ax = new_figure((9, 0.6 * n_rows + 1.2))
    max_total = max(model["max_total_points"], 1e-9)
    # every scale is drawn on [0, 1] of the x axis: term scales in points/100, outcome scales in total/max
    y = n_rows

    def scale_line(ypos, label, ticks_x, tick_labels):
        ax.plot([min(ticks_x), max(ticks_x)], [ypos, ypos], color="black", lw=1)
        for x, t in zip(ticks_x, tick_labels):
            ax.plot([x, x], [ypos, ypos + 0.12], color="black", lw=1)
            ax.text(x, ypos + 0.18, t, ha="center", va="bottom", fontsize=7)
        ax.text(-0.03, ypos, label, ha="right", va="center", fontsize=8)

    pts = np.linspace(0, MAX_POINTS, 11)
    scale_line(y, "Points", pts / MAX_POINTS, [f"{p:g}" for p in pts])
    for v in variables:
        y -= 1
        ordered = sorted(v["levels"], key=lambda lv: lv["points"])
        scale_line(y, v["label"], [lv["points"] / MAX_POINTS for lv in ordered], [lv["level"] for lv in ordered])
    y -= 1
    totals = np.linspace(0, max_total, 6)
    scale_line(y, "Total points", totals / max_total, [f"{t:.0f}" for t in totals])
    for i, t in enumerate(model["times_months"]):
        y -= 1
        grid = np.linspace(0, max_total, 400)
        surv = survival_from_points(model, grid, i)
        ticks, labels = [], []
        fine = [round(v, 2) for v in np.arange(0.95, 0.0, -0.05)]
        in_range = [v for v in fine if surv.min() <= v <= surv.max()]
        levels = in_range if len(in_range) <= 8 else [v for v in in_range if round(v * 10, 6).is_integer()]
        for level in levels:
            if surv.min() <= level <= surv.max():
                ticks.append(float(np.interp(level, surv[::-1], grid[::-1])) / max_total)
                labels.append(f"{level:g}")
        if len(ticks) < 2:
            ticks = [0.0, 1.0]
            labels = [f"{surv[0]:.2f}", f"{surv[-1]:.2f}"]
        scale_line(y, f"{t:g}-month OS", ticks, labels)
    ax.set_xlim(-0.45, 1.05)
    ax.set_ylim(y - 0.8, n_rows + 0.8)
    ax.axis("off")
    set_title(fig, title)
    save(fig, path)

