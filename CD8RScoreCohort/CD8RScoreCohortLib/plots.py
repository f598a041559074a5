"""PNG figures of the cohort report (matplotlib, off pyplot): KM curves with numbers at risk, ROC curves, forest
plot of hazard ratios, score distribution by location.

Every figure is saved by :func:`save`, which wraps its title and notes to the figure's width (never cut), and
small groups (small_groups.py) are drawn grey, dashed or hatched and say so in the legend.
"""
from __future__ import annotations

import math
import textwrap

import numpy as np
from lifelines import KaplanMeierFitter
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure
from matplotlib.ticker import FuncFormatter, NullFormatter
from matplotlib.transforms import blended_transform_factory

from CD8RScoreLib import number_format as nf

from .roc import roc_curve
from .survival import at_risk_counts

DPI = 110
TITLE_PT = 11
TEXT_PT = 9
"""Notes, legends and numbers at risk (points): legible at the report's width."""
SMALL_COLOUR = "0.55"
"""Grey of a small group's curve, marker or box (small_groups.py)."""


def new_figure(figsize: tuple) -> tuple:
    """(figure, axes) drawn off pyplot and saved with the Agg canvas: no backend is chosen for the whole process,
    so a host application (Slicer) keeps its own. Size in inches."""
    figure = Figure(figsize=figsize)
    FigureCanvasAgg(figure)
    return figure, figure.subplots()


def _wrap_to_width(fig: Figure, artist, text: str, width_px: float) -> None:
    """Set ``text`` on ``artist``, wrapped at the fewest lines whose widest is within ``width_px``."""
    renderer = fig.canvas.get_renderer()
    for chars in range(len(text), 9, -2):
        artist.set_text(textwrap.fill(text, chars, break_on_hyphens=False))
        if artist.get_window_extent(renderer).width <= width_px:
            return


def set_title(fig: Figure, title: str) -> None:
    """The figure's title, centred on the figure and wrapped to its width (a title is never cut)."""
    artist = fig.suptitle(title, fontsize=TITLE_PT)
    _wrap_to_width(fig, artist, title, 0.94 * fig.get_figwidth() * fig.dpi)


def save(fig: Figure, path) -> None:
    """Lay out and write the PNG; titles wrapped beforehand stay whole."""
    fig.tight_layout()
    fig.savefig(path, dpi=DPI)


def _at_risk_table(ax, time: np.ndarray, groups: list[tuple[str, np.ndarray, str]]) -> None:
    """Numbers at risk under the x axis at its ticks, as R's summary(survfit, times)$n.risk and survminer's table:
    time >= t, so n(0) is the group's n (lifelines' add_at_risk_counts leaves out those with an event or censoring
    exactly at t)."""
    ticks = [t for t in ax.get_xticks() if ax.get_xlim()[0] <= t <= ax.get_xlim()[1]]
    along_x = blended_transform_factory(ax.transData, ax.transAxes)
    ax.text(0.0, -0.2, "Numbers at risk", transform=ax.transAxes, ha="right", va="center", fontsize=TEXT_PT,
            fontweight="bold")
    for row, (name, mask, colour) in enumerate(groups):
        y = -0.27 - 0.075 * row
        ax.annotate(name, xy=(0.0, y), xycoords="axes fraction", xytext=(-16, 0), textcoords="offset points",
                    ha="right", va="center", fontsize=TEXT_PT, color=colour)  # clear of a 3-digit count at 0
        for t, n in zip(ticks, at_risk_counts(time[mask], ticks)):
            ax.text(t, y, str(n), transform=along_x, ha="center", va="center", fontsize=TEXT_PT)


def km_plot(time, event, high, title: str, path, note: str = "", xlabel: str = "Months",
            small_groups: int = 0) -> None:
    """Kaplan-Meier curves of groups high and low (see :func:`km_groups_plot`)."""
    high = np.asarray(high, dtype=bool)
    km_groups_plot(time, event, np.where(high, "high", "low"), [("low", "tab:red"), ("high", "tab:blue")], title,
                   path, note, xlabel, small_groups)


def km_groups_plot(time, event, group, order: list[tuple[str, str]], title: str, path, note: str = "",
                   xlabel: str = "Months", small_groups: int = 0) -> None:
    """Kaplan-Meier curves of the groups in ``order`` ((label, colour) pairs; empty groups are skipped), with the
    numbers at risk below the axis and ``note`` (HR, p) in the plot. A group of fewer than ``small_groups``
    patients is drawn dashed and marked "small"."""
    time = np.asarray(time, dtype=float)
    event = np.asarray(event, dtype=float)
    group = np.asarray(group, dtype=object)
    shown = [(name, colour) for name, colour in order if np.any(group == name)]
    fig, ax = new_figure((9, 5.5 + 0.3 * len(shown)))
    rows = []
    for name, colour in shown:
        mask = group == name
        n = int(mask.sum())
        small = n < small_groups
        kmf = KaplanMeierFitter(label=f"{name} (n={n}{', small' if small else ''})")
        kmf.fit(time[mask], event[mask])
        kmf.plot_survival_function(ax=ax, ci_show=False, show_censors=True, color=colour,
                                   linestyle="--" if small else "-")
        rows.append((name, mask, colour))
    end = max(float(time.max()) if time.size else 1.0, 1.0)
    step = 12.0 * math.ceil(end / 12.0 / 9) if end > 24 else 3.0  # whole years, at most 10 ticks
    ax.set_xticks(np.arange(0.0, end + 1e-9, step))
    ax.set_xlim(0, end * 1.02)
    ax.set_xlabel(xlabel)
    ax.set_ylabel("Survival probability")
    ax.set_ylim(0, 1.02)
    ax.legend(fontsize=TEXT_PT, loc="upper right")
    set_title(fig, title)
    if note:
        text = ax.text(0.02, 0.03, note, transform=ax.transAxes, fontsize=TEXT_PT, va="bottom",
                       bbox={"facecolor": "white", "edgecolor": "0.7", "alpha": 0.9})
        _wrap_to_width(fig, text, note, 0.6 * fig.get_figwidth() * fig.dpi)
    if rows:
        _at_risk_table(ax, time, rows)
    save(fig, path)


def roc_plot(curves: list[tuple], path, title: str) -> None:
    """ROC curves; each entry is (label, scores, is_case, auc, small). Direction ">": low score calls
    progression. A small subgroup is drawn grey and dashed and marked "small" in the legend."""
    fig, ax = new_figure((6, 6))
    for name, scores, cases, auc, small in curves:
        fpr, tpr = roc_curve(scores, cases, direction=">")
        text = name if auc is None else f"{name} (AUC {nf.fixed(auc, 2)})"
        style = {"color": SMALL_COLOUR, "linestyle": "--"} if small else {}
        ax.step(fpr, tpr, where="post", label=text + (", small" if small else ""), **style)
    ax.plot([0, 1], [0, 1], ls=":", color="grey", lw=0.8)
    ax.set_xlabel("1 - specificity")
    ax.set_ylabel("Sensitivity")
    set_title(fig, title)
    ax.legend(fontsize=TEXT_PT, loc="lower right")
    save(fig, path)


def forest_plot(rows: list[dict], path, title: str) -> None:
    """Hazard ratios with 95 % CIs on a log axis; rows: {"label", "hr", "ci95", "p", "small"} (rows whose HR or CI
    is not estimable are left out). Small groups: grey hollow markers, "(small)" after the label."""
    rows = [r for r in rows if r.get("hr") is not None and r.get("ci95") and all(
        v is not None and math.isfinite(v) and v > 0 for v in [r["hr"], *r["ci95"]])]
    fig, ax = new_figure((9, 0.4 * max(len(rows), 1) + 1.6))
    for i, r in enumerate(rows):
        y = len(rows) - i
        colour = SMALL_COLOUR if r.get("small") else "black"
        ax.plot(r["ci95"], [y, y], color=colour, lw=1)
        ax.plot([r["hr"]], [y], "s", color=colour if r.get("small") else "tab:blue",
                markerfacecolor="white" if r.get("small") else "tab:blue")
        ax.text(1.02, y, f"{nf.estimate(r['hr'], 2)} ({nf.ci(r['ci95'], 2)}), {nf.p_text(r.get('p'))}",
                transform=ax.get_yaxis_transform(), va="center", fontsize=TEXT_PT, color=colour)
    ax.axvline(1.0, color="grey", ls="--", lw=0.8)
    ax.set_xscale("log")
    # plain numbers on the log axis: its default labels are mathtext ("10^0"), drawn raw when text is literal
    ax.xaxis.set_major_formatter(FuncFormatter(lambda value, _: f"{value:g}"))
    ax.xaxis.set_minor_formatter(NullFormatter())
    ax.set_yticks(range(len(rows), 0, -1))
    ax.set_yticklabels([r["label"] + (" (small)" if r.get("small") else "") for r in rows], fontsize=TEXT_PT)
    for tick, r in zip(ax.get_yticklabels(), rows):
        if r.get("small"):
            tick.set_color(SMALL_COLOUR)
    ax.set_xlabel("Hazard ratio (95 % CI), log scale")
    set_title(fig, title)
    save(fig, path)


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
    set_title(fig, title)
    save(fig, path)


def score_by_location_plot(groups: dict[str, np.ndarray], cutoff: float, cutoff_text: str, path, title: str,
                           small_below: int = 0) -> None:
    """Box plots of lesion scores per location, with the reference cut-off as a line; a location with fewer than
    ``small_below`` lesions is hatched and grey."""
    labels = list(groups)
    fig, ax = new_figure((max(7, 0.65 * len(labels) + 2.5), 5))
    boxes = ax.boxplot([groups[k] for k in labels], showfliers=True, patch_artist=True)
    for name, box in zip(labels, boxes["boxes"]):
        small = len(groups[name]) < small_below
        box.set_facecolor("0.9" if small else "white")
        box.set_hatch("///" if small else "")
        box.set_edgecolor(SMALL_COLOUR if small else "black")
    ax.set_xticks(range(1, len(labels) + 1))
    ax.set_xticklabels([f"{k}\n(n={len(groups[k])})" for k in labels], fontsize=TEXT_PT, rotation=45, ha="right")
    ax.axhline(cutoff, color="tab:red", ls="--", lw=0.8, label=f"reference cut-off {cutoff_text}")
    if any(len(v) < small_below for v in groups.values()):
        from matplotlib.patches import Patch

        ax.legend(handles=[*ax.get_legend_handles_labels()[0],
                           Patch(facecolor="0.9", hatch="///", edgecolor=SMALL_COLOUR,
                                 label=f"fewer than {small_below} lesions")], fontsize=TEXT_PT)
    else:
        ax.legend(fontsize=TEXT_PT)
    ax.set_ylabel("Score")
    set_title(fig, title)
    save(fig, path)
