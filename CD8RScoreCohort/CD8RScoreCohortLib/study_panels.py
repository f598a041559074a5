"""The melanoma study's remaining panels: numbers (supplementary table S8, the lesion-level comparisons of the text)
and figures (figure 3A, 4A and 4B).

- S8: Spearman of each distribution metric against the number of baseline lesions and the number of lesions
  larger than the minimum volume, over the patients with the metric.
- Lesion level: median (IQR) baseline score of progressive lesions and of the others, with the Wilcoxon rank-sum p
  (``study_tables.rank_sum_p``, as R's ``wilcox.test``); Spearman of the score against the volume change in all
  lesions and in those > 0.5 and > 1 mL.
Spearman p-values are scipy's t approximation, which is R's ``cor.test(method = "spearman", exact = FALSE)`` (R's
default also when there are ties; without ties and n < 1290 R's default is an exact p instead).
"""
from __future__ import annotations

import pandas as pd

from CD8RScoreLib import number_format as nf
from CD8RScoreLib.patient import METRICS

from .lesion_level import VOLUME_SUBGROUPS_ML, spearman
from .report_text import SET_LABELS, label
from .study_tables import median_iqr, rank_sum_p

PANEL_FIGURES = ("progression_by_reference_class.png", "forest_os_metrics_train_test.png",
                 "km_os_min_optimised_train.png")
"""The panels' figures (figures 3A, 4A, 4B), shown in the report's panels section."""


def metric_spearman(data: pd.DataFrame) -> dict:
    """S8: {metric: {"n_lesions": {n, rho, p}, "n_lesions_gt_min_volume": {...}}}."""
    return {m: {"n_lesions": spearman(data[f"score_{m}"], data["n_lesions"]),
                "n_lesions_gt_min_volume": spearman(data[f"score_{m}"], data["n_lesions_considered"])}
            for m in METRICS}


def lesion_panels(resp: pd.DataFrame) -> dict:
    """Scores of progressive vs other lesions, and Spearman of score vs volume change by volume subgroup."""
    usable = resp[(resp["computable"] == 1) & resp["progression"].notna()]
    progressive = usable.loc[usable["progression"] == 1, "score"]
    other = usable.loc[usable["progression"] == 0, "score"]
    scored = resp[resp["computable"] == 1]
    change = {"all": spearman(scored["score"], scored["volume_change_pct"])}
    for key, threshold in VOLUME_SUBGROUPS_ML.items():
        sub = scored[scored["volume_ml"] > threshold]
        change[key] = spearman(sub["score"], sub["volume_change_pct"])
    return {"score_progressive_vs_other": {"progressive": median_iqr(progressive), "other": median_iqr(other),
                                           "p_wilcoxon_rank_sum": rank_sum_p(progressive, other)},
            "spearman_score_vs_volume_change_pct": change}


def study_panels(data: pd.DataFrame, resp: pd.DataFrame) -> dict:
    """The ``panels`` block: S8 over the patients with a scored lesion > min volume, and the lesion panels."""
    eligible = data[data["n_lesions_considered"] > 0]
    return {"spearman_metric_vs_number_of_lesions": metric_spearman(eligible), **lesion_panels(resp)}


def panel_figures(out_dir, patient_level: dict, lesion_level: dict, data: pd.DataFrame, simulated: str
                  ) -> dict[str, str]:
    """Figures 4A (forest, train and test HRs of every metric, OS), 4B (training-set KM, OS) and 3A (progression by
    reference class); returns file name -> caption."""
    from . import plots

    captions = {}
    os_block = patient_level.get("os", {})  # absent when the OS analyses were not run (results' "not_run")
    rows = []
    for metric, opt in os_block.get("optimised_cutoff_by_metric", {}).items():
        for part in ("train", "test"):
            r = opt.get(part)
            if r:
                rows.append({"label": f"{label(metric)} > {opt['cutoff_text']} ({label(part, SET_LABELS)}, "
                                      f"n={r['n']})", "hr": r["hr"],
                             "ci95": r["ci95"], "p": r["p_wald"]})
    if rows:
        plots.forest_plot(rows, out_dir / "forest_os_metrics_train_test.png",
                          f"OS: HR high vs low of each distribution metric at its optimised cut-off{simulated}")
        captions["forest_os_metrics_train_test.png"] = (
            "Hazard ratios (95 % CI) of overall survival, high vs low, of the seven distribution metrics of the "
            "lesion scores at the cut-offs optimised on the training set, in the training and the test set (figure "
            "4A). Metrics whose HR is not estimable are left out.")
    opt = os_block.get("optimised_cutoff", {})
    if opt.get("cutoff") is not None and opt.get("train"):
        eligible = data[data["n_lesions_considered"] > 0]
        train = eligible[eligible["split"] == "train"]
        plots.km_plot(train["os_time"], train["os_event"], train["score_min"] > opt["cutoff"],
                      f"Overall survival, training set: minimum score vs optimised cut-off {opt['cutoff_text']}"
                      f"{simulated}", out_dir / "km_os_min_optimised_train.png")
        t = opt["train"]
        captions["km_os_min_optimised_train.png"] = (
            f"Overall survival in the training set ({t['n']} patients) by the minimum score at the cut-off "
            f"{opt['cutoff_text']} found there by the maximally selected log-rank statistic (figure 4B): high > "
            f"{opt['cutoff_text']}, low ≤ {opt['cutoff_text']}; HR high vs low {nf.estimate(t['hr'], 2)} "
            f"({nf.ci(t['ci95'], 2)}), log-rank {nf.p_text(t['p_logrank'])}. Numbers at risk below the axis.")
    ref = lesion_level["reference_cutoff"]
    if ref.get("progression_rate_low") is not None and ref.get("progression_rate_high") is not None:
        cut = ref.get("cutoff_text") or nf.fixed(ref["cutoff"], 4)
        plots.bar_plot({f"low (< {cut}, n={ref['n_low']})": ref["progression_rate_low"],
                        f"high (≥ {cut}, n={ref['n_high']})": ref["progression_rate_high"]},
                       out_dir / "progression_by_reference_class.png", "Share of lesions progressing at E1",
                       f"Lesion progression by baseline score class{simulated}")
        captions["progression_by_reference_class.png"] = (
            f"Share of baseline lesions progressing at E1 (diameter +20 %) by score class at the reference cut-off "
            f"{cut} (figure 3A), all baseline lesions with a score and a response: OR low vs high "
            f"{nf.estimate(ref.get('odds_ratio'), 2)} ({nf.ci(ref.get('ci95'), 2)}), "
            f"Fisher {nf.p_text(ref.get('p_fisher'))}.")
    return captions
