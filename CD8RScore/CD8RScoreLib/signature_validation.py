"""``cd8rscore validate-signature`` and ``cd8rscore compare-signatures``: does a signature hold on our lesions, and
do two signatures agree?

Validation (a signature against a lesion-level target such as CD8B expression): Spearman and Pearson correlation
with 95 % CIs (Fisher z; for Spearman the standard error 1.06 / sqrt(n - 3) of Fieller, Hartley & Pearson 1957),
a calibration plot, and the AUC of the score for the highest vs the lowest tertile of the target (DeLong CI,
the cohort package's estimator), with a one-page HTML report.

Comparison (two signatures on the same lesions): Spearman correlation, Bland-Altman bias and 95 % limits of
agreement with a plot, and the reclassification table of high/low at each signature's reference cut-off with the
agreement and Cohen's kappa.
"""
from __future__ import annotations

import base64
import html
import json
import math
import shlex
import sys
from pathlib import Path
from typing import Sequence

import numpy as np
from scipy import stats

from . import RESEARCH_USE_NOTICE
from . import number_format as nf
from .errors import InputError
from .feature_table import read_feature_table, score_rows
from .lesion_table import atomic_write_text
from .provenance import provenance, provenance_html
from .signature import Signature, load_signature
from .signature_fit import read_targets

SPEARMAN_SE_FACTOR = 1.06  # Fieller, Hartley & Pearson (1957): var(z(rho_s)) ~ 1.06 / (n - 3)
MIN_PAIRS = 10


def correlation_ci(r: float, n: int, se_factor: float = 1.0) -> tuple[float, float]:
    """95 % CI of a correlation by Fisher's z transform, SE = sqrt(se_factor / (n - 3))."""
    if n <= 3 or not math.isfinite(r) or abs(r) >= 1:
        return (math.nan, math.nan)
    z, se = math.atanh(r), math.sqrt(se_factor / (n - 3))
    q = stats.norm.ppf(0.975)
    return (math.tanh(z - q * se), math.tanh(z + q * se))


def _plot(path: Path, draw) -> None:
    from matplotlib.figure import Figure  # off pyplot: no process-wide backend is chosen

    from .figure_text import literal_text

    with literal_text():  # names in labels are drawn as written (no mathtext)
        fig = Figure(figsize=(5.5, 4.5), dpi=110)
        ax = fig.subplots()
        draw(ax)
        fig.tight_layout()
        fig.savefig(path)


def _img(path: Path, caption: str) -> str:
    """The figure embedded, with its caption under it."""
    data = base64.b64encode(path.read_bytes()).decode("ascii")
    return (f'<figure><img alt="{html.escape(caption)}" src="data:image/png;base64,{data}" style="max-width:100%"/>'
            f"<figcaption><b>Figure 1.</b> {html.escape(caption)}</figcaption></figure>")


def _paired(signature: Signature, features_path, target_path) -> tuple[np.ndarray, np.ndarray, int]:
    """(scores, targets) of the lesions that have both, and how many target lesions had no score."""
    table = read_feature_table(features_path)
    targets = read_targets(target_path)
    scores = dict(zip((table.key(r) for r in table.rows), score_rows(signature, table)))
    missing = [k for k in targets if k not in scores]
    if missing:
        raise InputError(f"{len(missing)} target lesion(s) are not in {features_path} (e.g. "
                         f"{missing[0][0]}/{missing[0][1]})", target_path, "patient_id, lesion_id")
    pairs = [(scores[k], t) for k, t in targets.items() if scores[k] is not None]
    if len(pairs) < MIN_PAIRS:
        raise InputError(f"only {len(pairs)} lesion(s) have a score and a target; validation needs at least "
                         f"{MIN_PAIRS}", target_path, "target")
    x, y = (np.array(v, dtype=float) for v in zip(*pairs))
    return x, y, len(targets) - len(pairs)


def validate(signature: Signature, features_path, target_path, out: Path, command: "str | None" = None) -> dict:
    """Agreement of the signature's scores with the target; writes validation.json, calibration.png, report.html."""
    from .statistics import delong_auc  # the same DeLong estimator as the cohort statistics

    x, y, unscored = _paired(signature, features_path, target_path)
    n = len(x)
    rho, p_rho = stats.spearmanr(x, y)
    r, p_r = stats.pearsonr(x, y)
    low, high = np.quantile(y, [1 / 3, 2 / 3])
    tertile = (y <= low) | (y >= high)
    auc = delong_auc(x[tertile], y[tertile] >= high, direction="<")
    slope, intercept = np.polyfit(x, y, 1)
    results = {
        "signature": {"name": signature.name, "status": signature.status},
        "n_lesions": n, "n_target_lesions_without_score": unscored,
        "spearman": {"rho": float(rho), "ci95": list(correlation_ci(float(rho), n, SPEARMAN_SE_FACTOR)),
                     "p": float(p_rho)},
        "pearson": {"r": float(r), "ci95": list(correlation_ci(float(r), n)), "p": float(p_r)},
        "tertile_auc": {"auc": auc.auc, "ci95": auc.ci95, "p": auc.p,
                        "n_high": int((y[tertile] >= high).sum()), "n_low": int((y[tertile] <= low).sum()),
                        "meaning": "AUC of the score for lesions in the highest vs the lowest target tertile; "
                                   "> 0.5: higher scores go with higher targets"},
        "calibration": {"slope": float(slope), "intercept": float(intercept),
                        "meaning": "least-squares line of target on score (a calibrated score: slope 1, "
                                   "intercept 0)"},
    }
    out.mkdir(parents=True, exist_ok=True)
    atomic_write_text(out / "validation.json", json.dumps(results, indent=2) + "\n")

    def draw(ax) -> None:
        ax.scatter(x, y, s=14, alpha=0.6, color="#313695", label="lesions")
        grid = np.linspace(x.min(), x.max(), 50)
        ax.plot(grid, slope * grid + intercept, color="#a50026", label=f"fit: slope {slope:.2f}")
        edges = np.quantile(x, np.linspace(0, 1, 6))
        groups = np.clip(np.searchsorted(edges, x, side="right") - 1, 0, 4)
        ax.plot([x[groups == g].mean() for g in range(5)], [y[groups == g].mean() for g in range(5)], "o-",
                color="#f46d43", label="score quintile means")
        ax.set_xlabel(f"score ({signature.name}, {signature.status})")
        ax.set_ylabel("target")
        ax.set_title("Calibration")
        ax.legend(fontsize=8)

    _plot(out / "calibration.png", draw)
    s, p_, t = results["spearman"], results["pearson"], results["tertile_auc"]
    rows = [("Lesions", f"{n} ({unscored} target lesion(s) without a score)"),
            ("Spearman rho", f"{nf.fixed(s['rho'], 3)} (95 % CI {nf.ci(s['ci95'])}), {nf.p_text(s['p'])}"),
            ("Pearson r", f"{nf.fixed(p_['r'], 3)} (95 % CI {nf.ci(p_['ci95'])}), {nf.p_text(p_['p'])}"),
            ("AUC, top vs bottom target tertile", f"{nf.fixed(t['auc'], 3)} (95 % CI {nf.ci(t['ci95'])}), "
                                                   f"{nf.p_text(t['p'])}; {t['n_high']} vs {t['n_low']} lesions"),
            ("Calibration line", nf.linear_equation("target", slope, "score", intercept))]
    inputs = {"Features": features_path, "Target": target_path}
    if signature.path and Path(signature.path).is_file():
        inputs = {"Signature file": signature.path, **inputs}
    caption = (f"Calibration of the scores of signature {signature.label} against the target on the {n} lesions with "
               "both: each lesion (dot), the least-squares line of target on score, and the mean target of each score "
               "quintile. A calibrated score lies on the line of slope 1 through 0.")
    _write_report(out / "report.html", f"Validation of signature {signature.label}", signature, rows,
                  [_img(out / "calibration.png", caption)], provenance(inputs, command))
    return results


def _write_report(path: Path, title: str, signature: Signature, rows: Sequence[tuple[str, str]],
                  images: Sequence[str], prov: dict) -> None:
    banner = ("DEMONSTRATION signature: its coefficients are not the published CD8-Rscore."
              if signature.status == "demonstration" else f"Signature status: {signature.status}.")
    table = "".join(f"<tr><th>{html.escape(k)}</th><td>{html.escape(v)}</td></tr>" for k, v in rows)
    atomic_write_text(path, f"""<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8"/><title>{html.escape(title)}</title>
<style>body{{font-family:sans-serif;max-width:60em;margin:1em auto}}th{{text-align:left;padding-right:1em}}
.banner{{background:#fff3cd;border:1px solid #d6b656;padding:.4em;font-weight:bold}}
td{{padding:2px 8px}}.provenance td{{word-break:break-all}}figcaption{{font-size:.9em}}</style></head><body>
<h1>{html.escape(title)}</h1>
<p><b>{html.escape(RESEARCH_USE_NOTICE)}</b></p>
<p class="banner">{html.escape(banner)}</p>
{provenance_html(prov, [("Signature", f"{signature.label}; {signature.provenance.get('source', '')}")])}
<h2>Results</h2>
<table>{table}</table>
{''.join(images)}
</body></html>
""")


def compare(a: Signature, b: Signature, features_path, out: Path) -> dict:
    """Agreement of two signatures' scores on the same lesions; writes comparison.json and bland_altman.png."""
    table = read_feature_table(features_path)
    pairs = [(sa, sb) for sa, sb in zip(score_rows(a, table), score_rows(b, table))
             if sa is not None and sb is not None]
    if len(pairs) < MIN_PAIRS:
        raise InputError(f"only {len(pairs)} lesion(s) have both scores; comparing needs at least {MIN_PAIRS}",
                         features_path)
    x, y = (np.array(v, dtype=float) for v in zip(*pairs))
    rho, p = stats.spearmanr(x, y)
    diff, mean = y - x, (x + y) / 2
    bias, sd = float(diff.mean()), float(diff.std(ddof=1))
    high_a, high_b = x >= a.reference_cutoff, y >= b.reference_cutoff
    table2 = {"high_high": int((high_a & high_b).sum()), "high_low": int((high_a & ~high_b).sum()),
              "low_high": int((~high_a & high_b).sum()), "low_low": int((~high_a & ~high_b).sum())}
    agreement = (table2["high_high"] + table2["low_low"]) / len(x)
    expected = (high_a.mean() * high_b.mean()) + ((1 - high_a.mean()) * (1 - high_b.mean()))
    kappa = (agreement - expected) / (1 - expected) if expected < 1 else math.nan
    results = {
        "a": {"name": a.name, "status": a.status, "reference_cutoff": a.reference_cutoff},
        "b": {"name": b.name, "status": b.status, "reference_cutoff": b.reference_cutoff},
        "n_lesions": len(x), "n_lesions_without_both_scores": len(table.rows) - len(x),
        "spearman": {"rho": float(rho), "ci95": list(correlation_ci(float(rho), len(x), SPEARMAN_SE_FACTOR)),
                     "p": float(p)},
        "bland_altman": {"bias_b_minus_a": bias, "sd": sd, "limits_of_agreement": [bias - 1.96 * sd,
                                                                                   bias + 1.96 * sd]},
        "reclassification": dict(table2, agreement=agreement, cohen_kappa=kappa,
                                 meaning="high/low of a (first word) vs b (second word) at each reference cut-off"),
    }
    out.mkdir(parents=True, exist_ok=True)
    atomic_write_text(out / "comparison.json", json.dumps(results, indent=2) + "\n")

    def draw(ax) -> None:
        ax.scatter(mean, diff, s=14, alpha=0.6, color="#313695")
        for value, style in ((bias, "-"), (bias - 1.96 * sd, "--"), (bias + 1.96 * sd, "--")):
            ax.axhline(value, color="#a50026", linestyle=style)
        ax.set_xlabel("mean of the two scores")
        ax.set_ylabel(f"{b.name} - {a.name}")
        ax.set_title(f"Bland-Altman: bias {bias:.3f}, limits {bias - 1.96 * sd:.3f} to {bias + 1.96 * sd:.3f}")

    _plot(out / "bland_altman.png", draw)
    return results


def cmd_validate_signature(args) -> int:
    signature = load_signature(args.signature)
    command = shlex.join(["cd8rscore", "validate-signature", "--signature", str(args.signature), "--features",
                          str(args.features), "--target", str(args.target), "--out", str(args.out)])
    results = validate(signature, args.features, args.target, Path(args.out), command)
    s = results["spearman"]
    print(f"{signature.label}: Spearman rho {s['rho']:.3f} ({s['ci95'][0]:.3f} to {s['ci95'][1]:.3f}) on "
          f"{results['n_lesions']} lesions -> {args.out}/report.html. {RESEARCH_USE_NOTICE}", file=sys.stderr)
    return 0


def cmd_compare_signatures(args) -> int:
    a, b = load_signature(args.a), load_signature(args.b)
    results = compare(a, b, args.features, Path(args.out))
    print(json.dumps(results, indent=2))
    return 0


def register(subparsers) -> None:
    """Add the ``validate-signature`` and ``compare-signatures`` subcommands."""
    from .cli import example

    p = subparsers.add_parser(
        "validate-signature", help="a signature's scores against a lesion-level target",
        description="Score the lesions of a candidate-features table with a signature and compare the scores with "
                    "a lesion-level target (e.g. CD8B expression): Spearman and Pearson with CIs, calibration "
                    "plot, AUC for the top vs the bottom target tertile, and a one-page HTML report.",
        epilog=example("cd8rscore validate-signature --signature "
                       "CD8RScore/Resources/Signatures/cd8rscore-demonstration.json "
                       "--features demo-output/signature_training/demo_training_features.csv "
                       "--target demo-output/signature_training/demo_training_target.csv --out my-results/validation"))
    p.add_argument("--signature", required=True, help="signature JSON")
    p.add_argument("--features", required=True, help="candidate-features CSV (cd8rscore extract / import-lifex)")
    p.add_argument("--target", required=True, help="CSV: patient_id, lesion_id, target")
    p.add_argument("--out", required=True, help="folder for validation.json, calibration.png, report.html")
    p.set_defaults(func=cmd_validate_signature)

    p = subparsers.add_parser(
        "compare-signatures", help="agreement of two signatures on the same lesions",
        description="Score the same lesions with two signatures: Spearman, Bland-Altman and reclassification at the "
                    "reference cut-offs; JSON on stdout, the plot and the JSON in --out.",
        epilog=example("cd8rscore compare-signatures CD8RScore/Resources/Signatures/cd8rscore-demonstration.json "
                       "my-results/my_signature.json --features demo-output/signature_training/demo_training_features.csv "
                       "--out my-results/comparison",
                       note="my_signature.json is what the example of `cd8rscore fit-signature --help` writes."))
    p.add_argument("a", help="first signature JSON")
    p.add_argument("b", help="second signature JSON")
    p.add_argument("--features", required=True, help="candidate-features CSV")
    p.add_argument("--out", default="signature-comparison", help="folder for comparison.json and bland_altman.png")
    p.set_defaults(func=cmd_compare_signatures)
