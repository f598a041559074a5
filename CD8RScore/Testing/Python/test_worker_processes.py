"""The worker processes of ``score --perturbations``: one per available core, the modules their tasks need already
loaded, Ctrl-C left to the scoring process, a Ctrl-C that arrives while the pool starts acted on after it, and no
worker left behind when the scoring process is killed."""
from __future__ import annotations

import multiprocessing
import os
import signal
import subprocess
import sys
import textwrap
import time

import pytest

from CD8RScoreLib.worker_processes import _interrupts_held, available_cores, worker_pool

# a standard module nothing else here imports: loaded in the workers only because the pool loads it first
UNUSED_MODULE = "tabnanny"


def modules_loaded(names: tuple[str, ...]) -> list[bool]:
    return [name in sys.modules for name in names]


def test_pool_has_one_worker_per_core_that_ignores_ctrl_c_with_the_task_modules_loaded():
    assert UNUSED_MODULE not in sys.modules
    with worker_pool((UNUSED_MODULE,)) as pool:
        if available_cores() < 2:
            assert pool is None  # on one core the perturbations run in the scoring process
            return
        pids = {pool.submit(os.getpid).result() for _ in range(8)}
        assert pids <= {worker.pid for worker in multiprocessing.active_children()}
        assert pool.submit(signal.getsignal, signal.SIGINT).result() == signal.SIG_IGN
        assert pool.submit(modules_loaded, (UNUSED_MODULE,)).result() == [True]


def test_ctrl_c_while_the_pool_starts_is_acted_on_once_it_has_started():
    finished = []
    with pytest.raises(KeyboardInterrupt):
        with _interrupts_held():
            os.kill(os.getpid(), signal.SIGINT)  # Ctrl-C in the middle of the start
            time.sleep(0.05)
            finished.append("start")
    assert finished == ["start"]


def test_ctrl_c_held_while_ignored_stays_ignored():
    previous = signal.signal(signal.SIGINT, signal.SIG_IGN)  # e.g. a run in the background of a shell
    try:
        with _interrupts_held():
            os.kill(os.getpid(), signal.SIGINT)
            time.sleep(0.05)
        time.sleep(0.05)
        assert signal.getsignal(signal.SIGINT) == signal.SIG_IGN
    finally:
        signal.signal(signal.SIGINT, previous)


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="workers end with their parent on Linux only")
def test_workers_end_when_the_scoring_process_is_killed():
    script = textwrap.dedent("""
        import os, signal, sys
        import CD8RScoreLib.worker_processes as worker_processes
        worker_processes.available_cores = lambda: 2
        with worker_processes.worker_pool() as pool:
            pids = {pool.submit(os.getpid).result() for _ in range(6)}
            print(" ".join(str(pid) for pid in sorted(pids)), flush=True)
            os.kill(os.getpid(), signal.SIGKILL)  # killed: no shutdown of the pool runs
    """)
    process = subprocess.Popen([sys.executable, "-c", script], stdout=subprocess.PIPE, text=True)
    workers = [int(pid) for pid in process.stdout.readline().split()]  # a worker left behind would hold the pipe
    assert process.wait(timeout=60) == -signal.SIGKILL
    process.stdout.close()
    assert workers
    deadline = time.monotonic() + 10.0
    while any(_alive(pid) for pid in workers) and time.monotonic() < deadline:
        time.sleep(0.05)
    assert not any(_alive(pid) for pid in workers)


def _alive(pid: int) -> bool:
    """Whether process ``pid`` exists and is not a zombie."""
    try:
        with open(f"/proc/{pid}/stat") as handle:
            return handle.read().rsplit(")", 1)[1].split()[0] != "Z"
    except FileNotFoundError:
        return False
