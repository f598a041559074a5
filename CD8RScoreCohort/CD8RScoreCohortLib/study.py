"""The melanoma study's remaining items, gathered into the ``study`` block of results.json, its CSV tables, its
figures (each with a caption) and its report sections.

Each item lives in its own module; this one runs them in order and writes what they return. docs/paper-items.md
maps every table and figure of the paper (Sun et al., J Immunother Cancer 2022) to where it is produced.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd

from CD8RScoreLib import number_format as nf

from .flow_chart import caption as flow_caption, flow_chart_plot, flow_counts
from .inputs import BOR_COLUMN
from .prognostic_scores import prognostic_covariates, ratio_denominators
from .recist_patient import best_overall_response, recist_at_e1
from .study_panels import PANEL_FIGURES, panel_figures, study_panels
from .study_tables import table1, table2, table_rows
from .whole_cohort import (HIGH_GROUP, LOW_GROUP, NO_LESION_GROUP, SCORED_GROUP, whole_cohort_survival)

ENDPOINT_TITLES = {"os": "Overall survival", "pfs": "Progression-free survival"}
TABLE1_DERIVED: tuple[str, ...] = ("n_organ_sites", "rmh_score", "grim_score", "min_score_reference_class",
                                   "min_score_optimised_class", "recist_e1")
"""Per-patient columns the study derives that Table 1 describes beside the clinical ones."""


@dataclass
class Study:
    """The ``study`` block of results.json and the per-patient columns it adds to patient_metrics.csv."""

    block: dict
    patient_columns: dict = field(default_factory=dict)  # column name -> Series indexed like the patient table
    covariates: list = field(default_factory=list)
    """Covariates derived from the lesions and the clinical parts (organ sites, RMH, GRIm) for the Cox models."""
    tables: dict = field(default_factory=dict)
    """CSV name -> rows written as they are (per-patient and per-lesion tables)."""


def analyse_study(data: pd.DataFrame, lesions: pd.DataFrame, resp: pd.DataFrame, os_cutoff: "float | None",
                  endpoints: tuple[str, ...], min_volume_ml: float, reference_cutoff: float,
                  clinical_variables: list[str]) -> Study:
    """Run the study items on the patient table ``data`` (one row per patient, ``patient_metrics``).

    ``endpoints``: the endpoints whose survival analyses run (the others are reported as not run);
    ``clinical_variables``: the clinical columns that are covariates (named with --covariates or recognised), the
    only ones Table 1 describes and the RMH and GRIm scores read their parts from."""
    whole, groups = whole_cohort_survival(data, os_cutoff, endpoints, min_volume_ml)
    covariates, prognostic, columns = prognostic_covariates(
        data[["patient_id", *clinical_variables, *ratio_denominators(data.columns, clinical_variables)]], lesions)
    recist, recist_table = recist_at_e1(lesions, data["patient_id"])
    columns["recist_e1"] = data["patient_id"].map(dict(zip(recist_table["patient_id"], recist_table["response"])))
    bor, bor_table = best_overall_response(recist_table, data, BOR_COLUMN)
    scored = data["n_lesions_considered"] > 0
    columns["min_score_reference_class"] = np.where(scored, np.where(data["score_min"] >= reference_cutoff, "high",
                                                                     "low"), None)
    if os_cutoff is not None:
        columns["min_score_optimised_class"] = np.where(scored, np.where(data["score_min"] > os_cutoff, "high",
                                                                         "low"), None)
    described = data.assign(**columns)
    t1 = table1(described, clinical_variables + [c for c in TABLE1_DERIVED if c in columns], groups)
    t2 = table2(lesions, reference_cutoff)
    return Study(block={"flow_chart": flow_counts(lesions, data, min_volume_ml), "whole_cohort": whole,
                        "prognostic_scores": prognostic, "recist_e1": recist,
                        "best_overall_response": bor,
                        "table1": t1, "table2": t2, "panels": study_panels(data, resp)},
                 patient_columns={"survival_group": groups, **columns}, covariates=covariates,
                 tables={"recist_e1.csv": recist_table.to_dict("records"),
                         "best_overall_response.csv": bor_table.to_dict("records"),
                         "table1_baseline.csv": table_rows(t1, t1["groups"]),
                         "table2_lesions_e0_e1.csv": table_rows(t2, t2["sets"])})


def study_table_rows(block: dict) -> dict[str, list[dict]]:
    """CSV name -> rows of the study's tables."""
    whole = block["whole_cohort"]
    survival_rows, risk_rows = [], []
    for endpoint in ("os", "pfs"):
        if endpoint not in whole:
            continue
        ep = whole[endpoint]
        analyses = [("all patients", {"groups": {"all": ep["all"]}, "at_risk": ep["all"]["at_risk"]}),
                    ("scored lesion vs none", ep["scored_vs_none"])]
        if "three_groups" in ep:
            analyses.append(("three groups", ep["three_groups"]))
        for analysis, res in analyses:
            cox = {c["group"]: c for c in res.get("cox", [])}
            for group, km in res["groups"].items():
                c = cox.get(group, {})
                ci = km["ci95"]
                hr_ci = c.get("ci95") or [None, None]
                survival_rows.append({
                    "endpoint": endpoint, "analysis": analysis, "group": group, "n": km["n"], "events": km["events"],
                    "median": km["median"], "median_ci_low": ci[0], "median_ci_high": ci[1],
                    "reference": res.get("reference", ""), "hr_vs_reference": c.get("hr"), "hr_ci_low": hr_ci[0],
                    "hr_ci_high": hr_ci[1], "p_wald": c.get("p_wald"),
                    "p_logrank": res.get("logrank", {}).get("p"), "logrank_df": res.get("logrank", {}).get("df")})
            times = res["at_risk"]["times"]
            for group in res["groups"]:
                for t, n in zip(times, res["at_risk"][group]):
                    risk_rows.append({"endpoint": endpoint, "analysis": analysis, "group": group, "time_months": t,
                                      "n_at_risk": n})
    fu = whole["follow_up"]
    model_rows = []
    for endpoint, choices in block.get("model_choices", {}).items():
        for model, res in choices.items():
            for t in res["terms"] or [{}]:
                ci = t.get("ci95") or [None, None]
                model_rows.append({"endpoint": endpoint, "model": model, "n": res.get("n"),
                                   "events": res.get("events"), "aic": res.get("aic"), "term": t.get("term", ""),
                                   "hr": t.get("hr"), "ci_low": ci[0], "ci_high": ci[1], "p_wald": t.get("p_wald"),
                                   "note": res.get("note", "")})
    panels = block["panels"]
    spearman_rows = [{"analysis": "S8", "x": f"score_{m}", "y": what, **res}
                     for m, pair in panels["spearman_metric_vs_number_of_lesions"].items()
                     for what, res in pair.items()]
    spearman_rows += [{"analysis": "score vs volume change", "x": "score", "y": f"volume_change_pct ({key})", **res}
                      for key, res in panels["spearman_score_vs_volume_change_pct"].items()]
    return {"model_choices.csv": model_rows, "spearman_panels.csv": spearman_rows,"whole_cohort_survival.csv": survival_rows, "numbers_at_risk.csv": risk_rows,
            "follow_up.csv": [{"method": fu["method"], "median_months": fu["median"], "ci_low": fu["ci95"][0],
                               "ci_high": fu["ci95"][1], "q1_months": fu["iqr"][0], "q3_months": fu["iqr"][1]}]}


FLOW_CHART_FIGURE = "flow_chart.png"


def study_figure_section(name: str) -> str:
    """The report section a study figure is shown in: the cohort's counts, the panels or its endpoint's
    whole-cohort survival."""
    if name == FLOW_CHART_FIGURE:
        return "flow"
    return "panels" if name in PANEL_FIGURES else f"whole_cohort_{name.split('_')[1]}"


def make_study_figures(out_dir: Path, results: dict, data: pd.DataFrame, simulated: str) -> dict[str, str]:
    """Write the study's PNG figures; returns file name -> caption."""
    from . import plots

    whole = results["study"]["whole_cohort"]
    groups = data["survival_group"]
    flow_chart_plot(results, out_dir / FLOW_CHART_FIGURE, f"Patients and lesions analysed{simulated}")
    captions = {FLOW_CHART_FIGURE: flow_caption(results)}
    captions.update(panel_figures(out_dir, results["patient_level"], results["lesion_level"], data, simulated))
    scored = (data["n_lesions_considered"] > 0).map({True: SCORED_GROUP, False: NO_LESION_GROUP})
    for endpoint in ("os", "pfs"):
        if endpoint not in whole:
            continue
        ep, title = whole[endpoint], ENDPOINT_TITLES[endpoint]
        t, e = data[f"{endpoint}_time"], data[f"{endpoint}_event"]
        km = ep["all"]
        name = f"km_{endpoint}_whole_cohort.png"
        plots.km_groups_plot(t, e, ["all patients"] * len(t), [("all patients", "black")],
                             f"{title}, all patients{simulated}", out_dir / name)
        captions[name] = (f"{title} of all {km['n']} patients ({km['events']} events): median "
                          f"{_months(km['median'])} (95 % CI {_months(km['ci95'][0])} to {_months(km['ci95'][1])}) "
                          "(supplementary figure S2).")
        res = ep["scored_vs_none"]
        name = f"km_{endpoint}_no_scored_lesion_vs_rest.png"
        plots.km_groups_plot(t, e, scored, [(NO_LESION_GROUP, "tab:green"), (SCORED_GROUP, "tab:blue")],
                             f"{title}: no scored lesion > {whole['min_volume_ml']:g} mL vs the rest{simulated}",
                             out_dir / name)
        captions[name] = (f"{title} of patients without a scored lesion > {whole['min_volume_ml']:g} mL against the "
                          f"rest; log-rank {nf.p_text(res['logrank']['p'])} (supplementary figure S4).")
        if "three_groups" in ep:
            res = ep["three_groups"]
            cut = whole.get("three_groups_cutoff_text") or nf.fixed(whole["three_groups_cutoff"], 4)
            name = f"km_{endpoint}_three_groups.png"
            plots.km_groups_plot(t, e, groups, [(NO_LESION_GROUP, "tab:green"), (HIGH_GROUP, "tab:blue"),
                                                (LOW_GROUP, "tab:red")],
                                 f"{title}, three groups (cut-off {cut}){simulated}",
                                 out_dir / name)
            hrs = "; ".join(f"{c['group']} HR {nf.estimate(c['hr'], 2)} ({nf.ci(c['ci95'], 2)}), "
                            f"{nf.p_text(c['p_wald'])}" for c in res["cox"])
            captions[name] = (f"{title} in three groups (figure 4{'D' if endpoint == 'os' else 'E'}): no scored "
                              f"lesion > {whole['min_volume_ml']:g} mL, minimum score high or low at the cut-off "
                              f"{cut} optimised on OS in the training set. Log-rank "
                              f"(2 df) {nf.p_text(res['logrank']['p'])}; Cox HRs against {res['reference']}: {hrs}. "
                              "Numbers at risk below the axis.")
    return captions


def _months(value) -> str:
    return "not reached" if value is None else f"{value:.1f} months"

