"""The ``cohort`` and ``cutpoint`` subcommands of ``cd8rscore`` (DESIGN §5).

``register(subparsers)`` adds them to the main command line; each handler returns the exit code and lets
``InputError`` through, which the main CLI prints as one line on stderr with exit code 2.
"""
from __future__ import annotations

import argparse
import json
import math
import shlex
import sys
import textwrap
from pathlib import Path

import numpy as np

from CD8RScoreLib.cli import check_seed, example
from CD8RScoreLib.errors import InputError
from CD8RScoreLib.lesion_table import parse_float, read_csv

from .analysis import DEFAULT_MIN_VOLUME_ML, DEFAULT_SEED, jsonable, run_cohort
from .covariates import recognised_names_text
from .cutpoint import DEFAULT_MINPROP, maxstat_logrank
from .inputs import BOR_MEANING
from .patient_level import PD_FROM_LESION_TABLE


def cmd_cohort(args: argparse.Namespace) -> int:
    """Run the cohort analysis; print the covariates' rules, what was not run and why, and where the report is."""
    if Path(args.out).exists() and not Path(args.out).is_dir():
        raise InputError("is a file; --out names the folder that receives the results (created if absent)",
                         args.out, "--out")
    check_seed(args.seed)
    command = ["cd8rscore", "cohort", "--lesions", args.lesions, "--clinical", args.clinical, "--out", args.out,
               "--seed", str(args.seed), "--min-volume-ml", f"{args.min_volume_ml:g}"]
    if args.reference_cutoff is not None:
        command += ["--reference-cutoff", repr(args.reference_cutoff)]
    if args.covariates is not None:
        command += ["--covariates", *args.covariates]
    results = run_cohort(args.lesions, args.clinical, args.out, seed=args.seed,
                         reference_cutoff=args.reference_cutoff, min_volume_ml=args.min_volume_ml,
                         command=shlex.join(str(c) for c in command), covariates=args.covariates)
    for warning in results["plausibility_warnings"]:
        print(f"cd8rscore cohort: warning: {warning}", file=sys.stderr)
    print("\n".join(summary_lines(results)))
    print(f"Report: {args.out}/report.html ({results['signature_name']}, {results['signature_status']}"
          f"{', simulated data' if results['simulated'] else ''}). {results['notice']}")
    return 0


def summary_lines(results: dict) -> list[str]:
    """What ``cohort`` says before the report's path: patients analysed, covariates and their rules, and each
    analysis not run with its reason."""
    counts = results["counts"]
    cov = results["covariates"]
    lines = [f"{counts['patients_analysed']} patient(s) analysed, {counts['patients_with_lesion_gt_min_volume']} "
             f"with a scored lesion > {results['settings']['min_volume_ml']:g} mL; covariates "
             f"({cov['selection']}):"]
    sites = [c for c in cov["used"] if c["kind"] == "organ_site"]  # one line for all, as "site_*" in the report
    lines += [f"  {c['rule']}" for c in cov["used"] if c["kind"] != "organ_site"] or ["  none"]
    if sites:
        lines.append(f"  one per organ site involved at baseline ({', '.join(c['variable'][5:] for c in sites)}) "
                     f"[{sites[0]['origin']}]")
    lines += [f"  not used: {c['column']} ({c['reason']})" for c in cov["not_used"]]
    if results["not_run"]:
        lines.append("Not run:")
        lines += [f"  {n['analysis']}: {n['reason']}" for n in results["not_run"]]
    return lines


def cutpoint_from_csv(path: str, time_col: str, event_col: str, variable_col: str,
                      minprop: float = DEFAULT_MINPROP) -> dict:
    """The ``cutpoint`` JSON for a CSV: rows with a missing value in the three columns are left out and counted."""
    if not (0 < minprop < 0.5):
        raise InputError("must be between 0 and 0.5 (exclusive)", None, "--minprop")
    _, rows = read_csv(path, (time_col, event_col, variable_col))
    time, event, x = [], [], []
    n_missing = 0
    for i, r in enumerate(rows):
        values = []
        for col in (time_col, event_col, variable_col):
            try:
                values.append(parse_float(r.get(col)))
            except ValueError:
                raise InputError(f"{r.get(col)!r} is not a number", path, f"row {i + 2}, column {col}") from None
        if any(math.isnan(v) for v in values):
            n_missing += 1
            continue
        t, e, v = values
        if t < 0 or math.isinf(t):
            raise InputError(f"time {t:g} must be finite and >= 0", path, f"row {i + 2}, column {time_col}")
        if e not in (0.0, 1.0):
            raise InputError(f"event {e:g} must be 1 or 0", path, f"row {i + 2}, column {event_col}")
        time.append(t)
        event.append(e)
        x.append(v)
    if len(x) < 2:
        raise InputError("fewer than two complete rows", path, variable_col)
    if sum(event) == 0:
        raise InputError("no events (all 0): no log-rank statistic", path, event_col)
    if len(set(x)) < 2:
        raise InputError(f"every complete row has the same value ({x[0]:g}): there is no cut-point to search; "
                         "give a variable that varies", path, variable_col)
    try:
        res = maxstat_logrank(np.array(time), np.array(event), np.array(x), minprop=minprop,
                              maxprop=1 - minprop)
    except ValueError as exc:
        raise InputError(str(exc), path, variable_col) from None
    out = res.to_dict()
    out["n"] = len(x)
    out["n_missing"] = n_missing
    out["group_low"] = f"{variable_col} <= cutpoint"
    return jsonable(out)


def cmd_cutpoint(args: argparse.Namespace) -> int:
    """Print the maximally selected log-rank cut-point as JSON."""
    if sys.stdout is None:  # started with stdout closed (>&-): nowhere to print the result
        raise InputError("standard output is closed; the cut-point is printed there as JSON: redirect it to a file "
                         "instead of closing it", None, "stdout")
    out = cutpoint_from_csv(args.data, args.time, args.event, args.variable, args.minprop)
    json.dump(out, sys.stdout, indent=2)
    sys.stdout.write("\n")
    return 0


def clinical_table_help() -> str:
    """The clinical table's columns, as ``cohort --help`` lists them (docs/clinical-table.md has the detail)."""
    recognised = textwrap.wrap(recognised_names_text(), 54)
    rows = [
        ("patient_id", "required; as in the lesion table"),
        ("os_time, os_event", "required; months from the baseline CT to death or last contact; 1 = death, "
                              "0 = censored"),
        ("pfs_time, pfs_event", "optional, together; months to progression or death; 1 = event, 0 = censored; "
                                "without them the PFS analyses are not run"),
        ("pd_at_e1", "optional; progressive disease at the first evaluation CT, 1/0; without the column, from the "
                     f"lesion table: {PD_FROM_LESION_TABLE}. The per-patient RECIST 1.1 response at E1 is the "
                     "report's \"Patient response at the first evaluation\""),
        ("simulated", "optional; 1 marks simulated rows (every output then says SIMULATED)"),
        ("best_overall_response", f"optional; CR, PR, SD, PD or NE: {BOR_MEANING}; supplementary table S3"),
        ("other columns", "covariates only when named with --covariates or, when none is named, if their name is "
                          "recognised:"),
    ]
    lines = []
    for name, text in rows:
        wrapped = textwrap.wrap(text, 54)
        lines.append(f"  {name:<21} {wrapped[0]}")
        lines += [f"  {'':<21} {line}" for line in wrapped[1:]]
    lines += [f"  {'':<21} {line}" for line in recognised]
    return ("The clinical table (CSV, one row per patient; in full with the minimums a cohort needs: "
            "docs/clinical-table.md):\n\n" + "\n".join(lines) + "\n\nNumbers use a decimal point; an empty cell or "
            "NA is missing (that patient is left out of the models that need the value). A numeric covariate is "
            "split at its validated cut-off or at its median, a 0/1 column is used as it is, a text column gives "
            "one term per category against the most frequent one.")


def register(subparsers) -> None:
    """Add ``cohort`` and ``cutpoint`` to an argparse subparsers object."""
    p = subparsers.add_parser(
        "cohort", help="cohort statistics: lesion progression, survival, report",
        description="The cohort statistics of the melanoma study (Sun et al., J Immunother Cancer 2022) on a lesion "
                    "table of many patients (E0 and E1 rows: cohort-add or batch) and a clinical table: lesion-level "
                    "AUCs of the score for progression, patient-level heterogeneity metrics against overall and "
                    "progression-free survival at the reference and at optimised cut-offs, univariate and "
                    "multivariate Cox models, progressive-disease prediction, the paper's tables and figures and a "
                    "nomogram. Writes results.json, report.html, CSV tables and PNG figures into --out, and prints "
                    "each covariate's rule and each analysis it did not run, with the reason (a cohort below the "
                    "minimums of docs/clinical-table.md, no PFS columns).",
        epilog=clinical_table_help() + "\n\n" + example(
            "cd8rscore cohort --lesions demo-output/simulated_cohort/lesions.csv --clinical "
            "demo-output/simulated_cohort/clinical.csv --reference-cutoff 1.72 --covariates sex age albumin_g_l "
            "ldh_uln presentation --out my-results/cohort",
            "cd8rscore cohort --lesions demo-output/small_cohort/lesions.csv --clinical "
            "demo-output/small_cohort/clinical.csv --out my-results/small_cohort"))
    p.add_argument("--lesions", required=True, help="lesion table CSV with E0 and E1 rows")
    p.add_argument("--clinical", required=True, help="clinical table CSV, one row per patient (columns below)")
    p.add_argument("--covariates", nargs="+", metavar="COLUMN",
                   help="the clinical columns to use as covariates, e.g. --covariates sex age stage; default: the "
                        "recognised names present (below)")
    p.add_argument("--out", required=True, help="output folder (results.json, report.html, CSV, PNG)")
    p.add_argument("--seed", type=int, default=DEFAULT_SEED, help="seed of the training/test split")
    p.add_argument("--reference-cutoff", type=float, default=None,
                   help="score cut-off (default: the reference cut-off of the signature named by the rows)")
    p.add_argument("--min-volume-ml", type=float, default=DEFAULT_MIN_VOLUME_ML,
                   help="patient metrics use lesions larger than this (mL)")
    p.set_defaults(func=cmd_cohort)

    p = subparsers.add_parser(
        "cutpoint", help="maximally selected log-rank cut-point (maxstat / survminer)",
        description="The cut-point of one variable that maximises the standardised log-rank statistic between the "
                    "patients at or below it and those above it (R's maxstat / survminer::surv_cutpoint), with "
                    "the Lausen-Schumacher p-value corrected for the search; JSON on stdout. Rows with a missing "
                    "value are left out and counted.",
        epilog=example("cd8rscore cutpoint --data demo-output/simulated_cohort/analysis/patient_metrics.csv "
                       "--time os_time --event os_event --variable score_min"))
    p.add_argument("--data", required=True, help="CSV file with one row per patient")
    p.add_argument("--time", required=True, help="time column")
    p.add_argument("--event", required=True, help="event column (1 = event, 0 = censored)")
    p.add_argument("--variable", required=True, help="column to cut")
    p.add_argument("--minprop", type=float, default=DEFAULT_MINPROP,
                   help="smallest fraction of the patients in each group (maxprop = 1 - minprop)")
    p.set_defaults(func=cmd_cutpoint)
