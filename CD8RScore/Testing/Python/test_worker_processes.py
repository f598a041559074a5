"""The worker processes of ``score --perturbations``: one per available core, the modules their tasks need already
loaded, Ctrl-C left to the scoring process, and a Ctrl-C that arrives while the pool starts acted on after it."""
from __future__ import annotations

import os
import signal
import sys
import time

import pytest

from CD8RScoreLib.perturbation import WORKER_MODULES
from CD8RScoreLib.worker_processes import _interrupts_held, available_cores, worker_pool


def modules_loaded(names: tuple[str, ...]) -> list[bool]:
    return [name in sys.modules for name in names]


def test_pool_has_one_worker_per_core_that_ignores_ctrl_c_with_the_task_modules_loaded():
    with worker_pool(WORKER_MODULES) as pool:
        if available_cores() < 2:
            assert pool is None  # on one core the perturbations run in the scoring process
            return
        pids = {pool.submit(os.getpid).result() for _ in range(8)}
        assert os.getpid() not in pids and len(pids) <= available_cores()
        assert pool.submit(signal.getsignal, signal.SIGINT).result() == signal.SIG_IGN
        assert all(pool.submit(modules_loaded, WORKER_MODULES).result())


def test_ctrl_c_while_the_pool_starts_is_acted_on_once_it_has_started():
    finished = []
    with pytest.raises(KeyboardInterrupt):
        with _interrupts_held():
            os.kill(os.getpid(), signal.SIGINT)  # Ctrl-C in the middle of the start
            time.sleep(0.05)
            finished.append("start")
    assert finished == ["start"]
