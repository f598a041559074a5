"""Worker processes on this machine's cores: a pool for ``cd8rscore score --perturbations`` (each worker scores
one perturbation of a lesion at a time) and the size of ``cd8rscore batch``'s local cluster.

On Linux the workers are forks of the scoring process, made before it reads its CT: they start at once with the
modules loaded. The other threads running at that point are OpenBLAS's (numpy's and scipy's); ITK's thread pool
starts later, with the first image filter. Both libraries stop their threads around a fork (pthread_atfork in
OpenBLAS's driver/others/memory.c and in ITK's itkThreadPool.cxx), so a fork copies no lock held by a running
thread. Elsewhere (macOS, whose system libraries are not fork-safe, and Windows) the workers are fresh interpreters
("spawn") that import what they need. Workers ignore Ctrl-C (SIGINT reaches the whole terminal process group):
the scoring process alone answers it. On Linux a worker also ends when the scoring process ends, however it ends
(a kill, a crash), instead of waiting for work that will not come.
"""
from __future__ import annotations

import ctypes
import importlib
import multiprocessing
import os
import signal
import sys
import threading
from concurrent.futures import Executor, ProcessPoolExecutor
from contextlib import contextmanager
from typing import Iterator, Sequence

# prctl option of Linux: the signal a process receives when its parent ends (linux/prctl.h).
PR_SET_PDEATHSIG = 1


def available_cores() -> int:
    """The number of cores this process may run on."""
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:  # not Linux
        return os.cpu_count() or 1


def start_method() -> str:
    """How workers start here: "fork" on Linux, else "spawn" (see the module's description)."""
    return "fork" if sys.platform.startswith("linux") else "spawn"


def _start_worker(parent_pid: int) -> None:
    """Run by each worker before its first task: ignore Ctrl-C and, on Linux, end with the scoring process.

    prctl is called through ctypes: it is one call of the C library, which no standard module exposes."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    if sys.platform.startswith("linux"):
        ctypes.CDLL(None).prctl(PR_SET_PDEATHSIG, signal.SIGTERM)
        if os.getppid() != parent_pid:  # it ended before the call
            os._exit(1)


@contextmanager
def worker_pool(modules: Sequence[str] = ()) -> "Iterator[Executor | None]":
    """A pool of one worker process per available core, or None on a single core (the work then runs in this
    process). ``modules``: what the workers' tasks import, loaded before the workers are forked. Forked workers
    start at once (spawned ones as tasks arrive); on leaving, tasks not started are cancelled and the workers
    stopped."""
    n_workers = available_cores()
    if n_workers < 2:
        yield None
        return
    method = start_method()
    if method == "fork":
        for module in modules:
            importlib.import_module(module)
    pool = ProcessPoolExecutor(max_workers=n_workers, mp_context=multiprocessing.get_context(method),
                               initializer=_start_worker, initargs=(os.getpid(),))
    try:
        with _interrupts_held():
            pool.submit(os.getpid)  # starts the workers now (all of them when forked)
        yield pool
    finally:
        pool.shutdown(wait=True, cancel_futures=True)


@contextmanager
def _interrupts_held() -> Iterator[None]:
    """Ctrl-C is held back while the pool starts, and acted on after: an interrupt in the middle of its start would
    leave the pool unable to shut down, or reach a new worker before it ignores Ctrl-C (a forked worker inherits
    the holding handler). Only in the main thread, the only one where Python sets signal handlers, and when the
    current handler is Python's."""
    if threading.current_thread() is not threading.main_thread() or signal.getsignal(signal.SIGINT) is None:
        yield
        return
    held: list[int] = []
    previous = signal.signal(signal.SIGINT, lambda signum, frame: held.append(signum))
    try:
        yield
    finally:
        signal.signal(signal.SIGINT, previous)
        if held:
            os.kill(os.getpid(), signal.SIGINT)  # delivered again, to whatever handled it before
