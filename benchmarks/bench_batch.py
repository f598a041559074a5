"""Batch scoring throughput and scaling: ``cd8rscore batch`` on a generated cohort with 1 and 2 local workers.

Cohort: ``--patients`` synthetic patients (CD8RScoreLib.synthetic.make_patient, default field 160x160x120 mm at
0.8x0.8x2 mm) of ``--lesions`` lesions each, written as NRRD to a temporary folder with a manifest.
For each worker count: wall seconds of the whole batch (cluster start, scoring, journal, table), seconds of the
cluster start alone, lesions/s over the whole batch and over scoring alone (wall minus start), and the scaling
efficiency = (scoring lesions/s with N workers) / (N x scoring lesions/s with 1 worker). Then the scheduler's cost
per task: ``--trivial`` tasks that only format their argument, through the batch's bounded submission loop and,
for comparison, all submitted at once (ms/task); and the hand-over cost when tasks take 50 ms (ms/task beyond
the work: the next case already waits at the worker).
The tables of every worker count are checked to be identical.

Run: .venv/bin/python benchmarks/bench_batch.py [--patients 20] [--lesions 8] [--workers 1,2]
"""
from __future__ import annotations

import argparse
import csv
import platform
import sys
import tempfile
import time
from pathlib import Path

import SimpleITK as sitk

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "CD8RScore"))

from CD8RScoreLib.batch import Case, execute, open_client, run_batch  # noqa: E402
from CD8RScoreLib.signature import load_signature  # noqa: E402
from CD8RScoreLib.synthetic import make_patient  # noqa: E402
from CD8RScoreLib.worker_processes import available_cores  # noqa: E402
from machine import cpu_model  # noqa: E402 (benchmarks/machine.py, beside this script)


def write_cohort(folder: Path, n_patients: int, n_lesions: int) -> tuple[Path, str]:
    """NRRD CTs and label maps plus manifest.csv in ``folder``; returns the manifest and the image size."""
    rows = []
    size = ""
    for number in range(n_patients):
        patient = make_patient(n_lesions=n_lesions, seed=1000 + number)
        size = "x".join(str(s) for s in patient.image.GetSize())
        sitk.WriteImage(patient.image, str(folder / f"p{number:03d}.nrrd"), True)
        sitk.WriteImage(patient.labels, str(folder / f"p{number:03d}_seg.nrrd"), True)
        rows.append([f"P{number:03d}", "E0", f"p{number:03d}.nrrd", f"p{number:03d}_seg.nrrd"])
    manifest = folder / "manifest.csv"
    with open(manifest, "w", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(["patient_id", "timepoint", "image", "segmentation"])
        writer.writerows(rows)
    return manifest, size


def cluster_start_seconds(workers: int) -> float:
    start = time.perf_counter()
    with open_client(workers=workers) as client:
        client.wait_for_workers(workers)
        elapsed = time.perf_counter() - start
    return elapsed


def sleep_task(case: Case, seconds: float) -> str:
    """A task that takes ``seconds`` (s) without using the CPU."""
    time.sleep(seconds)
    return case.label


def pipelined_overhead_ms(workers: int, n_tasks: int, seconds: float) -> float:
    """Milliseconds per task beyond the work itself for tasks of ``seconds`` (s) through the bounded loop:
    (wall - n_tasks x seconds / workers) / n_tasks. The next case waits on the worker, so the hand-over is hidden."""
    cases = [Case(i + 2, f"S{i}", "E0", f"/s{i}.nrrd", f"/s{i}_seg.nrrd") for i in range(n_tasks)]
    results: list[str] = []
    with open_client(workers=workers) as client:
        client.wait_for_workers(workers)
        start = time.perf_counter()
        execute(client, cases, sleep_task, (seconds,), lambda case, outcome: results.append(outcome),
                lambda case, exc: f"lost {exc!r}")
        elapsed = time.perf_counter() - start
    assert sorted(results) == sorted(c.label for c in cases)
    return 1000.0 * (elapsed - n_tasks * seconds / workers) / n_tasks


def trivial_task_ms(workers: int, n_tasks: int) -> tuple[float, float]:
    """Milliseconds per task for tasks that only format their argument (scheduler and transport cost): through
    the batch's bounded submission loop, and all submitted at once (client.map) for comparison."""
    cases = [Case(i + 2, f"T{i}", "E0", f"/t{i}.nrrd", f"/t{i}_seg.nrrd") for i in range(n_tasks)]
    results: list[str] = []
    with open_client(workers=workers) as client:
        client.wait_for_workers(workers)
        start = time.perf_counter()
        execute(client, cases, repr, (), lambda case, outcome: results.append(outcome),
                lambda case, exc: f"lost {exc!r}")
        bounded = time.perf_counter() - start
        start = time.perf_counter()
        mapped = client.gather(client.map(repr, cases, pure=False))
        unbounded = time.perf_counter() - start
    assert len(results) == n_tasks and not any(r.startswith("lost") for r in results)
    assert sorted(mapped) == sorted(results)
    return 1000.0 * bounded / n_tasks, 1000.0 * unbounded / n_tasks


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--patients", type=int, default=20)
    parser.add_argument("--lesions", type=int, default=8)
    parser.add_argument("--workers", default="1,2", help="comma-separated worker counts")
    parser.add_argument("--trivial", type=int, default=1000, help="trivial tasks for the per-task overhead")
    args = parser.parse_args()
    worker_counts = [int(w) for w in args.workers.split(",")]
    import dask
    import distributed

    print(f"machine: {cpu_model()}, {available_cores()} cores; Python "
          f"{platform.python_version()}, dask {dask.__version__}, distributed {distributed.__version__}")
    signature = load_signature()
    with tempfile.TemporaryDirectory(prefix="bench_batch_") as tmp:
        folder = Path(tmp)
        start = time.perf_counter()
        manifest, size = write_cohort(folder, args.patients, args.lesions)
        print(f"cohort: {args.patients} patients x {args.lesions} lesions, CT {size} voxels "
              f"(generated and written in {time.perf_counter() - start:.1f} s)")
        print(f"{'workers':>7s} {'wall s':>7s} {'start s':>7s} {'lesions/s':>9s} {'scoring lesions/s':>17s} "
              f"{'efficiency':>10s}")
        base_rate = None
        tables = []
        for workers in worker_counts:
            startup = cluster_start_seconds(workers)
            out = folder / f"lesions_{workers}.csv"
            summary = run_batch(manifest, out, signature, workers=workers, show_progress=False)
            assert not summary.failed and summary.lesions == args.patients * args.lesions
            tables.append(out.read_bytes())
            rate = summary.lesions / summary.seconds
            scoring_rate = summary.lesions / max(summary.seconds - startup, 1e-9)
            if base_rate is None and workers == 1:
                base_rate = scoring_rate
            efficiency = f"{scoring_rate / (workers * base_rate):10.2f}" if base_rate else f"{'-':>10s}"
            print(f"{workers:7d} {summary.seconds:7.1f} {startup:7.1f} {rate:9.2f} {scoring_rate:17.2f} "
                  f"{efficiency}")
        assert all(table == tables[0] for table in tables), "tables differ between worker counts"
        print(f"tables identical across worker counts; {summary.computable} of {summary.lesions} lesions scored")
    for workers in worker_counts:
        bounded, unbounded = trivial_task_ms(workers, args.trivial)
        print(f"scheduler overhead, {workers} worker(s), {args.trivial} trivial tasks: {bounded:.2f} ms/task with "
              f"the bounded submission of the batch, {unbounded:.2f} ms/task all submitted at once")
        sleep_s = 0.05
        print(f"hand-over cost, {workers} worker(s), {args.trivial // 5} tasks of {1000 * sleep_s:.0f} ms: "
              f"{pipelined_overhead_ms(workers, args.trivial // 5, sleep_s):.2f} ms/task beyond the work")


if __name__ == "__main__":
    main()
