"""Signature tools: candidate-feature extraction per lesion, and fit-signature time for growing training sets.

Extraction: every candidate (5 families x core and ring) of synthetic lesions of 5, 10 and 15 mm radius
(synthetic.make_lesion_crop), seconds per lesion. Fitting: simulated training sets of n lesions x p correlated
candidates (target = 5 of them + noise, as the fit-signature test), default grids (7 L1 ratios x 100 penalties,
10 folds); seconds and whether the five true candidates were retained. Peak resident memory at the end.

Run: .venv/bin/python benchmarks/bench_signature_tools.py
"""
from __future__ import annotations

import csv
import resource
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "CD8RScore"))

from CD8RScoreLib.extract import extract_lesion  # noqa: E402
from CD8RScoreLib.feature_table import radiomic_candidates  # noqa: E402
from CD8RScoreLib.scoring import LesionInput  # noqa: E402
from CD8RScoreLib.signature import load_signature  # noqa: E402
from CD8RScoreLib.signature_fit import fit_signature  # noqa: E402
from CD8RScoreLib.synthetic import make_lesion_crop  # noqa: E402
from CD8RScoreLib.voi import build_vois  # noqa: E402

FIT_SIZES = ((300, 80), (1000, 152), (3000, 152))
REPEATS = 5


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
    print("lesions  candidates  fit s  retained  five true retained")
    for n, p in FIT_SIZES:
        with tempfile.TemporaryDirectory() as tmp:
            folder = Path(tmp)
            truth = write_training_set(folder, n, p)
            start = time.perf_counter()
            document = fit_signature(folder / "features.csv", folder / "target.csv", seed=1)
            seconds = time.perf_counter() - start
        retained = document["training"]["retained"]
        print(f"{n:7d}  {p:10d}  {seconds:5.1f}  {len(retained):8d}  {'yes' if truth <= set(retained) else 'no'}")


def main() -> int:
    bench_extraction()
    bench_fit()
    print(f"peak memory: {resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024:.0f} MB")
    return 0


if __name__ == "__main__":
    sys.exit(main())
