"""Nomogram of 12- and 24-month overall survival from a Cox model with 0/1 terms.

Points as in ``rms::nomogram``: each term contributes beta * x shifted so that its lower-risk level scores 0,
scaled so that the term with the largest |beta| spans 0-100 points. Total points map back to the linear
predictor lp = sum(beta * x), and S(t | x) = S0(t) ** exp(lp), S0 being the model's survival at x = 0 (from
lifelines' baseline hazard, Breslow estimator as ``survfit.coxph``).
"""
from __future__ import annotations

import itertools
import math

import numpy as np
import pandas as pd

NOMOGRAM_TIMES_MONTHS: tuple[float, ...] = (12.0, 24.0)
MAX_POINTS = 100.0
MAX_PROFILES_TERMS = 8
"""The risk-profile table lists every combination of up to this many terms (2^8 = 256 rows)."""


def baseline_survival_at_zero(cph, terms: list[str], times) -> np.ndarray:
    """S0(t) for a patient with every term 0."""
    zero = pd.DataFrame([dict.fromkeys(terms, 0.0)])
    sf = cph.predict_survival_function(zero, times=list(times))
    return sf.iloc[:, 0].to_numpy(dtype=float)


def nomogram_model(cph, times=NOMOGRAM_TIMES_MONTHS) -> dict:
    """Points per term level, total-points range, and S0(t) at ``times`` (months)."""
    terms = [str(t) for t in cph.params_.index]
    beta = cph.params_.to_numpy(dtype=float)
    scale = MAX_POINTS / max(np.max(np.abs(beta)), 1e-12)
    points = {}
    for term, b in zip(terms, beta):
        points[term] = {"0": (0.0 - min(0.0, b)) * scale, "1": (b - min(0.0, b)) * scale, "beta": float(b)}
    s0 = baseline_survival_at_zero(cph, terms, times)
    return {"terms": terms, "points": points, "points_per_unit_lp": float(scale),
            "lp_at_zero_points": float(np.sum(np.minimum(0.0, beta))),
            "max_total_points": float(sum(max(p["0"], p["1"]) for p in points.values())),
            "times_months": [float(t) for t in times], "baseline_survival": [float(v) for v in s0]}


def survival_from_points(model: dict, total_points, time_index: int) -> np.ndarray:
    """Predicted survival at ``model["times_months"][time_index]`` for total points."""
    lp = model["lp_at_zero_points"] + np.asarray(total_points, dtype=float) / model["points_per_unit_lp"]
    return model["baseline_survival"][time_index] ** np.exp(lp)


def risk_profiles(cph, model: dict) -> list[dict]:
    """Every combination of the terms (up to MAX_PROFILES_TERMS) with total points and predicted OS."""
    terms = model["terms"][:MAX_PROFILES_TERMS]
    rows = []
    for combo in itertools.product((0.0, 1.0), repeat=len(terms)):
        x = dict(zip(terms, combo))
        total = sum(model["points"][t]["1" if v else "0"] for t, v in x.items())
        sf = cph.predict_survival_function(pd.DataFrame([x]), times=model["times_months"])
        row = {t: int(v) for t, v in x.items()}
        row["total_points"] = total
        for t, s in zip(model["times_months"], sf.iloc[:, 0].to_numpy(dtype=float)):
            row[f"os_{t:g}_months"] = float(s)
        rows.append(row)
    return rows


def plot_nomogram(model: dict, path, title: str) -> None:
    """PNG nomogram: a points scale, one scale per term, total points and the 12/24-month OS scales."""
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    terms = model["terms"]
    n_rows = 1 + len(terms) + 1 + len(model["times_months"])
    fig, ax = plt.subplots(figsize=(9, 0.6 * n_rows + 1.2))
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
    for term in terms:
        y -= 1
        p = model["points"][term]
        xs = [p["0"] / MAX_POINTS, p["1"] / MAX_POINTS]
        scale_line(y, term, xs, ["no", "yes"])
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
    ax.set_title(title, fontsize=9)
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)


def finite(value: float) -> bool:
    """True for a finite float."""
    return math.isfinite(value)
