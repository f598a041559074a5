"""Signature tools: fit-signature against R's glmnet, validate-signature and compare-signatures as processes,
candidate-feature extraction per lesion, and fit-signature on growing training sets.

Against glmnet, realistic sets first: (1) the demonstration training set (demo_signature.simulate_training_set:
160 synthetic lesions, their 152 radiomic candidates extracted by this software, 5 location terms and kVp) and
(2) a collinear latent-factor set (170 lesions, 152 candidates driven by 12 latent factors as texture features
are, a target driven by 3 of the factors, R^2 about 0.6). Whole-process ``cd8rscore fit-signature`` vs a whole
``Rscript`` process running cv.glmnet on the same normalised candidates, folds and grid (L1 ratios 0.1, 0.5, 0.7,
0.9, 0.95, 0.99, 1; 100 penalties; 10 folds) and writing its curves (Testing/Python/data/glmnet_reference/
cv_glmnet.R), the two taking turns REPEATS times: wall and CPU seconds (median and range) and the ratio of each
turn (median and range; the machine may be shared, so compare ratios). Then ``validate-signature`` and
``compare-signatures`` (the fitted signature against the demonstration one) on the same sets, wall seconds.
Without Rscript (or R's glmnet) the benchmark says so and prints the rest.

Extraction: every candidate (5 families x core and ring) of synthetic lesions of 5, 10 and 15 mm radius, seconds
per lesion. Scaling: simulated sets of n lesions x p correlated candidates (target = 5 of them + noise, as the
fit-signature test), default grids; seconds and whether the five true candidates were retained.

Run: .venv/bin/python benchmarks/bench_signature_tools.py
"""
from __future__ import annotations

import csv
import os
import resource
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "CD8RScore"))
sys.path.insert(0, str(Path(__file__).resolve().parent))

from machine import cpu_model, run_process  # noqa: E402 (benchmarks/machine.py, beside this script)

from CD8RScoreLib.extract import extract_lesion  # noqa: E402
from CD8RScoreLib.feature_table import radiomic_candidates, read_feature_table, table_columns  # noqa: E402
from CD8RScoreLib.glmnet_path import cross_validate, fold_ids  # noqa: E402
from CD8RScoreLib.lesion_table import write_csv  # noqa: E402
from CD8RScoreLib.scoring import LesionInput  # noqa: E402
from CD8RScoreLib.signature import default_signature_path, load_signature  # noqa: E402
from CD8RScoreLib.signature_fit import (DEFAULT_FOLDS, DEFAULT_L1_RATIOS, DEFAULT_SEED,  # noqa: E402
                                        build_training_set, fit_signature, read_targets)
from CD8RScoreLib.synthetic import make_lesion_crop  # noqa: E402
from CD8RScoreLib.voi import build_vois  # noqa: E402

FIT_SIZES = ((300, 80), (1000, 152), (3000, 152))
REPEATS = 5
CV_GLMNET_R = ROOT / "CD8RScore" / "Testing" / "Python" / "data" / "glmnet_reference" / "cv_glmnet.R"
CD8RSCORE = [sys.executable, "-m", "CD8RScoreLib"]
LATENT_SITES = ("liver", "lung", "node", "subcutaneous", "head_and_neck", "adrenal")


def write_latent_factor_set(folder: Path, n: int = 170, factors: int = 12, seed: int = 23) -> tuple[Path, Path]:
    """features.csv and target.csv of a collinear radiomics-like set: each candidate a random mix of ``factors``
    latent factors plus 30 % own noise, a third of them skewed (exp) as texture features are, on arbitrary scales;
    target = 3 factors + location and kVp terms + noise."""
    rng = np.random.default_rng(seed)
    names = radiomic_candidates()
    latent = rng.standard_normal((n, factors))
    mixed = latent @ rng.normal(0.0, 1.0, (factors, len(names))) / np.sqrt(factors)
    x = mixed + 0.3 * rng.standard_normal((n, len(names)))
    skewed = rng.random(len(names)) < 1 / 3
    x[:, skewed] = np.exp(x[:, skewed] / 2)
    x = x * rng.uniform(0.01, 1000.0, len(names)) + rng.uniform(-100.0, 100.0, len(names))
    sites = rng.choice(LATENT_SITES, n)
    kvp = rng.choice((100.0, 120.0), n)
    target = (1.0 * latent[:, 0] - 0.6 * latent[:, 3] + 0.4 * latent[:, 7] - 0.3 * (sites == "liver")
              + 0.1 * (kvp - 100.0) / 20.0 + rng.normal(0.0, 0.8, n))
    rows = [{"patient_id": f"L{i // 3:03d}", "lesion_id": str(i % 3 + 1), "location": sites[i], "kvp": kvp[i],
             "reason": "", **{c: float(f"{v:.8g}") for c, v in zip(names, x[i])}} for i in range(n)]
    features, targets = folder / "latent_features.csv", folder / "latent_target.csv"
    write_csv(features, rows, table_columns())
    write_csv(targets, [{"patient_id": r["patient_id"], "lesion_id": r["lesion_id"], "target": f"{t:.8g}"}
                        for r, t in zip(rows, target)], ["patient_id", "lesion_id", "target"])
    return features, targets


def write_design(features: Path, target: Path, path: Path, seed: int = DEFAULT_SEED) -> tuple[int, int]:
    """The normalised candidates, target and folds that fit-signature uses, as cv_glmnet.R reads them (target,
    fold, candidates; no header). Returns (lesions, candidates)."""
    ts = build_training_set(read_feature_table(features), read_targets(target), str(target))
    fold = fold_ids(len(ts.y), DEFAULT_FOLDS, seed)
    np.savetxt(path, np.column_stack([ts.y, fold, ts.x]), delimiter=",", fmt="%.17g")
    return ts.x.shape


def spread(values: list[float], digits: int = 2) -> str:
    """median (min-max)."""
    return f"{statistics.median(values):.{digits}f} ({min(values):.{digits}f}-{max(values):.{digits}f})"


def glmnet_available() -> "str | None":
    """Why R's glmnet cannot run here, or None."""
    if shutil.which("Rscript") is None:
        return "Rscript is not installed (apt-get install r-base-core r-cran-glmnet)"
    check = subprocess.run(["Rscript", "-e", "library(glmnet)"], capture_output=True, text=True)
    return None if check.returncode == 0 else "R's glmnet is not installed (apt-get install r-cran-glmnet)"


def bench_against_glmnet(sets: list[tuple[str, Path, Path]], folder: Path) -> None:
    missing = glmnet_available()
    print(f"fit-signature vs R's cv.glmnet, whole processes taking turns, {REPEATS} turns (median (range)); "
          "grid: L1 ratios 0.1 0.5 0.7 0.9 0.95 0.99 1, 100 penalties, 10 folds")
    if missing:
        print(f"  R not timed: {missing}")
    print("set     lesions x candidates  fit-signature wall s  CPU s             Rscript wall s      CPU s"
          "             ratio wall          ratio CPU")
    for name, features, target in sets:
        design = folder / f"{name}_design.csv"
        n, p = write_design(features, target, design)
        ours = [CD8RSCORE + ["fit-signature", "--features", str(features), "--target", str(target), "--out",
                             str(folder / f"{name}_signature.json")]]
        theirs = ["Rscript", str(CV_GLMNET_R), str(design), str(folder / f"{name}_glmnet.csv")]
        turns = [[run_process(ours[0])] + ([run_process(theirs)] if not missing else []) for _ in range(REPEATS)]
        fit_wall, fit_cpu = [t[0][0] for t in turns], [t[0][1] for t in turns]
        line = f"{name:7s} {n:4d} x {p:3d}            {spread(fit_wall):20s}  {spread(fit_cpu):16s}"
        if not missing:
            r_wall, r_cpu = [t[1][0] for t in turns], [t[1][1] for t in turns]
            line += (f"  {spread(r_wall):18s}  {spread(r_cpu):16s}  {spread([a / b for a, b in zip(fit_wall, r_wall)])}"
                     f"    {spread([a / b for a, b in zip(fit_cpu, r_cpu)])}")
        print(line)
        if not missing:
            difference = curve_difference(design, folder / f"{name}_glmnet.csv")
            print(f"        CV curve vs glmnet's: largest relative difference {difference:.1e}")


def curve_difference(design: Path, glmnet_curves: Path) -> float:
    """Largest relative difference between glmnet's cross-validated errors (cv_glmnet.R's output) and ours on the
    same design and folds, over every L1 ratio and penalty (inf if a path's length differs)."""
    data = np.loadtxt(design, delimiter=",")
    with open(glmnet_curves, newline="") as handle:
        rows = list(csv.DictReader(handle))
    largest = 0.0
    for ratio in DEFAULT_L1_RATIOS:
        theirs = np.array([float(r["cvm"]) for r in rows if float(r["alpha"]) == ratio])
        ours = cross_validate(data[:, 2:], data[:, 0], data[:, 1].astype(int), ratio).cv_mse
        largest = max(largest, float(np.abs(ours / theirs - 1).max()) if len(ours) == len(theirs) else np.inf)
    return largest


def bench_validation(sets: list[tuple[str, Path, Path]], folder: Path) -> None:
    print(f"validate-signature and compare-signatures (fitted vs demonstration), whole processes, wall (CPU) s over "
          f"{REPEATS} runs, median (range)")
    for name, features, target in sets:
        signature = folder / f"{name}_signature.json"
        if not signature.exists():
            run_process(CD8RSCORE + ["fit-signature", "--features", str(features), "--target", str(target),
                                     "--out", str(signature)])
        validate = CD8RSCORE + ["validate-signature", "--signature", str(signature), "--features", str(features),
                                "--target", str(target), "--out", str(folder / f"{name}_validation")]
        compare = CD8RSCORE + ["compare-signatures", str(default_signature_path()), str(signature), "--features",
                               str(features), "--out", str(folder / f"{name}_comparison")]
        turns = [(run_process(validate), run_process(compare)) for _ in range(REPEATS)]
        print(f"{name:7s} validate-signature {spread([t[0][0] for t in turns])} (CPU "
              f"{spread([t[0][1] for t in turns])})  compare-signatures {spread([t[1][0] for t in turns])} (CPU "
              f"{spread([t[1][1] for t in turns])})")


def bench_extraction() -> None:
    preprocessing = load_signature().preprocessing
    rng = np.random.default_rng(0)
    print("radius mm  core voxels  ring voxels  s/lesion (every candidate, core and ring)")
    for radius in (5.0, 10.0, 15.0):
        field = 2 * radius + 24.0
        image, mask = make_lesion_crop(rng, "liver", radius, 60.0, 25.0, 1.2, field_mm=(field, field, field))
        lesion = LesionInput("1", "lesion", mask, "liver")
        extract_lesion(image, lesion, preprocessing)  # warm-up
        start = time.perf_counter()
        for _ in range(REPEATS):
            row = extract_lesion(image, lesion, preprocessing)
        seconds = (time.perf_counter() - start) / REPEATS
        assert not row["reason"], row["reason"]
        vois = build_vois(image, mask, preprocessing.spacing_mm, preprocessing.ring_outer_mm,
                          preprocessing.ring_inner_mm)
        print(f"{radius:9.0f}  {vois.core_voxels:11d}  {vois.ring_voxels:11d}  {seconds:8.3f}")


def write_training_set(folder: Path, n: int, p: int, seed: int = 0) -> set[str]:
    rng = np.random.default_rng(seed)
    names = radiomic_candidates()[:p]
    x = rng.standard_normal((n, 8)) @ rng.normal(0.0, 1.0, (8, p)) * 0.6 + rng.standard_normal((n, p))
    truth = {names[3]: 1.0, names[17]: -0.8, names[29]: 0.6, names[44]: 0.9, names[61]: -0.7}
    normalised = (x - x.min(axis=0)) / np.ptp(x, axis=0)
    signal = sum(normalised[:, names.index(k)] * v for k, v in truth.items())
    target = 2.0 + signal + rng.normal(0.0, 0.1 * signal.std(), n)
    with open(folder / "features.csv", "w", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(["patient_id", "lesion_id", "location", "kvp", "reason"] + names)
        for i in range(n):
            writer.writerow([f"P{i}", "1", "liver", 120, ""] + [f"{v:.10g}" for v in x[i]])
    with open(folder / "target.csv", "w", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(["patient_id", "lesion_id", "target"])
        writer.writerows([f"P{i}", "1", f"{target[i]:.10g}"] for i in range(n))
    return set(truth)


def bench_fit() -> None:
    print("lesions  candidates  fit s (in process)  retained  five true retained")
    for n, p in FIT_SIZES:
        with tempfile.TemporaryDirectory() as tmp:
            folder = Path(tmp)
            truth = write_training_set(folder, n, p)
            start = time.perf_counter()
            document = fit_signature(folder / "features.csv", folder / "target.csv", seed=1)
            seconds = time.perf_counter() - start
        retained = document["training"]["retained"]
        print(f"{n:7d}  {p:10d}  {seconds:18.1f}  {len(retained):8d}  {'yes' if truth <= set(retained) else 'no'}")


def main() -> int:
    from CD8RScoreLib.demo_signature import simulate_training_set

    print(f"machine: {cpu_model()}, {os.cpu_count()} cores; load average {os.getloadavg()[0]:.1f}")
    with tempfile.TemporaryDirectory(prefix="cd8rscore-bench-signature-") as tmp:
        folder = Path(tmp)
        demo_features, demo_target = simulate_training_set(folder)
        latent_features, latent_target = write_latent_factor_set(folder)
        sets = [("demo", demo_features, demo_target), ("latent", latent_features, latent_target)]
        bench_against_glmnet(sets, folder)
        bench_validation(sets, folder)
    bench_extraction()
    bench_fit()
    print(f"peak memory: {resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024:.0f} MB")
    return 0


if __name__ == "__main__":
    sys.exit(main())
