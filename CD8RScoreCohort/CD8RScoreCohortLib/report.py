"""The self-contained HTML report of a cohort analysis (figures embedded as base64 PNG, each with its caption).

Numbers are written by CD8RScoreLib.number_format, row labels come from report_text: no results.json key, template
or file name reaches the reader. Numeric cells never wrap inside a number; wide tables scroll sideways.
"""
from __future__ import annotations

import base64
from pathlib import Path

from CD8RScoreLib import number_format as nf
from CD8RScoreLib.provenance import provenance_html

from .report_html import escape as _e
from .report_html import table as _table
from .report_text import SET_LABELS, ReportFigure, label, term_label
from .small_groups import auc_is_small, auc_note, comparison_is_small, comparison_note

STYLE = (
    "body{font-family:sans-serif;margin:2em auto;max-width:1100px;padding:0 1em}"
    ".scroll{overflow-x:auto;margin:0.5em 0 1.5em}table{border-collapse:collapse}"
    "td,th{border:1px solid #bbb;padding:3px 8px;font-size:0.85em;text-align:left;vertical-align:top}"
    "td.n{white-space:nowrap;text-align:right}th{background:#eee}"
    ".notice{background:#fff3cd;border:1px solid #e0c060;padding:0.6em 1em;font-weight:bold}"
    ".sim{background:#f8d7da;border:1px solid #d08080;padding:0.6em 1em;font-weight:bold}"
    ".provenance th{width:12em}.provenance td{word-break:break-all}code{font-size:0.95em}"
    "figure{margin:1em 0;max-width:100%}img{max-width:100%;height:auto;border:1px solid #ddd}"
    "figcaption{font-size:0.9em;max-width:60em;margin-top:0.3em}"
)


def _figure(number: int, figure: ReportFigure, folder: Path) -> str:
    data = base64.b64encode((folder / figure.file).read_bytes()).decode("ascii")
    return (f"<figure><img alt='{_e(figure.caption)}' src='data:image/png;base64,{data}'/>"
            f"<figcaption><b>Figure {number}.</b> {_e(figure.caption)}</figcaption></figure>")


def _notes(*notes: str) -> str:
    return _e("; ".join(n for n in notes if n))


def _auc_row(name: str, b: dict) -> list:
    small = auc_is_small(b) and b.get("p") is not None
    return [_e(name), nf.estimate(b["n"]), nf.estimate(b["n_progressive"]), nf.estimate(b["auc"]),
            nf.ci(b["ci95"]) if b.get("auc") is not None else nf.MISSING, nf.p_value(b["p"]),
            _notes(b.get("note", ""), auc_note() if small else "")]


def _cox_row(name: str, b: dict) -> list:
    if not b:
        return [_e(name)] + [nf.MISSING] * 6 + [""]
    return [_e(name), f"{b['n_high']}/{b['n_low']}", f"{b['events_high']}/{b['events_low']}",
            nf.estimate(b["hr"]), nf.ci(b["ci95"]) if b.get("hr") is not None else nf.MISSING,
            nf.p_value(b["p_wald"]), nf.p_value(b["p_logrank"]),
            _notes(b.get("note", ""), comparison_note() if comparison_is_small(b) and b.get("hr") is not None else "")]


def _km_row(name: str, km: "dict | None") -> list:
    """Group, n, events, median (95 % CI) and survival (95 % CI) at each time of ``km["survival"]``."""
    if not km:
        return [_e(name)] + [nf.MISSING] * 5
    median = "not reached" if km["median"] is None else f"{nf.estimate(km['median'])} ({_ci_open(km['ci95'])})"
    cells = [_e(name), nf.estimate(km["n"]), nf.estimate(km["events"]), median]
    for row in km["survival"][:2]:
        cells.append(nf.MISSING if row["surv"] is None
                     else f"{nf.fixed(row['surv'], 2)} ({_ci_open(row['ci95'], 2)})")
    return cells


def _ci_open(ci, decimals: "int | None" = None) -> str:
    """A KM CI whose upper limit may be not reached: "40.2–NR"."""
    if not ci or ci[0] is None or (ci[1] is not None and ci[0] == ci[1]):
        return nf.NOT_ESTIMABLE
    text = [("NR" if v is None else (nf.fixed(v, decimals) if decimals else nf.estimate(v))) for v in ci]
    return "–".join(text)


def _prop(b: dict) -> str:
    return nf.proportion(b["estimate"], b.get("ci95"), b["k"], b["n"])


def _or_cell(block: dict) -> str:
    if block.get("odds_ratio") is None:
        return nf.NOT_ESTIMABLE
    return f"{nf.estimate(block['odds_ratio'])} ({nf.ci(block['ci95'])})"


def _cutoff(block: dict, key: str = "cutoff") -> str:
    """The cut-off as printed everywhere (``<key>_text`` written by the analysis), else with 4 decimals."""
    return block.get(f"{key}_text") or nf.fixed(block.get(key), 4)


def provenance_block(results: dict) -> str:
    """Software, signature, reference cut-off and its source, settings, inputs with SHA-256, command, date."""
    s = results["settings"]
    signature = f"{results['signature_name'] or 'unnamed'} (status: {results['signature_status'] or 'unknown'})"
    rows = [("Signature", signature),
            ("Reference cut-off", f"{_cutoff(s, 'reference_cutoff')}; source: {s['reference_cutoff_source']}"),
            ("Settings", f"patient metrics on lesions > {nf.estimate(s['min_volume_ml'])} mL; training/test split "
                         f"seed {s['seed']}; cut-point search minprop {nf.estimate(s['minprop'])}; times in "
                         f"{s['time_unit']}")]
    return provenance_html(results.get("provenance", {}), rows)


def _pd_prediction_section(pdp: dict, ref_text: str) -> list[str]:
    """Sensitivity, specificity, PPV and NPV for progressive disease at E1, at the cut-off and the reference one."""
    ref = pdp["reference_cutoff"]
    return ["<h2>Predicting progressive disease at E1</h2>"
            f"<p>{_e(pdp['rule'])}; cut-off {_e(_cutoff(pdp))} ({_e(pdp['cutoff_source'])}). "
            f"n = {pdp['n']}, high risk {pdp['n_high_risk']}, progressive disease "
            f"{pdp['n_progressive_disease']}. Progressive disease: {_e(pdp['pd_definition'])}.</p>",
            _table(["", "sensitivity", "specificity", "PPV", "NPV", "OR (95 % CI)"],
                   [[f"cut-off {_e(_cutoff(pdp))}"] + [_prop(pdp[k]) for k in ("sensitivity", "specificity",
                                                                                  "ppv", "npv")]
                    + [_or_cell(pdp["odds_ratio"])],
                    [f"reference cut-off {_e(ref_text)}"] + [_prop(ref[k]) for k in ("sensitivity",
                                                                                     "specificity", "ppv", "npv")]
                    + [_or_cell(ref["odds_ratio"])]])]


def _not_run_and_covariates(results: dict) -> list[str]:
    """What the analysis did not run and why, and which clinical columns are covariates, by which rule."""
    parts = []
    if results.get("not_run"):
        parts.append("<h2>Not run</h2><p>These analyses were not run, each for the reason given "
                     "(minimums: docs/clinical-table.md):</p>" + _table(
                         ["analysis", "why"], [[_e(n["analysis"]), _e(n["reason"])] for n in results["not_run"]],
                         text_columns={0, 1}))
    cov = results.get("covariates")
    if cov is not None:
        parts.append(f"<h2>Clinical covariates</h2><p>Covariates: {_e(cov['selection'])}.</p>")
        rows = [[_e(c["variable"]), _e(c["rule"])] for c in cov["used"]]
        rows += [[_e(c["column"]), "not used: " + _e(c["reason"])] for c in cov["not_used"]]
        parts.append(_table(["column", "rule"], rows, text_columns={0, 1}) if rows
                     else "<p>The clinical table has no other column.</p>")
    return parts


class _Figures:
    """Hands out the report's figures section by section, numbered in order of appearance."""

    def __init__(self, figures: list[ReportFigure], folder: Path):
        self.pending, self.folder, self.number = list(figures), folder, 0

    def section(self, name: "str | None") -> str:
        take = [f for f in self.pending if name is None or f.section == name]
        self.pending = [f for f in self.pending if f not in take]
        parts = []
        for figure in take:
            self.number += 1
            parts.append(_figure(self.number, figure, self.folder))
        return "".join(parts)


def build_report(results: dict, figures: "list[ReportFigure]", folder) -> str:
    """HTML text of the report: research-use notice, signature, SIMULATED when so, provenance, then the analyses
    with their figures and captions. ``figures`` are PNG files in ``folder``."""
    figs = _Figures(figures, Path(folder))
    sim = results.get("simulated")
    ref_text = _cutoff(results["settings"], "reference_cutoff")
    parts = [
        "<!DOCTYPE html><html lang='en'><head><meta charset='utf-8'>"
        "<meta name='viewport' content='width=device-width, initial-scale=1'><title>CD8RScore cohort report</title>",
        f"<style>{STYLE}</style></head><body>",
        "<header><h1>CD8RScore cohort report</h1>",
        f"<p class='notice'>{_e(results['notice'])}</p>",
        f"<p><b>Signature:</b> {_e(results['signature_name'] or 'unnamed signature')} "
        f"(status: {_e(results['signature_status'] or 'unknown')})</p>",
    ]
    if sim:
        parts.append("<p class='sim'>SIMULATED DATA: these numbers describe a simulated cohort, not patients.</p>")
    if results["signature_status"] and results["signature_status"] != "published":
        parts.append(f"<p class='sim'>The scores come from a {_e(results['signature_status'])} "
                     "signature, not the published CD8-Rscore.</p>")
    for warning in results.get("plausibility_warnings", []):
        parts.append(f"<p class='sim'>Check the data: {_e(warning)}.</p>")
    parts.append("</header>")
    parts.append(provenance_block(results))

    c = results["counts"]
    parts.append("<h2>Cohort</h2>" + _table(["", "n"], [[_e(label(k)), nf.estimate(v)] for k, v in c.items()]))
    parts.append(figs.section("flow"))
    parts.append("<h2>Exclusions</h2>")
    if results["exclusions"]:
        parts.append(_table(["table", "reason", "count", "identifiers (first ones)"],
                            [[_e(e["table"]), _e(e["reason"]), nf.estimate(e["count"]), _e(" ".join(e["ids"]))]
                             for e in results["exclusions"]], text_columns={0, 1, 3}))
    else:
        parts.append("<p>None.</p>")
    parts += _not_run_and_covariates(results)

    ll = results["lesion_level"]
    pa = ll["progression_auc"]
    parts.append("<h2>Lesion level: baseline score and progression at E1</h2>"
                 "<p>Cases = progressive lesions (diameter +20 %); AUC &gt; 0.5: progressive lesions have lower "
                 "scores. 95 % CI and p (H0: AUC = 0.5) by DeLong.</p>")
    rows = [_auc_row("all", pa["all"]), _auc_row("> 0.5 mL", pa["volume_gt_0.5ml"]),
            _auc_row("> 1 mL", pa["volume_gt_1ml"])]
    for loc, b in pa["by_location"].items():
        rows += [_auc_row(loc, b), _auc_row(f"{loc} > 1 mL", b["volume_gt_1ml"])]
    parts.append(_table(["lesions", "n", "progressive", "AUC", "95 % CI", "p", "note"], rows,
                        text_columns={0, 6}))
    rc = ll["reference_cutoff"]
    parts.append(_table(["reference cut-off", "low: n (progression rate)", "high: n (progression rate)",
                         "OR low vs high", "95 % CI", "Fisher p"],
                        [[_cutoff(rc) if rc.get("cutoff_text") else ref_text,
                          f"{rc['n_low']} ({nf.estimate(rc['progression_rate_low'])})",
                          f"{rc['n_high']} ({nf.estimate(rc['progression_rate_high'])})",
                          nf.estimate(rc["odds_ratio"]), nf.ci(rc["ci95"]), nf.p_value(rc["p_fisher"])]],
                        text_columns=set()))
    assoc = ll["associations"]
    arows = [[_e(label(k)), nf.estimate(v.get("n")), nf.estimate(v.get("rho")), nf.p_value(v.get("p"))]
             for k, v in assoc.items() if k.startswith("spearman")]
    parts.append(_table(["Spearman correlation", "n", "rho", "p"], arows))
    parts.append(figs.section("lesion"))

    pl = results["patient_level"]
    header = ["", "n high/low", "events high/low", "HR high vs low", "95 % CI", "Wald p", "log-rank p", "note"]
    for endpoint in ("os", "pfs"):
        if endpoint not in pl:  # not run: said in "Not run"
            continue
        b = pl[endpoint]
        parts.append(f"<h2>Patient level: {_e(label(endpoint).capitalize())}</h2>")
        rows = [_cox_row(f"{label(m)} ≥ {ref_text} (reference cut-off)", b[f"{m}_reference_cutoff"])
                for m in ("min", "max", "mean")]
        for metric, opt in b["optimised_cutoff_by_metric"].items():
            if opt.get("cutoff") is None:
                rows.append([_e(f"{label(metric)}: {opt.get('note', 'no optimised cut-off')}")] + [nf.MISSING] * 6
                            + [""])
                continue
            name = f"{label(metric)} > {_cutoff(opt)} (optimised)"
            rows.append(_cox_row(name + ", training set", opt.get("train")))
            rows.append(_cox_row(name + ", test set", opt.get("test")))
        parts.append(_table(header, rows, text_columns={0, 7}))
        km_rows = [_km_row("all patients", b["km_median_all"])]
        for m in ("min", "max", "mean"):
            ref = b[f"{m}_reference_cutoff"]
            km_rows += [_km_row(f"{label(m)} ≥ {ref_text} (high)", ref.get("km_high")),
                        _km_row(f"{label(m)} < {ref_text} (low)", ref.get("km_low"))]
        opt = b["optimised_cutoff"]
        for part in ("train", "test"):
            if opt.get(part):
                group = f"{_cutoff(opt)}, {label(part, SET_LABELS)}"
                km_rows += [_km_row(f"minimum score > {group} (high)", opt[part]["km_high"]),
                            _km_row(f"minimum score ≤ {group} (low)", opt[part]["km_low"])]
        parts.append("<h3>Kaplan-Meier</h3><p>Median (months) and survival at 12 and 24 months with 95 % CIs "
                     "(Greenwood, log scale, as R's survfit); NR: not reached; –: no one followed so long.</p>"
                     + _table(["group", "n", "events", "median (95 % CI)", "12-month survival (95 % CI)",
                               "24-month survival (95 % CI)"], km_rows))
        if opt.get("cutoff") is not None and opt.get("cutoff_endpoint") != endpoint:
            parts.append(f"<p>Minimum score: the cut-off {_e(_cutoff(opt))} found on "
                         f"{_e(label(opt['cutoff_endpoint']))} in the training set, applied here "
                         "(as the melanoma study).</p>")
        elif opt.get("cutoff") is not None:
            parts.append(f"<p>Minimum score: maximally selected log-rank statistic {nf.estimate(opt['statistic'])} "
                         f"on {opt['n_train']} training patients; Lausen-Schumacher "
                         f"{nf.p_text(opt['p_value_lausen_schumacher'])} (1992), "
                         f"{nf.p_text(opt['p_value_lausen_schumacher_1994'])} (1994).</p>")
        parts.append(figs.section(endpoint))
        uni = pl["univariate"][endpoint]
        urows = []
        for u in uni:
            if not u["terms"]:
                urows.append([_e(term_label(u["variable"])), nf.MISSING, nf.MISSING, nf.MISSING, nf.MISSING,
                              _e(term_label(u.get("note", "")))])
            for t in u["terms"]:
                urows.append([_e(term_label(t["term"])), nf.estimate(u["n"]), nf.estimate(t["hr"]),
                              nf.ci(t["ci95"]) if t.get("hr") is not None else nf.MISSING, nf.p_value(u["p"]),
                              _e(t.get("note", ""))])
        parts.append("<h3>Univariate Cox</h3>" + _table(["term", "n", "HR", "95 % CI", "p (LRT)", "note"], urows,
                                                        text_columns={0, 5}))
        sel = pl["multivariate_selection"][endpoint]
        parts.append(f"<h3>Multivariate Cox (backward selection from univariate p &lt; {_e(sel['entry_p'])})</h3>")
        if pl["multivariate"][endpoint]:
            parts.append(_table(["term", "HR", "95 % CI", "Wald p"],
                                [[_e(term_label(t["term"])), nf.estimate(t["hr"]), nf.ci(t["ci95"]),
                                  nf.p_value(t["p_wald"])] for t in pl["multivariate"][endpoint]]))
            parts.append(f"<p>n = {sel['n']}, events = {sel['events']}.</p>")
        else:
            parts.append(f"<p>{_e(term_label(sel.get('note', 'no model')))}</p>")
    pdp = pl.get("progressive_disease_prediction")
    parts += _pd_prediction_section(pdp, ref_text) if pdp else []
    parts.append(figs.section("prediction"))
    nomo = pl["nomogram"]
    parts.append("<h2>Nomogram</h2>")
    if nomo.get("available"):
        names = {v["variable"]: term_label(v["label"]) for v in nomo["variables"]}
        prow = [["; ".join(f"{_e(text)}: {_e(p[n])}" for n, text in names.items()),
                 nf.estimate(round(p["total_points"], 1))]
                + [nf.fixed(p[f"os_{t:g}_months"], 2) for t in nomo["times_months"]] for p in nomo["profiles"]]
        parts.append(f"<p>From the {_e(nomo['source'])}.</p>" + _table(
            ["risk profile", "points"] + [f"{t:g}-month OS" for t in nomo["times_months"]], prow))
    else:
        parts.append(f"<p>{_e(nomo.get('note', 'not available'))}</p>")
    parts.append(figs.section("nomogram"))
    from .study_report import study_sections

    parts += study_sections(results, figs.section)
    rest = figs.section(None)
    if rest:
        parts.append("<h2>Other figures</h2>" + rest)
    parts.append(f"<footer><p class='notice'>{_e(results['notice'])}</p></footer></body></html>")
    return "\n".join(parts)
