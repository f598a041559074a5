"""The self-contained HTML report of a cohort analysis (figures embedded as base64 PNG)."""
from __future__ import annotations

import base64
import html
from pathlib import Path


def _fmt(value, digits: int = 3) -> str:
    """Cell text: "–" for missing, integers as is, floats with ``digits`` significant digits."""
    if value is None:
        return "–"
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, int):
        return str(value)
    if isinstance(value, float):
        if value == 0:
            return "0"
        if abs(value) < 1e-4:
            return f"{value:.2e}"
        if abs(value) >= 1000:
            return f"{value:.0f}"
        return f"{value:.{digits}g}"
    return html.escape(str(value))


def _ci(ci) -> str:
    return "–" if not ci else f"{_fmt(ci[0])}–{_fmt(ci[1])}"


def _table(header: list[str], rows: list[list]) -> str:
    head = "".join(f"<th>{html.escape(h)}</th>" for h in header)
    body = "".join("<tr>" + "".join(f"<td>{c}</td>" for c in row) + "</tr>" for row in rows)
    return f"<table><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>"


def _img(path: Path, alt: str, caption: "str | None" = None) -> str:
    data = base64.b64encode(Path(path).read_bytes()).decode("ascii")
    return f'<figure><img alt="{html.escape(alt)}" src="data:image/png;base64,{data}"/>' \
           f"<figcaption>{html.escape(caption or alt)}</figcaption></figure>"


def _auc_row(label: str, b: dict) -> list:
    return [html.escape(label), _fmt(b["n"]), _fmt(b["n_progressive"]), _fmt(b["auc"]), _ci(b["ci95"]),
            _fmt(b["p"]), html.escape(b.get("note", ""))]


def _cox_row(label: str, b: dict) -> list:
    if not b:
        return [html.escape(label)] + ["–"] * 7
    return [html.escape(label), f"{b['n_high']}/{b['n_low']}", f"{b['events_high']}/{b['events_low']}",
            _fmt(b["hr"]), _ci(b["ci95"]), _fmt(b["p_wald"]), _fmt(b["p_logrank"]), html.escape(b.get("note", ""))]


def _km_row(label: str, km: "dict | None") -> list:
    """Group, n, events, median (95 % CI) and survival (95 % CI) at each time of ``km["survival"]``."""
    if not km:
        return [html.escape(label), "–", "–", "–", "–", "–"]
    cells = [html.escape(label), _fmt(km["n"]), _fmt(km["events"]),
             "not reached" if km["median"] is None else f"{_fmt(km['median'])} ({_ci_open(km['ci95'])})"]
    for row in km["survival"][:2]:
        cells.append("–" if row["surv"] is None else f"{_fmt(row['surv'], 2)} ({_ci_open(row['ci95'], 2)})")
    return cells


def _ci_open(ci, digits: int = 3) -> str:
    """A CI whose limits may be missing (not reached): "lo–NR"."""
    if not ci:
        return "–"
    return "–".join("NR" if v is None else _fmt(v, digits) for v in ci)


def _prop(b: dict) -> str:
    if b["estimate"] is None:
        return "–"
    return f"{_fmt(b['estimate'], 2)} ({_ci([round(b['ci95'][0], 2), round(b['ci95'][1], 2)])}) [{b['k']}/{b['n']}]"


def build_report(results: dict, figures: dict) -> str:
    """HTML text of the report: header with the research-use notice, the signature and (if so) SIMULATED."""
    sig = f"{results['signature_name'] or 'unnamed signature'} (status: {results['signature_status'] or 'unknown'})"
    sim = results.get("simulated")
    parts = [
        "<!DOCTYPE html><html lang='en'><head><meta charset='utf-8'><title>CD8RScore cohort report</title>",
        "<style>body{font-family:sans-serif;margin:2em;max-width:1100px}table{border-collapse:collapse;"
        "margin:0.5em 0 1.5em}td,th{border:1px solid #bbb;padding:3px 8px;font-size:0.85em;text-align:left}"
        "th{background:#eee}.notice{background:#fff3cd;border:1px solid #e0c060;padding:0.6em 1em;"
        "font-weight:bold}.sim{background:#f8d7da;border:1px solid #d08080;padding:0.6em 1em;font-weight:bold}"
        "figure{display:inline-block;margin:0.5em}img{max-width:100%}</style></head><body>",
        "<header><h1>CD8RScore cohort report</h1>",
        f"<p class='notice'>{html.escape(results['notice'])}</p>",
        f"<p><b>Signature:</b> {html.escape(sig)}</p>",
    ]
    if sim:
        parts.append("<p class='sim'>SIMULATED DATA: these numbers describe a simulated cohort, not patients.</p>")
    if results["signature_status"] and results["signature_status"] != "published":
        parts.append(f"<p class='sim'>The scores come from a {html.escape(results['signature_status'])} "
                     "signature, not the published CD8-Rscore.</p>")
    for warning in results.get("plausibility_warnings", []):
        parts.append(f"<p class='sim'>Check the data: {html.escape(warning)}.</p>")
    s = results["settings"]
    parts.append(f"<p>Reference cut-off {_fmt(s['reference_cutoff'], 4)} ({html.escape(s['reference_cutoff_source'])})"
                 f"; patient metrics on lesions &gt; {_fmt(s['min_volume_ml'])} mL; seed {s['seed']}; "
                 f"times in months.</p></header>")

    c = results["counts"]
    parts.append("<h2>Cohort</h2>" + _table(["count", "value"], [[html.escape(k), _fmt(v)] for k, v in c.items()]))
    parts.append("<h2>Exclusions</h2>")
    if results["exclusions"]:
        parts.append(_table(["table", "reason", "count", "identifiers (first ones)"],
                            [[html.escape(e["table"]), html.escape(e["reason"]), _fmt(e["count"]),
                              html.escape(" ".join(e["ids"]))] for e in results["exclusions"]]))
    else:
        parts.append("<p>None.</p>")

    ll = results["lesion_level"]
    pa = ll["progression_auc"]
    parts.append("<h2>Lesion level: baseline score and progression at E1</h2>"
                 "<p>Cases = progressive lesions (diameter +20 %); AUC &gt; 0.5: progressive lesions have lower "
                 "scores. 95 % CI and p (H0: AUC = 0.5) by DeLong.</p>")
    rows = [_auc_row("all", pa["all"]), _auc_row("> 0.5 mL", pa["volume_gt_0.5ml"]),
            _auc_row("> 1 mL", pa["volume_gt_1ml"])]
    for loc, b in pa["by_location"].items():
        rows += [_auc_row(loc, b), _auc_row(f"{loc} > 1 mL", b["volume_gt_1ml"])]
    parts.append(_table(["lesions", "n", "progressive", "AUC", "95 % CI", "p", "note"], rows))
    rc = ll["reference_cutoff"]
    parts.append(_table(["reference cut-off", "low: n (progression rate)", "high: n (progression rate)",
                         "OR low vs high", "95 % CI", "Fisher p"],
                        [[_fmt(rc["cutoff"], 4), f"{rc['n_low']} ({_fmt(rc['progression_rate_low'])})",
                          f"{rc['n_high']} ({_fmt(rc['progression_rate_high'])})", _fmt(rc["odds_ratio"]),
                          _ci(rc["ci95"]), _fmt(rc["p_fisher"])]]))
    assoc = ll["associations"]
    arows = [[k, _fmt(v.get("n")), _fmt(v.get("rho")), _fmt(v.get("p"))] for k, v in assoc.items()
             if k.startswith("spearman")]
    parts.append(_table(["Spearman", "n", "rho", "p"], arows))

    pl = results["patient_level"]
    header = ["", "n high/low", "events high/low", "HR high vs low", "95 % CI", "Wald p", "log-rank p", "note"]
    for endpoint, title in (("os", "Overall survival"), ("pfs", "Progression-free survival")):
        b = pl[endpoint]
        parts.append(f"<h2>Patient level: {title}</h2>")
        rows = [_cox_row(f"{m} score, reference cut-off", b[f"{m}_reference_cutoff"]) for m in ("min", "max", "mean")]
        for metric, opt in b["optimised_cutoff_by_metric"].items():
            cut = opt.get("cutoff")
            label = f"{metric}, optimised cut-off {_fmt(cut, 4)}" if cut is not None else f"{metric}: {opt.get('note')}"
            rows.append(_cox_row(label + " — training", opt.get("train")))
            rows.append(_cox_row(label + " — test", opt.get("test")))
        parts.append(_table(header, rows))
        km_rows = [_km_row("all patients", b["km_median_all"])]
        for m in ("min", "max", "mean"):
            ref = b[f"{m}_reference_cutoff"]
            km_rows += [_km_row(f"{m} score >= reference cut-off (high)", ref.get("km_high")),
                        _km_row(f"{m} score < reference cut-off (low)", ref.get("km_low"))]
        opt = b["optimised_cutoff"]
        for part in ("train", "test"):
            if opt.get(part):
                km_rows += [_km_row(f"minimum score > {_fmt(opt['cutoff'], 4)}, {part} (high)", opt[part]["km_high"]),
                            _km_row(f"minimum score <= {_fmt(opt['cutoff'], 4)}, {part} (low)", opt[part]["km_low"])]
        parts.append("<h3>Kaplan-Meier</h3><p>Median (months) and survival at 12 and 24 months with 95 % CIs "
                     "(Greenwood, log scale, as R's survfit); NR: not reached; –: no one followed so long.</p>"
                     + _table(["group", "n", "events", "median (95 % CI)", "12-month survival (95 % CI)",
                               "24-month survival (95 % CI)"], km_rows))
        if opt.get("cutoff") is not None and opt.get("cutoff_endpoint") != endpoint:
            parts.append(f"<p>Minimum score: the cut-off {_fmt(opt['cutoff'], 4)} found on "
                         f"{html.escape(opt['cutoff_endpoint'].upper())} in the training set, applied here "
                         "(as the melanoma study).</p>")
        elif opt.get("cutoff") is not None:
            parts.append(f"<p>Minimum score: maximally selected log-rank statistic {_fmt(opt['statistic'])} on "
                         f"{opt['n_train']} training patients; Lausen-Schumacher p = "
                         f"{_fmt(opt['p_value_lausen_schumacher'])} (1992), "
                         f"{_fmt(opt['p_value_lausen_schumacher_1994'])} (1994).</p>")
        uni = pl["univariate"][endpoint]
        urows = []
        for u in uni:
            if not u["terms"]:
                urows.append([html.escape(u["variable"]), "–", "–", "–", "–", html.escape(u.get("note", ""))])
            for t in u["terms"]:
                urows.append([html.escape(t["term"]), _fmt(u["n"]), _fmt(t["hr"]), _ci(t["ci95"]), _fmt(u["p"]),
                              ""])
        parts.append("<h3>Univariate Cox</h3>" + _table(["term", "n", "HR", "95 % CI", "p (LRT)", "note"], urows))
        sel = pl["multivariate_selection"][endpoint]
        parts.append(f"<h3>Multivariate Cox (backward selection from univariate p &lt; {sel['entry_p']})</h3>")
        if pl["multivariate"][endpoint]:
            parts.append(_table(["term", "HR", "95 % CI", "Wald p"],
                                [[html.escape(t["term"]), _fmt(t["hr"]), _ci(t["ci95"]), _fmt(t["p_wald"])]
                                 for t in pl["multivariate"][endpoint]]))
            parts.append(f"<p>n = {sel['n']}, events = {sel['events']}.</p>")
        else:
            parts.append(f"<p>{html.escape(sel.get('note', 'no model'))}</p>")
    pdp = pl["progressive_disease_prediction"]
    parts.append("<h2>Predicting progressive disease at E1</h2>"
                 f"<p>{html.escape(pdp['rule'])}; cut-off {_fmt(pdp['cutoff'], 4)} "
                 f"({html.escape(pdp['cutoff_source'])}). n = {pdp['n']}, high risk {pdp['n_high_risk']}, "
                 f"progressive disease {pdp['n_progressive_disease']}. Progressive disease: "
                 f"{html.escape(pdp['pd_definition'])}.</p>")
    ref = pdp["reference_cutoff"]
    parts.append(_table(["", "sensitivity", "specificity", "PPV", "NPV", "OR (95 % CI)"],
                        [["this cut-off"] + [_prop(pdp[k]) for k in ("sensitivity", "specificity", "ppv", "npv")]
                         + [f"{_fmt(pdp['odds_ratio']['odds_ratio'])} ({_ci(pdp['odds_ratio']['ci95'])})"],
                         ["reference cut-off"] + [_prop(ref[k]) for k in ("sensitivity", "specificity", "ppv", "npv")]
                         + [f"{_fmt(ref['odds_ratio']['odds_ratio'])} ({_ci(ref['odds_ratio']['ci95'])})"]]))
    nomo = pl["nomogram"]
    parts.append("<h2>Nomogram</h2>")
    if nomo.get("available"):
        names = [v["variable"] for v in nomo["variables"]]
        prow = [["; ".join(f"{html.escape(n)}: {html.escape(str(p[n]))}" for n in names), _fmt(float(round(p["total_points"], 1)))]
                + [_fmt(p[f"os_{t:g}_months"]) for t in nomo["times_months"]] for p in nomo["profiles"]]
        parts.append(f"<p>From the {html.escape(nomo['source'])}.</p>" + _table(
            ["risk profile", "points"] + [f"{t:g}-month OS" for t in nomo["times_months"]], prow))
    else:
        parts.append(f"<p>{html.escape(nomo.get('note', 'not available'))}</p>")
    from .study_report import study_sections

    parts += study_sections(results, figures)
    shown = results.get("files", {}).get("figure_captions", {})  # shown with their captions in their sections
    parts.append("<h2>Figures</h2>")
    for name, path in figures.items():
        if name not in shown:
            parts.append(_img(path, name))
    parts.append(f"<footer><p class='notice'>{html.escape(results['notice'])}</p></footer></body></html>")
    return "\n".join(parts)
