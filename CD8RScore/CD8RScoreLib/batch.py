"""Batch scoring of a cohort (``cd8rscore batch``): one task per case (patient, timepoint) on dask.distributed.

Manifest: a CSV with columns ``patient_id, timepoint, image, segmentation`` and optional ``locations, kvp``; paths
are relative to the manifest's folder; ``image`` is what ``score --image`` takes (a file, a DICOM series folder, or a
series list: dicom_series_list). ``cd8rscore index`` writes one from a DICOM folder tree; other columns are ignored. Each case goes through :func:`CD8RScoreLib.cli.score_case`, the code of
``cd8rscore score``; the output is the lesion table of DESIGN §5 with the cases in manifest order.

Execution. By default a LocalCluster of N worker processes (N = the cores this process may use), one thread
each, and ITK limited to one thread per worker: a worker scores one case at a time, so it holds one CT at a
time, and one worker uses one core. With ``--scheduler`` the cases go to an existing cluster (which must see the
same paths); there a worker holds as many CTs as it has threads. The client keeps at most
``IN_FLIGHT_PER_THREAD`` x (worker threads) cases submitted: enough to keep every thread busy while a result
travels back, few enough that an interrupt cancels little and the scheduler never holds the whole cohort.

Journal (resumable, loss-free). The folder ``<out>.journal/`` next to the output holds one small CSV per finished
case (the case's lesion-table rows), written by the client as each case completes with
:func:`lesion_table.atomic_write_text` (temporary file, fsync, rename) and an fsync of the folder. A record
therefore exists whole or not at all, whatever signal arrives; there is no torn tail to repair, as an
append-only journal would have, and one write per case costs nothing next to scoring a CT. ``batch.json``
names the signature the records were computed with; ``--resume`` refuses a different one. A record's name
holds a digest of the case's inputs (patient, timepoint, image, segmentation, locations, kVp, and the size and
modification time of each input file), so a case whose manifest row changed, or whose files were changed in place
(a corrected segmentation saved under the same name), is scored again. Failed cases are recorded as ``*.failed.csv`` and scored again on
``--resume`` (a corrupt file is usually replaced before a rerun); cases recorded as scored are skipped.
A run without ``--resume`` starts a new journal; the journal is kept after the table is written. A case that
kills its worker (a crash, memory) is retried by dask on another worker, then recorded as failed.

Interrupts. SIGTERM or SIGINT stops the batch between two records: the cases still submitted are cancelled, the
cluster is shut down, the table is not written, and the exit code is 128 + the signal number. The local
workers ignore SIGINT (Ctrl-C reaches the whole process group), so the batch process alone answers it.
"""
from __future__ import annotations

import argparse
import dataclasses
import hashlib
import json
import logging
import math
import os
import re
import signal
import sys
import threading
import time
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Callable, Iterator, Sequence

from .csv_cells import clean_name
from .errors import InputError
from .lesion_table import atomic_write_text, lesion_columns, read_csv, rows_to_csv_text, write_csv

if TYPE_CHECKING:
    from distributed import Client

    from .signature import Signature

MANIFEST_REQUIRED = ("patient_id", "timepoint", "image", "segmentation")
MANIFEST_OPTIONAL = ("locations", "kvp")
TIMEPOINTS = ("E0", "E1")
KVP_RANGE_KV = (40.0, 160.0)  # the tube voltages ``cd8rscore score --kvp`` accepts
IN_FLIGHT_PER_THREAD = 2
BOUND_REFRESH_S = 2.0  # how often the in-flight limit asks the scheduler for the worker threads (s)
JOURNAL_FORMAT = 1
META_NAME = "batch.json"
LOCK_NAME = ".lock"
FAILED_SUFFIX = ".failed.csv"
SCORED_SUFFIX = ".csv"
SCHEDULER_TIMEOUT_S = 30


@dataclass(frozen=True)
class Case:
    """One manifest row: a CT and its segmentation for (patient_id, timepoint); paths absolute."""

    row: int  # manifest line number (the header is line 1)
    patient_id: str
    timepoint: str
    image: str
    segmentation: str
    locations: "str | None" = None
    kvp_kv: "float | None" = None
    contents: str = ""  # input_contents_key of the image, segmentation and locations, read with the manifest

    @property
    def label(self) -> str:
        return f"{self.patient_id}/{self.timepoint}"

    @property
    def stem(self) -> str:
        """Journal record name: :attr:`prefix` (the case), then a digest of every input of the case."""
        inputs = json.dumps([self.patient_id, self.timepoint, self.image, self.segmentation, self.locations,
                             self.kvp_kv, self.contents])
        return self.prefix + hashlib.sha256(inputs.encode("utf-8")).hexdigest()[:16]

    @property
    def prefix(self) -> str:
        """What every journal record of this (patient, timepoint) starts with: readable patient and timepoint, then
        a digest of the two."""
        readable = re.sub(r"[^A-Za-z0-9_.-]+", "_", f"{self.patient_id}_{self.timepoint}")[:60].lstrip(".")
        digest = hashlib.sha256(json.dumps([self.patient_id, self.timepoint]).encode("utf-8")).hexdigest()[:8]
        return f"{readable}-{digest}-"


@dataclass
class CaseOutcome:
    """What a worker sends back: the case's rows, the error if the case failed, and its run time (s)."""

    rows: list[dict]
    error: "str | None" = None
    seconds: float = 0.0


@dataclass
class BatchSummary:
    """Counts of a finished batch; ``failed`` lists the failed cases as "patient/timepoint"."""

    cases: int
    resumed: int
    lesions: int
    computable: int
    lesions_run: int
    seconds: float
    out: Path
    journal: Path
    failed: list[str] = field(default_factory=list)

    @property
    def lesions_per_second(self) -> float:
        return self.lesions_run / self.seconds if self.seconds > 0 else float("nan")


class BatchInterrupted(BaseException):
    """A signal (SIGTERM, SIGINT) stopped the batch; finished cases are in the journal.

    A BaseException, like KeyboardInterrupt, so that no ``except Exception`` on the way takes it for a failed case.
    """

    def __init__(self, signum: int):
        self.signum = signum
        super().__init__(f"interrupted by {signal.Signals(signum).name}")


# ---------------------------------------------------------------------------------------------- manifest

def input_contents_key(*paths: "str | None") -> str:
    """What stands for the contents of input files: size and modification time (ns) of each file, and of each
    file of a folder (a DICOM series); a segmentation corrected in place under the same name changes it."""
    def stat(path: str) -> list:
        try:
            info = os.stat(path)
        except OSError:
            return [path, None]  # missing: the case fails, and is scored again once the file is there
        if not os.path.isdir(path):
            return [path, info.st_size, info.st_mtime_ns]
        return [path, sorted(stat(os.path.join(path, name)) for name in os.listdir(path))]

    return json.dumps([stat(path) if path else None for path in paths])


def _absolute(base: Path, text: str) -> str:
    return os.path.normpath(os.path.join(base, os.path.expanduser(text)))


def read_manifest(path: "str | os.PathLike") -> list[Case]:
    """The cases of a manifest CSV, in file order; InputError names the row and column of the first problem."""
    path = Path(path)
    columns, rows = read_csv(path, required=MANIFEST_REQUIRED)
    base = path.resolve().parent
    cases: list[Case] = []
    seen: dict[tuple[str, str], int] = {}
    for number, row in enumerate(rows, start=2):  # line 1 is the header
        def cell(column: str) -> str:
            return clean_name(row.get(column) or "")

        for column in ("patient_id", "image", "segmentation"):
            if not cell(column):
                raise InputError(f"empty {column}", path, f"row {number}, column '{column}'")
        timepoint = cell("timepoint")
        if timepoint not in TIMEPOINTS:
            raise InputError(f"timepoint must be one of {', '.join(TIMEPOINTS)}, got {timepoint!r}", path,
                             f"row {number}, column 'timepoint'")
        key = (cell("patient_id"), timepoint)
        if key in seen:
            raise InputError(f"patient {key[0]!r} at {key[1]} is listed twice (rows {seen[key]} and {number}); "
                             "give one image per patient and timepoint", path, f"row {number}")
        seen[key] = number
        kvp_kv = None
        if "kvp" in columns and cell("kvp"):
            try:
                kvp_kv = float(cell("kvp"))
            except ValueError:
                raise InputError(f"kVp must be a number of kV, got {cell('kvp')!r}", path,
                                 f"row {number}, column 'kvp'") from None
            if not (KVP_RANGE_KV[0] <= kvp_kv <= KVP_RANGE_KV[1]) or math.isnan(kvp_kv):
                raise InputError(f"{kvp_kv:g} kV is not a CT tube voltage ({KVP_RANGE_KV[0]:g}-{KVP_RANGE_KV[1]:g})",
                                 path, f"row {number}, column 'kvp'")
        locations = cell("locations") if "locations" in columns else ""
        paths = (_absolute(base, cell("image")), _absolute(base, cell("segmentation")),
                 _absolute(base, locations) if locations else None)
        cases.append(Case(number, key[0], timepoint, *paths, kvp_kv, input_contents_key(*paths)))
    if not cases:
        raise InputError("the manifest lists no case", path)
    return cases


# ---------------------------------------------------------------------------------------------- one case

def _error_message(exc: BaseException) -> str:
    """One line for the reason column: an InputError's message as is, else the exception type and last line."""
    text = str(exc).strip()
    if isinstance(exc, InputError):
        return " ".join(text.split())
    last = text.splitlines()[-1].strip() if text else ""
    return f"{type(exc).__name__}: {last}" if last else type(exc).__name__


def segmentation_lesions(path: "str | os.PathLike") -> list[tuple[str, str]]:
    """(lesion_id, segment_name) of each lesion of a segmentation read on its own grid; [] if unreadable."""
    import SimpleITK as sitk

    from .imageio import read_segmentation

    try:
        from .dicom_seg_input import dicom_lesion_names, is_dicom_file
        if is_dicom_file(path):
            return dicom_lesion_names(path)
        seg = sitk.ReadImage(str(path))
        grid = seg if seg.GetNumberOfComponentsPerPixel() == 1 else sitk.VectorIndexSelectionCast(seg, 0)
        return [(m.lesion_id, m.segment_name) for m in read_segmentation(path, grid)]
    except Exception:  # noqa: BLE001 - the case already failed; unknown lesions give one row
        return []


def failure_rows(case: Case, signature: "Signature", message: str) -> list[dict]:
    """Rows of a case that could not be scored: one per lesion of its segmentation, or one if they are unknown.

    Each row is not computable (computable 0, score_class NA) with ``message`` as the reason.
    """
    lesions = segmentation_lesions(case.segmentation) or [("", "")]
    return [{"patient_id": case.patient_id, "timepoint": case.timepoint, "lesion_id": lesion_id,
             "segment_name": segment_name, "kvp": case.kvp_kv, "kvp_source": "user" if case.kvp_kv is not None else "",
             "score": None, "score_class": "NA", "computable": False, "reason": message,
             "signature_name": signature.name, "signature_status": signature.status, "warnings": ""}
            for lesion_id, segment_name in lesions]


def score_case_task(case: Case, signature: "Signature") -> CaseOutcome:
    """Score one case on a worker; a case that fails returns its failure rows and the error instead of raising."""
    from .cli import score_case

    start = time.perf_counter()
    try:
        rows = score_case(case.image, case.segmentation, case.locations, case.kvp_kv, signature, case.patient_id,
                          case.timepoint)
        error = None
    except Exception as exc:  # noqa: BLE001 - any failure of one case is recorded and the batch goes on
        error = _error_message(exc)
        rows = failure_rows(case, signature, error)
    return CaseOutcome(rows, error, time.perf_counter() - start)


# ---------------------------------------------------------------------------------------------- journal

def journal_folder(out: "str | os.PathLike") -> Path:
    """The journal of a batch writing ``out``: the folder ``<out>.journal`` beside it."""
    out = Path(out)
    return out.parent / f"{out.name}.journal"


def signature_digest(signature: "Signature") -> str:
    """SHA-256 of everything a score depends on in ``signature`` (its file path excluded)."""
    content = dataclasses.asdict(signature)
    content.pop("path", None)
    return hashlib.sha256(json.dumps(content, sort_keys=True, default=str).encode("utf-8")).hexdigest()


def _fsync_folder(folder: Path) -> None:
    """Make the renames in ``folder`` durable (POSIX; a no-op where folders cannot be opened)."""
    try:
        fd = os.open(folder, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(fd)
    except OSError:
        pass
    finally:
        os.close(fd)


class Journal:
    """One CSV per finished case in a folder, each written atomically; see the module docstring."""

    def __init__(self, folder: Path, columns: Sequence[str]):
        self.folder = Path(folder)
        self.columns = list(columns)
        self._lock = None

    def _record_files(self) -> Iterator[Path]:
        for path in self.folder.iterdir():
            if path.is_file() and path.name.endswith(SCORED_SUFFIX) and not path.name.startswith("."):
                yield path

    def open(self, signature: "Signature", resume: bool) -> None:
        """Lock the folder against a second batch; check (resume) or start (otherwise) the journal."""
        from filelock import FileLock, Timeout

        self.folder.mkdir(parents=True, exist_ok=True)
        lock = FileLock(str(self.folder / LOCK_NAME))
        try:
            lock.acquire(timeout=0)
        except Timeout:
            raise InputError("another batch is writing this journal; wait for it or give another --out",
                             self.folder) from None
        self._lock = lock
        try:
            for path in self.folder.glob(".*.tmp"):  # left by a process killed inside a write (SIGKILL)
                path.unlink()
            meta_path = self.folder / META_NAME
            meta = {"format": JOURNAL_FORMAT, "signature": signature.label,
                    "signature_sha256": signature_digest(signature), "columns": self.columns}
            if resume and meta_path.is_file():
                try:
                    old = json.loads(meta_path.read_text(encoding="utf-8"))
                except (OSError, ValueError):
                    old = None
                if not isinstance(old, dict) or old.get("format") != JOURNAL_FORMAT:
                    raise InputError("not a batch journal this version can resume; run without --resume",
                                     meta_path)
                if old.get("signature_sha256") != meta["signature_sha256"] or old.get("columns") != self.columns:
                    raise InputError(f"the journal holds cases scored with {old.get('signature')}, not "
                                     f"{signature.label}; give the same --signature or run without --resume",
                                     meta_path)
                return
            for path in list(self._record_files()):
                path.unlink()
            atomic_write_text(meta_path, json.dumps(meta, indent=1) + "\n")
            _fsync_folder(self.folder)
        except BaseException:
            self.close()
            raise

    def close(self) -> None:
        if self._lock is not None:
            self._lock.release()
            self._lock = None

    def path(self, case: Case, failed: bool) -> Path:
        return self.folder / (case.stem + (FAILED_SUFFIX if failed else SCORED_SUFFIX))

    def load(self, case: Case) -> "tuple[list[dict], bool] | None":
        """(rows, failed) of the case's record, the scored one first; None if absent or not of this case."""
        for failed in (False, True):
            path = self.path(case, failed)
            if not path.is_file():
                continue
            try:
                columns, rows = read_csv(path)
            except (InputError, OSError, ValueError):
                continue
            if columns != self.columns or not rows or any(
                    r.get("patient_id") != case.patient_id or r.get("timepoint") != case.timepoint for r in rows):
                continue
            return rows, failed
        return None

    def record(self, case: Case, rows: Sequence[dict], failed: bool) -> None:
        """Write the case's record atomically, then remove the case's other records (a retried failure, or a record
        of inputs that have changed since)."""
        current = self.path(case, failed)
        atomic_write_text(current, rows_to_csv_text(rows, self.columns))
        for path in list(self._record_files()):
            if path.name.startswith(case.prefix) and path != current:
                path.unlink()
        _fsync_folder(self.folder)


# ---------------------------------------------------------------------------------------------- execution

@contextmanager
def open_client(workers: "int | None" = None, scheduler: "str | None" = None) -> Iterator["Client"]:
    """A dask Client: to ``scheduler`` if given, else to a LocalCluster of ``workers`` single-threaded processes.

    The LocalCluster and its processes are shut down on leaving, whatever the exit.
    """
    from distributed import Client, LocalCluster

    from .worker_processes import available_cores

    if scheduler:
        try:
            client = Client(scheduler, timeout=SCHEDULER_TIMEOUT_S)
        except (OSError, TimeoutError) as exc:
            raise InputError(f"cannot reach the dask scheduler: {_error_message(exc)}", None, "--scheduler") from None
        try:
            yield client
        finally:
            client.close()
        return
    n_workers = workers or available_cores()
    cluster = LocalCluster(n_workers=n_workers, threads_per_worker=1, processes=True, dashboard_address=None,
                           silence_logs=logging.ERROR, preload=[__name__],  # runs dask_setup in each worker
                           env={"ITK_GLOBAL_DEFAULT_NUMBER_OF_THREADS": "1"})  # one core per worker
    try:
        client = Client(cluster)
        try:
            yield client
        finally:
            client.close()
    finally:
        cluster.close()


def dask_setup(worker) -> None:
    """Preload of the local cluster's workers: they ignore Ctrl-C (SIGINT reaches the whole terminal process
    group); the batch process alone answers it, by shutting the cluster down."""
    if threading.current_thread() is threading.main_thread():
        signal.signal(signal.SIGINT, signal.SIG_IGN)


def execute(client: "Client", cases: Sequence[Case], task: Callable, task_args: tuple,
            on_done: Callable[[Case, "CaseOutcome"], None],
            on_lost: Callable[[Case, BaseException], "CaseOutcome"]) -> None:
    """Run ``task(case, *task_args)`` for every case, at most IN_FLIGHT_PER_THREAD x (worker threads) at a time.

    ``on_done(case, outcome)`` runs in this thread as each case finishes, in completion order; a task that raised
    (a worker killed, a task that could not be sent) becomes ``on_lost(case, exc)``. On any exit other than
    completion (an interrupt), the cases still submitted are cancelled.
    """
    from distributed import as_completed

    queue = iter(cases)
    submitted: dict = {}
    completed = as_completed()
    cached = {"limit": 1, "asked_at": -math.inf}

    def bound() -> int:
        """In-flight limit from the cluster's worker threads, asked again every BOUND_REFRESH_S (workers may join)."""
        now = time.monotonic()
        if now - cached["asked_at"] >= BOUND_REFRESH_S:
            cached["limit"] = max(1, IN_FLIGHT_PER_THREAD * sum(client.nthreads().values()))
            cached["asked_at"] = now
        return cached["limit"]

    def submit_more() -> None:
        limit = bound()
        while len(submitted) < limit:
            case = next(queue, None)
            if case is None:
                return
            future = client.submit(task, case, *task_args, key=f"cd8rscore-case-{case.stem}", pure=False)
            submitted[future.key] = (future, case)
            completed.add(future)

    try:
        submit_more()
        for future in completed:
            _, case = submitted.pop(future.key)
            try:
                outcome = future.result()
            except Exception as exc:  # noqa: BLE001 - the case is recorded as failed, the batch goes on
                outcome = on_lost(case, exc)
            future.release()
            on_done(case, outcome)
            submit_more()
    finally:
        if submitted:
            client.cancel([future for future, _ in submitted.values()])


def run_batch(manifest: "str | os.PathLike", out: "str | os.PathLike", signature: "Signature",
              workers: "int | None" = None, scheduler: "str | None" = None, resume: bool = False,
              show_progress: "bool | None" = None) -> BatchSummary:
    """Score every case of ``manifest`` and write the lesion table ``out`` (rows in manifest order).

    ``show_progress``: True/False forces the bar on/off; None shows it when stderr is a terminal.
    """
    from tqdm import tqdm

    start = time.perf_counter()
    out = Path(out)
    cases = read_manifest(manifest)
    journal = Journal(journal_folder(out), lesion_columns(signature.feature_keys))
    journal.open(signature, resume)
    try:
        recorded = {case.stem: journal.load(case) for case in cases} if resume else {}
        todo = [case for case in cases if not (recorded.get(case.stem) and not recorded[case.stem][1])]
        lesions_run = 0
        if todo:
            bar = tqdm(total=len(todo), unit="case", desc="batch", file=sys.stderr, dynamic_ncols=True,
                       disable=None if show_progress is None else not show_progress)

            def on_done(case: Case, outcome: CaseOutcome) -> None:
                nonlocal lesions_run
                journal.record(case, outcome.rows, outcome.error is not None)
                lesions_run += len(outcome.rows)
                elapsed = time.perf_counter() - start
                bar.set_postfix_str(f"{lesions_run} lesions, {lesions_run / elapsed:.2f} lesions/s", refresh=False)
                bar.update(1)

            def on_lost(case: Case, exc: BaseException) -> CaseOutcome:
                message = _error_message(exc)
                return CaseOutcome(failure_rows(case, signature, message), message)

            try:
                with open_client(workers, scheduler) as client:
                    execute(client, todo, score_case_task, (signature,), on_done, on_lost)
            finally:
                bar.close()
        rows: list[dict] = []
        failed: list[str] = []
        for case in cases:
            record = journal.load(case)
            if record is None:
                raise RuntimeError(f"case {case.label} finished but its journal record is missing")
            rows += record[0]
            if record[1]:
                failed.append(case.label)
        write_csv(out, rows, journal.columns)
    finally:
        journal.close()
    return BatchSummary(cases=len(cases), resumed=len(cases) - len(todo), lesions=len(rows),
                        computable=sum(1 for r in rows if r.get("computable") == "1"), lesions_run=lesions_run,
                        seconds=time.perf_counter() - start, out=out, journal=journal.folder, failed=failed)


# ---------------------------------------------------------------------------------------------- command line

@contextmanager
def _signals_interrupt() -> Iterator[None]:
    """SIGTERM and SIGINT raise BatchInterrupted in this (the main) thread; a second signal during the
    clean-up that follows is ignored, so the cluster is always shut down and no record is half-written."""
    def handler(signum: int, frame) -> None:
        for sig in (signal.SIGTERM, signal.SIGINT):
            signal.signal(sig, signal.SIG_IGN)
        raise BatchInterrupted(signum)

    previous = {sig: signal.signal(sig, handler) for sig in (signal.SIGTERM, signal.SIGINT)}
    try:
        yield
    finally:
        for sig, old in previous.items():
            signal.signal(sig, old)


def cmd_batch(args: argparse.Namespace) -> int:
    from . import RESEARCH_USE_NOTICE
    from .signature import load_signature
    from .worker_processes import available_cores

    signature = load_signature(args.signature)
    if args.workers is not None and args.workers < 1:
        raise InputError(f"must be at least 1, got {args.workers}", None, "--workers")
    workers = args.workers
    if workers is not None and workers > available_cores():
        # a local worker scores one CT at a time on one core: more workers than cores only add memory and overhead
        print(f"cd8rscore batch: --workers {workers} is more than the {available_cores()} core(s) this process may "
              f"use; running {available_cores()} worker(s)", file=sys.stderr)
        workers = available_cores()
    try:
        with _signals_interrupt():
            summary = run_batch(args.manifest, args.out, signature, workers, args.scheduler, args.resume)
    except BatchInterrupted as exc:
        folder = journal_folder(args.out)
        done = len(list(folder.glob("*.csv"))) if folder.is_dir() else 0
        print(f"cd8rscore batch: {exc}; {done} case(s) are recorded in {folder}; rerun with --resume to finish "
              f"(the table {args.out} was not written)", file=sys.stderr)
        return 128 + exc.signum
    print(f"{summary.cases} case(s) ({summary.resumed} from the journal), {summary.lesions} lesion(s), "
          f"{summary.computable} scored with {signature.label}, {len(summary.failed)} case(s) failed; "
          f"{summary.lesions_run} lesion(s) in {summary.seconds:.1f} s ({summary.lesions_per_second:.2f} lesions/s) "
          f"-> {summary.out}. {RESEARCH_USE_NOTICE}", file=sys.stderr)
    if summary.failed:
        shown = ", ".join(summary.failed[:10]) + (", ..." if len(summary.failed) > 10 else "")
        print(f"cd8rscore batch: {len(summary.failed)} case(s) failed ({shown}); their rows give the reason",
              file=sys.stderr)
        return 1
    return 0


def register(subparsers) -> None:
    """Add the ``batch`` subcommand."""
    from .cli import example

    p = subparsers.add_parser(
        "batch", help="score every case of a manifest on local processes or a dask cluster",
        description="Score a cohort: one task per (patient, timepoint) of the manifest, on local worker processes or "
                    "a running Dask cluster. Every finished case is journalled beside --out, so an interrupted run "
                    "continues with --resume; a case that fails keeps its rows with the error (exit 1).",
        epilog=example("cd8rscore batch --manifest demo-output/synthetic/manifest.csv --out my-results/batch.csv"))
    p.add_argument("--manifest", required=True,
                   help="CSV: patient_id, timepoint, image, segmentation[, locations, kvp]; paths relative to it")
    p.add_argument("--out", required=True, help="lesion table CSV to write (journal: <out>.journal/ beside it)")
    where = p.add_mutually_exclusive_group()
    where.add_argument("--workers", type=int, help="local worker processes (default: the number of cores)")
    where.add_argument("--scheduler", help="address of a running dask scheduler, e.g. tcp://host:8786")
    p.add_argument("--signature", help="signature JSON (default: the demonstration signature)")
    p.add_argument("--resume", action="store_true",
                   help="skip the cases already scored in the journal of --out; failed cases are retried")
    p.set_defaults(func=cmd_batch)
