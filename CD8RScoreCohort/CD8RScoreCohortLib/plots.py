"""PNG figures of the cohort report (matplotlib, Agg backend): KM curves with numbers at risk, ROC curves,
forest plot of hazard ratios, score distribution by location."""
from __future__ import annotations

import math

import numpy as np
from lifelines import KaplanMeierFitter
from matplotlib.figure import Figure

from .roc import roc_curve
from .survival import at_risk_counts

DPI = 110


def new_figure(figsize: tuple) -> tuple:
    """(figure, axes) drawn off pyplot and saved with the Agg canvas: no backend is chosen for the whole process,
    so a host application (Slicer) keeps its own. Size in inches."""
    figure = Figure(figsize=figsize)
    return figure, figure.subplots()


def km_plot(time, event, high, title: str, path, xlabel: str = "Months", footnote: str = "") -> None:
    """Kaplan-Meier curves of groups high and low with numbers at risk below the axis."""
    high = np.asarray(high, dtype=bool)
    km_groups_plot(time, event, np.where(high, "high", "low"), [("low", "tab:red"), ("high", "tab:blue")], title,
                   path, xlabel, footnote)


def km_groups_plot(time, event, group, order: list[tuple[str, str]], title: str, path, xlabel: str = "Months",
                   footnote: str = "") -> None:
    """Kaplan-Meier curves of the groups in ``order`` ((label, colour) pairs; empty groups are skipped), with the
    numbers at risk below the axis."""
    time = np.asarray(time, dtype=float)
    event = np.asarray(event, dtype=float)
    group = np.asarray(group, dtype=object)
    fig, ax = new_figure((9, 5 + 0.2 * len(order)))
    ticks = np.arange(0.0, float(time.max()) + 1e-9, 12.0) if time.size else np.array([0.0])
    shown = [(label, colour) for label, colour in order if np.any(group == label)]
    for row, (label, colour) in enumerate(shown):
        mask = group == label
        kmf = KaplanMeierFitter(label=f"{label} (n={int(mask.sum())})")
        kmf.fit(time[mask], event[mask])
        kmf.plot_survival_function(ax=ax, ci_show=False, show_censors=True, color=colour)
        # numbers at risk as R's summary(survfit, times)$n.risk and survminer's table: time >= t (lifelines'
        # add_at_risk_counts leaves out those with an event or censoring exactly at t)
        y = -54 - 12 * row
        ax.annotate(label, xy=(0, 0), xycoords="axes fraction", xytext=(-8, y), textcoords="offset points",
                    ha="right", va="center", fontsize=7, color=colour)
        for t, n in zip(ticks, at_risk_counts(time[mask], ticks)):
            ax.annotate(str(n), xy=(t, 0), xycoords=("data", "axes fraction"), xytext=(0, y),
                        textcoords="offset points", ha="center", va="center", fontsize=7)
    if shown:
        ax.annotate("Numbers at risk", xy=(0, 0), xycoords="axes fraction", xytext=(-8, -42),
                    textcoords="offset points", ha="right", va="center", fontsize=7, fontweight="bold")
    ax.set_xlabel(xlabel)
    ax.set_ylabel("Survival probability")
    ax.set_ylim(0, 1.02)
    ax.set_xticks(ticks)
    ax.set_title(title, fontsize=10)
    if footnote:
        fig.text(0.01, 0.005, footnote, fontsize=7)
    fig.tight_layout()
    fig.savefig(path, dpi=DPI)


def roc_plot(curves: list[tuple[str, np.ndarray, np.ndarray, "float | None"]], path, title: str) -> None:
    """ROC curves; each entry is (label, scores, is_case, auc). Direction ">": low score calls progression."""
    fig, ax = new_figure((5.5, 5.5))
    for label, scores, cases, auc in curves:
        fpr, tpr = roc_curve(scores, cases, direction=">")
        text = f"{label} (AUC {auc:.2f})" if auc is not None else label
        ax.step(fpr, tpr, where="post", label=text)
    ax.plot([0, 1], [0, 1], ls="--", color="grey", lw=0.8)
    ax.set_xlabel("1 - specificity")
    ax.set_ylabel("Sensitivity")
    ax.set_title(title, fontsize=10)
    ax.legend(fontsize=7, loc="lower right")
    fig.tight_layout()
    fig.savefig(path, dpi=DPI)


def forest_plot(rows: list[dict], path, title: str) -> None:
    """Hazard ratios with 95 % CIs on a log axis; rows: {"label", "hr", "ci95", "p"} (HR None = skipped)."""
    rows = [r for r in rows if r.get("hr") is not None and r.get("ci95") and all(
        math.isfinite(v) and v > 0 for v in [r["hr"], *r["ci95"]])]
    fig, ax = new_figure((8, 0.35 * max(len(rows), 1) + 1.4))
    for i, r in enumerate(rows):
        y = len(rows) - i
        ax.plot(r["ci95"], [y, y], color="black", lw=1)
        ax.plot([r["hr"]], [y], "s", color="tab:blue")
        p = r.get("p")
        ptxt = "" if p is None else (f"p={p:.2g}" if p >= 1e-4 else "p<0.0001")
        ax.text(1.02, y, f"{r['hr']:.2f} ({r['ci95'][0]:.2f}-{r['ci95'][1]:.2f}) {ptxt}",
                transform=ax.get_yaxis_transform(), va="center", fontsize=7)
    ax.axvline(1.0, color="grey", ls="--", lw=0.8)
    ax.set_xscale("log")
    ax.set_yticks(range(len(rows), 0, -1))
    ax.set_yticklabels([r["label"] for r in rows], fontsize=7)
    ax.set_xlabel("Hazard ratio (95 % CI)")
    ax.set_title(title, fontsize=10)
    fig.tight_layout()
    fig.savefig(path, dpi=DPI)


def bar_plot(values: dict[str, float], path, ylabel: str, title: str) -> None:
    """Bars of proportions (0-1) labelled with their percentage; ``values``: bar label -> proportion."""
    fig, ax = new_figure((5.5, 4.5))
    labels = list(values)
    bars = ax.bar(range(len(labels)), [values[k] for k in labels], color=["tab:red", "tab:blue"][:len(labels)])
    for bar, k in zip(bars, labels):
        ax.text(bar.get_x() + bar.get_width() / 2, values[k] + 0.01, f"{100 * values[k]:.0f} %", ha="center",
                fontsize=8)
    ax.set_xticks(range(len(labels)))
    ax.set_xticklabels(labels, fontsize=8)
    ax.set_ylim(0, 1)
    ax.set_ylabel(ylabel)
    ax.set_title(title, fontsize=10)
    fig.tight_layout()
    fig.savefig(path, dpi=DPI)


def score_by_location_plot(groups: dict[str, np.ndarray], cutoff: float, path, title: str) -> None:
    """Box plots of lesion scores per location, with the reference cut-off as a line."""
    labels = list(groups)
    fig, ax = new_figure((max(6, 0.6 * len(labels) + 2), 4.5))
    ax.boxplot([groups[k] for k in labels], showfliers=True)
    ax.set_xticks(range(1, len(labels) + 1))
    ax.set_xticklabels([f"{k}\n(n={len(groups[k])})" for k in labels], fontsize=7, rotation=45, ha="right")
    ax.axhline(cutoff, color="tab:red", ls="--", lw=0.8, label=f"reference cut-off {cutoff:g}")
    ax.set_ylabel("Score")
    ax.set_title(title, fontsize=10)
    ax.legend(fontsize=7)
    fig.tight_layout()
    fig.savefig(path, dpi=DPI)
