"""Cohort analysis time and memory for 136 / 1,000 / 10,000 simulated patients.

Each size runs in its own process: simulate the cohort (``CD8RScoreCohortLib.simulate``, ~8 lesions per
patient, E0 and E1 rows), then the whole ``cohort`` analysis with figures and report. Prints seconds for the
simulation and for the analysis, and the process's peak resident memory (MB).

Run: .venv/bin/python benchmarks/bench_cohort.py [N ...]
"""
from __future__ import annotations

import json
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
SIZES = (136, 1000, 10000)


def run_one(n_patients: int) -> dict:
    """Simulate and analyse ``n_patients`` in a temporary folder; seconds and peak memory."""
    sys.path[:0] = [str(ROOT / "CD8RScore"), str(ROOT / "CD8RScoreCohort")]
    from CD8RScoreCohortLib.analysis import run_cohort
    from CD8RScoreCohortLib.simulate import SIMULATED_COVARIATES, SIMULATION_REFERENCE_CUTOFF, write_simulated_cohort

    with tempfile.TemporaryDirectory() as tmp:
        t0 = time.perf_counter()
        lesions, clinical = write_simulated_cohort(tmp, n_patients=n_patients, seed=1)
        t1 = time.perf_counter()
        results = run_cohort(lesions, clinical, Path(tmp) / "out", reference_cutoff=SIMULATION_REFERENCE_CUTOFF,
                             covariates=SIMULATED_COVARIATES)
        t2 = time.perf_counter()
    return {"patients": n_patients, "lesion_rows": results["counts"]["lesion_rows"],
            "simulate_s": t1 - t0, "analysis_s": t2 - t1,
            "peak_rss_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024.0}


def main(argv: list[str]) -> int:
    if argv[:1] == ["--one"]:
        print(json.dumps(run_one(int(argv[1]))))
        return 0
    sizes = [int(a) for a in argv] or list(SIZES)
    print(f"{'patients':>9} {'lesion rows':>12} {'simulate s':>11} {'analysis s':>11} {'peak MB':>8}")
    for n in sizes:
        proc = subprocess.run([sys.executable, __file__, "--one", str(n)], capture_output=True, text=True)
        if proc.returncode != 0:
            sys.stderr.write(proc.stderr)
            return proc.returncode
        r = json.loads(proc.stdout.strip().splitlines()[-1])
        print(f"{r['patients']:>9} {r['lesion_rows']:>12} {r['simulate_s']:>11.2f} {r['analysis_s']:>11.2f} "
              f"{r['peak_rss_mb']:>8.0f}", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
