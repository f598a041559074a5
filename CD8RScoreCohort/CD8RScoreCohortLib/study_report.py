"""Report sections of the study items (``study`` block of results.json), each figure with its caption."""
from __future__ import annotations

import html
from typing import Callable

from CD8RScoreLib import number_format as nf

from .report_html import table as _table
from .report_text import label, term_label

ENDPOINT_TITLES = {"os": "Overall survival", "pfs": "Progression-free survival"}


def _median(km: dict) -> str:
    ci = km["ci95"]
    if not ci or ci[0] is None:
        return f"{'not reached' if km['median'] is None else nf.estimate(km['median'])} (CI {nf.NOT_ESTIMABLE})"
    lo, hi = ("NR" if v is None else nf.estimate(v) for v in ci)
    return f"{'not reached' if km['median'] is None else nf.estimate(km['median'])} ({lo}–{hi})"


def whole_cohort_section(whole: dict, figures: Callable[[str], str]) -> list[str]:
    """Whole cohort: follow-up, KM of all patients, scored vs none, the three groups of figure 4D/E."""
    fu = whole["follow_up"]
    parts = ["<h2>Whole cohort survival (figure 4D/E, supplementary figures S2 and S4)</h2>",
             f"<p>{whole['n']} patients. Median follow-up {nf.estimate(fu['median'])} months (IQR "
             f"{nf.ci(fu['iqr'])}; {html.escape(fu['method'])}). Groups: "
             + "; ".join(f"<i>{html.escape(k)}</i>: {html.escape(v)}" for k, v in whole["group_definitions"].items()
                         if v) + ". Medians in months with 95 % CI (NR: not reached).</p>"]
    for endpoint in ("os", "pfs"):
        ep = whole.get(endpoint)
        if ep is None:
            continue
        rows = [["all patients", nf.estimate(ep["all"]["n"]), nf.estimate(ep["all"]["events"]), _median(ep["all"]), "",
                 "", ""]]
        for analysis in ("scored_vs_none", "three_groups"):
            res = ep.get(analysis)
            if res is None:
                continue
            cox = {c["group"]: c for c in res.get("cox", [])}
            for group, km in res["groups"].items():
                c = cox.get(group)
                hr = "reference" if group == res.get("reference") else (
                    f"{nf.estimate(c['hr'])} ({nf.ci(c['ci95'])}), {nf.p_text(c['p_wald'])}" if c and c["hr"] is not None
                    else html.escape((c or {}).get("note", "–")))
                rows.append([html.escape(group), nf.estimate(km["n"]), nf.estimate(km["events"]), _median(km), hr,
                             nf.p_value(res["logrank"]["p"]), nf.estimate(res["logrank"]["df"])])
        parts.append(f"<h3>{ENDPOINT_TITLES[endpoint]}</h3>" + _table(
            ["group", "n", "events", "median (95 % CI)", "Cox HR vs reference (95 % CI), Wald p", "log-rank p",
             "df"], rows))
        res = ep.get("three_groups")
        if res:
            times = res["at_risk"]["times"]
            parts.append("<p>Numbers at risk (three groups)</p>" + _table(
                ["group"] + [f"{t:g} mo" for t in times],
                [[html.escape(g)] + [str(n) for n in res["at_risk"][g]] for g in res["groups"]]))
        parts.append(figures(f"whole_cohort_{endpoint}"))
    if not any(endpoint in whole for endpoint in ("os", "pfs")):
        parts.append("<p>The survival analyses of the whole cohort were not run: see “Not run” above.</p>")
    return parts


def prognostic_section(block: dict) -> list[str]:
    """Organ sites, RMH and GRIm scores: how they were formed and how many patients have each value."""
    parts = ["<h2>Organ sites and prognostic scores (Table 3 covariates)</h2>",
             "<p>Organ sites are the distinct locations of each patient's baseline lesions; each site, their number "
             "(&gt;= 3), RMH 2-3 and GRIm 2-3 enter the univariate and multivariate Cox models above.</p>"]
    sites = block["organ_sites"]
    parts.append(_table(["organ sites", "patients"], [[html.escape(k), nf.estimate(v)] for k, v in
                                                      sites["n_patients_by_count"].items()]))
    parts.append(_table(["site", "patients involved"], [[html.escape(k), nf.estimate(v)] for k, v in
                                                        sites["n_patients_by_site"].items()]))
    for name in ("rmh", "grim"):
        b = block[name]
        if not b["available"]:
            parts.append(f"<p>{html.escape(b['note'])}.</p>")
            continue
        counts = ", ".join(f"{k}: {v}" for k, v in b["n_patients_by_score"].items())
        parts.append(f"<p>{html.escape(b['definition'])}. Patients by score: {html.escape(counts)}; missing (a part "
                     f"missing): {b['n_missing']}.</p>")
    return parts


def model_choices_section(choices: dict) -> list[str]:
    """Backward selection by AIC beside the p-value rule, and the forced-variable models (S7, S9/S10)."""
    parts = ["<h2>Other model choices (supplementary tables S7, S9, S10)</h2>"]
    if not choices:
        parts.append("<p>Not run: no survival endpoint was analysed (see “Not run” above).</p>")
    for endpoint, models in choices.items():
        parts.append(f"<h3>{ENDPOINT_TITLES[endpoint]}</h3>")
        aic = models["aic_backward"]
        removed = ", ".join(f"{s['removed']} (AIC {nf.estimate(s['aic'], 5)})" if s["aic"] is not None
                            else f"{s['removed']} ({s.get('why', '')})" for s in aic["steps"]) or "none"
        parts.append(f"<p><b>{html.escape(aic['rule'])}</b>: n = {aic.get('n')}, events = {aic.get('events')}; "
                     f"removed in turn: {html.escape(term_label(removed))}; final AIC {nf.estimate(aic.get('aic'), 5)}."
                     f" {html.escape(term_label(aic.get('note', '')))}</p>")
        for key in ("aic_backward", "reference_cutoff_score", "with_n_lesions"):
            res = models[key]
            title = res.get("what", "final model by AIC")
            if not res["terms"]:
                parts.append(f"<p>{html.escape(title)}: {html.escape(term_label(res.get('note', 'no variable')))}</p>")
                continue
            parts.append(f"<p>{html.escape(title)} (n = {res['n']}, events = {res['events']})</p>" + _table(
                ["term", "HR", "95 % CI", "Wald p"],
                [[html.escape(term_label(t["term"])), nf.estimate(t["hr"]), nf.ci(t["ci95"]), nf.p_value(t["p_wald"])]
                 for t in res["terms"]]))
    return parts


def recist_section(block: dict) -> list[str]:
    """Per-patient RECIST 1.1 response at E1: counts, percentages and the objective response rate."""
    orr = block["objective_response_rate"]
    rows = [[r, nf.estimate(c), nf.estimate(block["percent"][r], 3)] for r, c in block["counts"].items()]
    return ["<h2>Patient response at the first evaluation (RECIST 1.1)</h2>",
            f"<p>{html.escape(block['definition'])}; nodes measured by their "
            f"{html.escape(block['nodes_measured_by'])}. {block['n_patients_with_e1']} patients with an E1 CT; "
            "per-patient responses in the files recist_e1.csv and patient_metrics.csv.</p>",
            _table(["response", "patients", "% of patients with E1"], rows),
            f"<p>Objective response rate (CR + PR): {orr['k']}/{orr['n']} = {nf.fixed(orr['estimate'], 2)} (95 % CI "
            f"{nf.ci(orr['ci95'], 2)}, exact).</p>"]


def best_overall_response_section(block: dict) -> list[str]:
    """Supplementary table S3: best overall response, derived and (when the clinical table gives it) over the whole
    follow-up, with the response after initial progression."""
    parts = ["<h2>Best overall response (supplementary table S3)</h2>",
             f"<p>Derived: {html.escape(block['definition'])}. Per-patient values in best_overall_response.csv.</p>"]
    sources = [("derived from the lesion table", block["derived"])]
    if block["given"]:
        sources.append(("over the whole follow-up, from the clinical table", block["given"]))
    else:  # the column's name is in docs/clinical-table.md; the report speaks in words
        parts.append("<p>The clinical table gives no best overall response over the whole follow-up, so the "
                     "response over later scans and the response after initial progression are not shown.</p>")
    for name, b in sources:
        orr = b["objective_response_rate"]
        rows = [[r, nf.estimate(c), nf.estimate(b["percent"][r], 3)] for r, c in b["counts"].items()]
        rows.append(["unknown", nf.estimate(b["missing"]), ""])
        parts.append(f"<h3>Best overall response, {html.escape(name)}</h3>"
                     + (f"<p>From the {html.escape(b['source'])}.</p>" if "source" in b else "")
                     + _table(["response", "patients", "% of patients with a response"], rows)
                     + (f"<p>Objective response rate (CR + PR): {orr['k']}/{orr['n']} = {nf.fixed(orr['estimate'], 2)} "
                        f"(95 % CI {nf.ci(orr['ci95'], 2)}, exact).</p>" if orr["n"] else ""))
    if block["given"]:
        later = block["after_initial_progression"]
        parts.append("<p>Response after initial progression (PD at E1, then a better best overall response): "
                     + ", ".join(f"{r} {n}" for r, n in later.items()) + ".</p>")
        levels = list(next(iter(block["e1_vs_given"].values())).keys()) if block["e1_vs_given"] else []
        parts.append(_table(["response at E1"] + [f"best overall: {g}" for g in levels],
                            [[html.escape(e1)] + [nf.estimate(n) for n in row.values()]
                             for e1, row in block["e1_vs_given"].items()]))
    return parts


def tables_section(t1: dict, t2: dict) -> list[str]:
    """Table 1 (patients, by group of figure 4D/E) and Table 2 (lesions at E0 and E1)."""
    from .study_tables import table_rows

    parts = ["<h2>Table 1: baseline characteristics</h2>", f"<p>{html.escape(t1['note'])}; median (IQR) or n (%)."
             " Also table1_baseline.csv.</p>"]
    rows = table_rows(t1, t1["groups"])
    parts.append(_table(["variable", "level", ""] + t1["groups"],
                        [[html.escape(term_label(r["variable"]))] + [html.escape(str(r[k])) for k in
                                                                    ["level", "statistic"] + t1["groups"]]
                         for r in rows]))
    parts += ["<h2>Table 2: lesions at baseline (E0) and first evaluation (E1)</h2>",
              f"<p>{html.escape(t2['note'])}. Also table2_lesions_e0_e1.csv.</p>"]
    rows = table_rows(t2, t2["sets"])
    parts.append(_table(["variable", "level", ""] + t2["sets"] + ["test", "p"],
                        [[html.escape(term_label(r["variable"]))] + [html.escape(str(r[k])) for k in
                                                                    ["level", "statistic"] + t2["sets"] + ["test"]]
                         + [nf.p_value(r["p"])] for r in rows]))
    return parts


def panels_section(panels: dict, figures: Callable[[str], str]) -> list[str]:
    """Figures 3A, 4A, 4B; supplementary table S8; progressive vs other lesions; score vs volume change."""
    parts = ["<h2>Further panels (figures 3A, 4A, 4B; supplementary table S8)</h2>"]
    parts.append(figures("panels"))
    s8 = panels["spearman_metric_vs_number_of_lesions"]
    parts.append("<h3>Distribution metrics against the number of lesions (Spearman, S8)</h3>" + _table(
        ["metric", "n", "rho vs lesions", "p", "rho vs lesions > min volume", "p"],
        [[html.escape(label(m)), nf.estimate(v["n_lesions"]["n"]), nf.estimate(v["n_lesions"]["rho"]),
          nf.p_value(v["n_lesions"]["p"]), nf.estimate(v["n_lesions_gt_min_volume"]["rho"]),
          nf.p_value(v["n_lesions_gt_min_volume"]["p"])] for m, v in s8.items()]))
    c = panels["score_progressive_vs_other"]

    def mi(cell):
        return "–" if cell["median"] is None else (f"{nf.estimate(cell['median'])} "
                                                   f"({nf.ci([cell['q1'], cell['q3']])})")

    parts.append(f"<p>Baseline score of progressive lesions: median {mi(c['progressive'])} (n = "
                 f"{c['progressive']['n']}); of the others {mi(c['other'])} (n = {c['other']['n']}); Wilcoxon "
                 f"rank-sum {nf.p_text(c['p_wilcoxon_rank_sum'])}.</p>")
    parts.append("<h3>Score against the volume change at E1 (Spearman)</h3>" + _table(
        ["lesions", "n", "rho", "p"], [[html.escape(label(k)), nf.estimate(v["n"]), nf.estimate(v["rho"]),
                                        nf.p_value(v["p"])]
                                       for k, v in panels["spearman_score_vs_volume_change_pct"].items()]))
    return parts


def study_sections(results: dict, figures: Callable[[str], str]) -> list[str]:
    """HTML of the study sections; ``figures(section)``: the HTML of that report section's figures."""
    study = results.get("study")
    if not study:
        return []
    return (tables_section(study["table1"], study["table2"])
            + whole_cohort_section(study["whole_cohort"], figures)
            + prognostic_section(study["prognostic_scores"]) + recist_section(study["recist_e1"])
            + best_overall_response_section(study["best_overall_response"])
            + model_choices_section(study.get("model_choices", {}))
            + panels_section(study["panels"], figures))
