"""``cd8rscore fit-signature``: build a signature by elastic-net regression, the method of Sun et al. 2018.

Candidates: every radiomic column of a candidate-features table, one indicator per signature location category,
and kVp, each min-max normalised on the training rows (constant columns are reported and dropped). The elastic
net and its K-fold cross-validation compute what R's glmnet computes, number for number (glmnet_path, the
project's implementation of Friedman, Hastie & Tibshirani 2010: candidates standardised inside the fit, a
log-spaced path of 100 penalties per L1 ratio, each fold on its own path); the penalty is chosen by the
one-standard-error rule (glmnet's lambda.1se: the sparsest model whose CV error is within one standard error
of the minimum; Hastie, Tibshirani & Friedman, Elements of Statistical Learning 2009, 7.10) of the L1 ratio with
the lowest CV error, and the retained variables are refit by ordinary least squares, so that their coefficients are
not shrunk (the "relaxed" elastic net; Meinshausen 2007). Plain cross-validated elastic net keeps many small
spurious terms and shrinks the true ones. Deterministic for a given seed (the seed draws the folds).
"""
from __future__ import annotations

import hashlib
import json
import math
import sys
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable, Mapping, Sequence

import numpy as np

from .errors import InputError
from .feature_table import FeatureTable, location_category, read_feature_table
from .features import BY_IBSI_COLUMN
from .lesion_table import atomic_write_text, parse_float, read_csv
from .locations import SIGNATURE_CATEGORIES
from .signature import GRID_RULE, load_signature, parse_signature

MIN_TARGET_ROWS = 20
DEFAULT_L1_RATIOS = (0.1, 0.5, 0.7, 0.9, 0.95, 0.99, 1.0)
DEFAULT_N_ALPHAS = 100
DEFAULT_FOLDS = 10
DEFAULT_SEED = 2018
LOCATION_PREFIX = "location_"
KVP_CANDIDATE = "kvp"
COEFFICIENT_DIGITS = 6
"""Significant digits of coefficients, intercept and cut-off in the signature file (ranges keep 10)."""


def _round(value: float, digits: int = COEFFICIENT_DIGITS) -> float:
    return float(f"{value:.{digits}g}")


def file_sha256(path: "str | Path") -> str:
    return hashlib.sha256(Path(path).read_bytes()).hexdigest()


def read_targets(path: "str | Path") -> dict[tuple[str, str], float]:
    """Target CSV (patient_id, lesion_id, target) -> {(patient_id, lesion_id): target}."""
    _, rows = read_csv(path, required=("patient_id", "lesion_id", "target"))
    if len(rows) < MIN_TARGET_ROWS:
        raise InputError(f"has {len(rows)} target row(s); fitting a signature needs at least {MIN_TARGET_ROWS}",
                         path, "target")
    targets: dict[tuple[str, str], float] = {}
    for number, row in enumerate(rows, start=2):
        key = ((row["patient_id"] or "").strip(), (row["lesion_id"] or "").strip())
        try:
            value = parse_float(row["target"])
        except ValueError:
            value = math.nan
        if not math.isfinite(value):
            raise InputError(f"{row['target']!r} is not a number", path, f"row {number}, column target")
        if key in targets:
            raise InputError(f"lesion {key[1]} of patient {key[0]} appears twice", path, f"row {number}, lesion_id")
        targets[key] = value
    return targets


@dataclass
class TrainingSet:
    """Normalised candidates of the training rows: x (n x p, each column in [0, 1]), y, names, raw ranges."""

    x: np.ndarray
    y: np.ndarray
    names: list[str]
    minima: np.ndarray
    maxima: np.ndarray
    kvp_values: np.ndarray
    dropped_constant: list[str] = field(default_factory=list)
    excluded_rows: int = 0
    unmatched_feature_rows: int = 0


def build_training_set(table: FeatureTable, targets: Mapping[tuple[str, str], float],
                       target_path: str) -> TrainingSet:
    """Match targets to feature rows, drop incomplete rows and constant candidates, normalise min-max."""
    keys = {table.key(row): row for row in table.rows}
    unmatched = [key for key in targets if key not in keys]
    if unmatched:
        shown = ", ".join(f"{p}/{l}" for p, l in unmatched[:5])
        raise InputError(f"{len(unmatched)} of {len(targets)} target lesion(s) are not in {table.path} "
                         f"(e.g. {shown}); patient_id and lesion_id must match the features table", target_path,
                         "patient_id, lesion_id")
    radiomic = list(table.candidates)
    categories = list(SIGNATURE_CATEGORIES)
    names = radiomic + [LOCATION_PREFIX + c for c in categories] + [KVP_CANDIDATE]
    rows, y, excluded = [], [], 0
    for key, target in targets.items():
        row = keys[key]
        values = [row[c] for c in radiomic]
        if not all(math.isfinite(v) for v in values) or not math.isfinite(row["kvp"]):
            excluded += 1
            continue
        category = location_category(row["location"])
        rows.append(values + [1.0 if category == c else 0.0 for c in categories] + [row["kvp"]])
        y.append(target)
    if len(rows) < MIN_TARGET_ROWS:
        raise InputError(f"only {len(rows)} lesion(s) have a target and every candidate ({excluded} excluded for "
                         f"empty features or kVp); fitting needs at least {MIN_TARGET_ROWS}", target_path, "target")
    x = np.asarray(rows, dtype=float)
    minima, maxima = x.min(axis=0), x.max(axis=0)
    constant = maxima - minima <= 1e-12 * np.maximum(1.0, np.abs(maxima))
    keep = ~constant
    x = (x[:, keep] - minima[keep]) / (maxima[keep] - minima[keep])
    return TrainingSet(x=x, y=np.asarray(y), names=[n for n, k in zip(names, keep) if k], minima=minima[keep],
                       maxima=maxima[keep], kvp_values=np.asarray([r[-1] for r in rows]),
                       dropped_constant=[n for n, c in zip(names, constant) if c], excluded_rows=excluded,
                       unmatched_feature_rows=len(table.rows) - len(targets))


@dataclass
class Fit:
    """The chosen penalty and the refit model on normalised candidates."""

    alpha: float
    l1_ratio: float
    cv_mse_min: float
    cv_mse_chosen: float
    cv_se: float
    retained: list[str]
    coefficients: dict[str, float]
    intercept: float
    n_alphas: int
    alpha_range: tuple[float, float]


def fit_elastic_net(ts: TrainingSet, alphas: "Sequence[float] | None", l1_ratios: Sequence[float], folds: int,
                    seed: int, progress: "Callable[[], None] | None" = None) -> Fit:
    """Cross-validated elastic net (glmnet's, glmnet_path), one-standard-error penalty, OLS refit of the retained
    candidates. ``progress`` is called after each of the len(l1_ratios) x (folds + 1) path fits. Raises
    glmnet_path.ConstantResponse if the target is constant on the training lesions or a fold's training rows."""
    from .glmnet_path import cross_validate, fold_ids

    if folds < 2 or folds > len(ts.y):
        raise InputError(f"--folds must be between 2 and the number of training rows ({len(ts.y)})", None,
                         "--folds")
    fold = fold_ids(len(ts.y), folds, seed)
    curves = [cross_validate(ts.x, ts.y, fold, r, alphas, DEFAULT_N_ALPHAS, progress) for r in l1_ratios]
    best = min(curves, key=lambda cv: float(cv.cv_mse.min()))  # the mixing with the lowest CV error
    at_min = int(np.argmin(best.cv_mse))
    threshold = best.cv_mse[at_min] + best.cv_se[at_min]
    # one-standard-error rule (glmnet's lambda.1se): the largest penalty (sparsest model) of that mixing whose CV
    # error is within one standard error of the minimum
    chosen = int(np.flatnonzero(best.cv_mse <= threshold)[0])
    coefficients_path = best.full.coefficients[chosen]
    retained = [i for i, c in enumerate(coefficients_path) if c != 0.0]
    if retained:
        design = np.column_stack([np.ones(len(ts.y)), ts.x[:, retained]])
        solution = np.linalg.lstsq(design, ts.y, rcond=None)[0]
        coefficients = {ts.names[i]: float(c) for i, c in zip(retained, solution[1:])}
        intercept = float(solution[0])
    else:
        coefficients, intercept = {}, float(ts.y.mean())
    penalties = best.full.penalties
    return Fit(alpha=float(penalties[chosen]), l1_ratio=best.l1_ratio, cv_mse_min=float(best.cv_mse[at_min]),
               cv_mse_chosen=float(best.cv_mse[chosen]), cv_se=float(best.cv_se[at_min]),
               retained=[ts.names[i] for i in retained], coefficients=coefficients, intercept=intercept,
               n_alphas=len(penalties), alpha_range=(float(penalties.min()), float(penalties.max())))


def package_versions() -> dict[str, str]:
    """Versions of what determines the fitted numbers."""
    from importlib.metadata import version

    return {name: version(name) for name in ("cd8rscore", "numpy", "numba")}


def signature_document(ts: TrainingSet, fit: Fit, name: str, status: str, provenance: dict,
                       description: str) -> dict:
    """The signature file (DESIGN §4 schema) of a fit, with its training summary."""
    template = load_signature(None)  # the scoring standard's preprocessing
    pre = template.preprocessing
    index = {n: i for i, n in enumerate(ts.names)}
    features, location_terms = [], []
    for candidate, coefficient in fit.coefficients.items():
        i = index[candidate]
        if candidate.startswith(LOCATION_PREFIX):
            location_terms.append({"category": candidate[len(LOCATION_PREFIX):], "coefficient": _round(coefficient)})
        elif candidate != KVP_CANDIDATE:
            voi, column = candidate.split("_", 1)
            info = BY_IBSI_COLUMN[column]
            features.append({"voi": voi, "feature": info.key, "ibsi_name": info.ibsi_name,
                             "lifex_name": info.lifex_name, "min": _round(ts.minima[i], 10),
                             "max": _round(ts.maxima[i], 10), "coefficient": _round(coefficient)})
    if not features:
        raise InputError("the fit retained no radiomic feature, so it is no radiomics signature; the target may "
                         "not depend on the features, or try a wider --alpha-grid", None, "target")
    kvp_low, kvp_high = float(ts.kvp_values.min()), float(ts.kvp_values.max())
    if KVP_CANDIDATE in index and kvp_high > kvp_low:
        kvp = {"encoding": "normalised", "min": kvp_low, "max": kvp_high,
               "coefficient": _round(fit.coefficients.get(KVP_CANDIDATE, 0.0))}
    else:  # one kVp in training: the term cannot be estimated
        kvp = {"encoding": "indicator", "equals_kv": kvp_low, "coefficient": 0.0}
    kvp["assumed_kv"] = float(np.median(ts.kvp_values))
    scores = fit.intercept + sum(ts.x[:, index[c]] * v for c, v in fit.coefficients.items())
    cutoff = _round(float(np.median(scores)))
    residual = ts.y - scores
    document = {
        "name": name,
        "status": status,
        "description": description,
        "provenance": provenance,
        "preprocessing": {
            "spacing_mm": list(pre.spacing_mm),
            "grid": GRID_RULE,
            "ring": {"method": "euclidean_voxel_centres", "outer_mm": pre.ring_outer_mm, "inner_mm": pre.ring_inner_mm},
            "discretisation": {"lower_bound_hu": pre.discretisation.lower_bound,
                               "bin_width_hu": pre.discretisation.bin_width, "n_bins": pre.discretisation.n_bins,
                               "out_of_range": pre.discretisation.out_of_range},
            "min_voxels": {"core": pre.min_core_voxels, "ring": pre.min_ring_voxels},
        },
        "features": features,
        "location_terms": location_terms,
        "kvp": kvp,
        "intercept": _round(fit.intercept),
        "cutoffs": {"reference": {"value": cutoff, "source": f"median score of the {len(ts.y)} training lesions"}},
        "training": {
            "n_lesions": len(ts.y),
            "n_candidates": len(ts.names) + len(ts.dropped_constant),
            "constant_candidates_dropped": len(ts.dropped_constant),
            "constant_candidate_names": ts.dropped_constant,
            "rows_excluded_for_empty_features": ts.excluded_rows,
            "feature_rows_without_target": ts.unmatched_feature_rows,
            "normalisation": "min-max on the training lesions",
            "penalty_choice": "one-standard-error rule on K-fold cross-validated mean squared error",
            "solver": "glmnet 4.1 (standardised candidates, covariance updates, threshold 1e-7)",
            "refit": "ordinary least squares on the retained candidates",
            "alpha": _round(fit.alpha), "l1_ratio": fit.l1_ratio,
            "alpha_grid": {"n": fit.n_alphas, "min": _round(fit.alpha_range[0]), "max": _round(fit.alpha_range[1])},
            "cv_mse_min": _round(fit.cv_mse_min), "cv_mse_chosen": _round(fit.cv_mse_chosen),
            "cv_se_at_min": _round(fit.cv_se),
            "training_rmse": _round(float(np.sqrt(np.mean(residual ** 2)))),
            "retained": {c: _round(v) for c, v in fit.coefficients.items()},
        },
    }
    parse_signature(document, f"<fitted signature {name}>")  # the file must load as any signature does
    return document


def write_signature(path: "str | Path", document: dict) -> None:
    """Write a signature JSON atomically (2-space indent, keys in schema order, final newline)."""
    atomic_write_text(path, json.dumps(document, indent=2, ensure_ascii=False) + "\n")


def fit_signature(features_path: "str | Path", target_path: "str | Path", seed: int = DEFAULT_SEED,
                  folds: int = DEFAULT_FOLDS, alphas: "Sequence[float] | None" = None,
                  l1_ratios: Sequence[float] = DEFAULT_L1_RATIOS, name: "str | None" = None,
                  status: str = "custom", description: "str | None" = None,
                  extra_provenance: "Mapping | None" = None,
                  progress: "Callable[[], None] | None" = None) -> dict:
    """Fit a signature from a features table and a target table; returns the signature document. ``progress`` is
    called after each path fit (len(l1_ratios) x (folds + 1) of them)."""
    if any(not 0 < r <= 1 for r in l1_ratios):
        raise InputError("l1 ratios must be in (0, 1]", None, "--l1-ratio-grid")
    if alphas is not None and any(a <= 0 for a in alphas):
        raise InputError("alphas must be > 0", None, "--alpha-grid")
    table = read_feature_table(features_path)
    targets = read_targets(target_path)
    ts = build_training_set(table, targets, str(target_path))
    from .glmnet_path import ConstantResponse

    try:
        fit = fit_elastic_net(ts, alphas, l1_ratios, folds, seed, progress)
    except ConstantResponse:
        raise InputError(f"the target does not vary on the {len(ts.y)} training lesions, or on those left to fit "
                         "when one cross-validation fold is held out; give lesions with different target values",
                         target_path, "column target") from None
    name = name or Path(target_path).stem + "-signature"
    provenance = {
        "source": f"Fitted by cd8rscore fit-signature: elastic net of the target on {len(ts.names)} normalised "
                  f"candidates of {len(ts.y)} lesions, penalty by {folds}-fold cross-validation with the "
                  "one-standard-error rule, retained candidates refit by ordinary least squares.",
        "inputs": {"features": {"file": Path(features_path).name, "sha256": file_sha256(features_path)},
                   "target": {"file": Path(target_path).name, "sha256": file_sha256(target_path)}},
        "seed": seed,
        "package_versions": package_versions(),
    }
    provenance.update(extra_provenance or {})
    return signature_document(ts, fit, name, status, provenance,
                              description or f"Signature fitted to {Path(target_path).name}.")


def cmd_fit_signature(args) -> int:
    """``cd8rscore fit-signature``."""
    from tqdm import tqdm

    l1_ratios = args.l1_ratio_grid or DEFAULT_L1_RATIOS
    # one step per path fit: every L1 ratio on all lesions and on each fold's training lesions
    with tqdm(total=len(l1_ratios) * (args.folds + 1), unit="fit", desc="cross-validating", file=sys.stderr,
              leave=False, disable=None) as bar:  # disable=None: no bar when stderr is not a terminal
        document = fit_signature(args.features, args.target, seed=args.seed, folds=args.folds,
                                 alphas=args.alpha_grid, l1_ratios=l1_ratios, name=args.name,
                                 progress=bar.update)
    write_signature(args.out, document)
    training = document["training"]
    constant = training["constant_candidate_names"]
    features = [c for c in constant if not c.startswith(LOCATION_PREFIX) and c != KVP_CANDIDATE]
    others = [c for c in constant if c not in features]
    if features:
        print(f"{len(features)} constant feature column(s) dropped: {', '.join(features)}", file=sys.stderr)
    if others:
        print(f"{len(others)} location/kVp candidate(s) constant in the training lesions, not estimable: "
              f"{', '.join(others)}", file=sys.stderr)
    print(f"signature {document['name']} (custom): {len(training['retained'])} of {training['n_candidates']} "
          f"candidates retained from {training['n_lesions']} lesions (alpha {training['alpha']:g}, l1 ratio "
          f"{training['l1_ratio']:g}) -> {args.out}", file=sys.stderr)
    return 0


def register(subparsers) -> None:
    """Add the ``fit-signature`` subcommand."""
    from .cli import example

    p = subparsers.add_parser(
        "fit-signature", help="fit a signature by cross-validated elastic net (the method of Sun et al. 2018)",
        description="Elastic net of a lesion-level target (e.g. CD8B expression) on the candidate features, "
                    "penalty by K-fold CV with the one-standard-error rule, OLS refit of the retained "
                    "candidates; writes a signature file with status 'custom'.",
        epilog=example("cd8rscore fit-signature --features demo-output/signature_training/demo_training_features.csv "
                       "--target demo-output/signature_training/demo_training_target.csv --out my-results/my_signature.json"))
    p.add_argument("--features", required=True, help="candidate-features CSV (cd8rscore extract / import-lifex)")
    p.add_argument("--target", required=True, help="CSV: patient_id, lesion_id, target (at least 20 rows)")
    p.add_argument("--out", required=True, help="signature JSON to write")
    p.add_argument("--alpha-grid", type=float, nargs="+", metavar="ALPHA",
                   help="penalties to try: glmnet's lambda, in units of the target, on candidates standardised "
                        "inside the fit (earlier versions took scikit-learn's alpha on the min-max scaled candidates: "
                        "their grids do not carry over), e.g. --alpha-grid 0.001 0.01 0.1 "
                        "(default: 100 from the data)")
    p.add_argument("--l1-ratio-grid", type=float, nargs="+", metavar="RATIO",
                   help=f"L1 mixing ratios to try (default: {' '.join(map(str, DEFAULT_L1_RATIOS))})")
    p.add_argument("--folds", type=int, default=DEFAULT_FOLDS, help="cross-validation folds")
    p.add_argument("--seed", type=int, default=DEFAULT_SEED, help="seed of the fold split")
    p.add_argument("--name", help="signature name (default: from the target file name)")
    p.set_defaults(func=cmd_fit_signature)
