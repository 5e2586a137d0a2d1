"""R2 claim race, R9 long tasks under GIL pressure, R16 clock skew, R25 ordering, R28 pools."""

from __future__ import annotations

import os
import signal
import threading
import time
from dataclasses import replace
from pathlib import Path

import libfaketime
import pytest
from harness.history import read_history
from harness.supervised import start_supervisor

from taskkit_core import InitiateTaskArgs, Kit, WorkerSettings

from .conftest import TTL, P, Workload, need_processes, wait_until


def test_r2_sixteen_workers_claim_each_task_once(workload: Workload) -> None:
    need_processes(workload)
    ids = workload.enqueue(3000)
    more: list[str] = []
    adder = threading.Thread(target=lambda: more.extend(workload.enqueue(1000, start=3000)))
    started = time.monotonic()
    workload.start(4, 4)
    adder.start()
    adder.join(60)
    workload.drain([*ids, *more], timeout=120)
    assert time.monotonic() - started < 120
    report = workload.check([*ids, *more])
    report.assert_clean()
    assert report.executions_per_task == {1: 4000}
    starts = [r for r in read_history(workload.history_dir, "exec") if r["event"] == "start"]
    assert {r["attempt"] for r in starts} == {1}, "every task was claimed exactly once"


@pytest.mark.parametrize("mode", ["sleep", "busy", "gil"])
def test_r9_long_tasks_are_not_restored_while_their_worker_lives(
    workload: Workload, mode: str
) -> None:
    ttl, tasks_last = TTL, 3 * TTL
    if mode == "gil":
        # A C call holding the GIL delays each GIL hand-off of the heartbeat by a
        # slice, so its stalls add up to seconds: this case runs with a worker_ttl
        # of 10 s, the default (README, promise 5), and tasks that outlive it.
        ttl = WorkerSettings().worker_ttl
        tasks_last = 1.5 * ttl
        workload.kit.settings = replace(workload.kit.settings, worker_ttl=ttl)
    ids = workload.enqueue(2, sleep=tasks_last, mode=mode)
    workload.start(1, 2)
    workload.start(1, 2)  # an idle second worker that would take over a restored task
    workload.drain(ids, timeout=tasks_last + 30)
    report = workload.check(ids)
    report.assert_clean()
    assert report.executions_per_task == {1: 2}, "no restore, no duplicate"


def test_r9_a_supervised_worker_keeps_its_lease_while_a_task_holds_the_gil(
    workload: Workload, taskkit_namespace: str
) -> None:
    """One C call keeps the GIL for 5 s (longer than the 3 s TTL): the worker process's
    own heartbeat cannot run, but its supervisor renews the lease (``lease_keeper``)."""
    need_processes(workload)
    kit = workload.kit
    (task_id,) = workload.enqueue(1, sleep=5, mode="hold_gil")
    supervisor = start_supervisor(
        kit.backend.url, taskkit_namespace, workload.history_dir, kit.settings
    )
    try:
        wait_until(lambda: _started(workload), timeout=30)
        workload.start(1, 2)  # an idle second worker that would take over a restored task
        workload.drain([task_id], timeout=40)
    finally:
        if supervisor.pid is not None:
            os.kill(supervisor.pid, signal.SIGTERM)
        supervisor.join(30)
    report = workload.check([task_id])
    report.assert_clean()
    assert report.executions_per_task == {1: 1}, "no restore, no duplicate"
    assert supervisor.exitcode == 0


def _started(workload: Workload) -> bool:
    return any(r["event"] == "start" for r in read_history(workload.history_dir, "exec"))


def test_r25_one_thread_runs_tasks_in_due_order(workload: Workload) -> None:
    now = time.time()
    items: list[InitiateTaskArgs] = [
        {"group": "r", "name": "work", "data": {"seq": i}, "due": now - 100 + (i * 7) % 100}
        for i in range(100)
    ]
    results = workload.kit.initiate_tasks(*items)
    ids = [r.task_id for r in results]
    workload.start(1, 1)
    workload.drain(ids, timeout=60)
    workload.check(ids).assert_clean()
    starts = [r for r in read_history(workload.history_dir, "exec") if r["event"] == "start"]
    order = [r["seq"] for r in sorted(starts, key=lambda r: r["at"])]
    assert order == sorted(range(100), key=lambda i: (i * 7) % 100)


def faketime_env(skew: str) -> dict[str, str]:
    """Environment that makes a worker process's wall clock run ``skew`` off."""
    library = Path(libfaketime.__file__).parent / "vendor/libfaketime/src/libfaketime.so.1"
    return {
        "LD_PRELOAD": str(library),
        "FAKETIME": skew,
        "FAKETIME_DONT_FAKE_MONOTONIC": "1",  # timeouts of threads keep working
    }


def test_r16_skewed_worker_clocks_cause_no_false_restores(workload: Workload) -> None:
    need_processes(workload)
    if not workload.kit.backend.capabilities.server_clock:
        pytest.skip(
            "the backend uses the host clock (capability server_clock): one host, one "
            "clock; README.md says so"
        )
    ids = workload.enqueue(60, sleep=0.3)
    for skew in ("+120s", "-120s", "+0s"):
        workload.start(1, 2, env=faketime_env(skew))
    workload.drain(ids, timeout=90)
    report = workload.check(ids)
    report.assert_clean()
    assert report.executions_per_task == {1: 60}, "no healthy worker was restored"
    now = time.time()
    for worker, expires in workload.kit.backend.get_leases():
        assert now - 5 <= expires <= now + TTL + 5, f"{worker}'s lease is on its own clock"


POOL_OPTIONS = {
    "sqlite": {"pool_size": 4, "max_overflow": 0, "pool_timeout": 5},
    "postgresql": {"pool_size": 4, "max_overflow": 0, "pool_timeout": 5},
    "mysql": {"pool_size": 4, "max_overflow": 0, "pool_timeout": 5},
    "redis": {"max_connections": 4},
}


def test_r28_thirty_two_threads_share_a_pool_of_four(
    workload: Workload, taskkit_url: str, taskkit_namespace: str
) -> None:
    need_processes(workload)
    options = POOL_OPTIONS[taskkit_url.split(":", 1)[0]]
    small = Kit.from_url(
        taskkit_url,
        workload.kit.handler,
        settings=workload.kit.settings,
        namespace=taskkit_namespace,
        **options,
    )
    try:
        ids = workload.enqueue(600, sleep=0.005)
        workload.processes += small.start_processes(1, {"r": 32}, polling_interval=P)
        workload.drain(ids, timeout=90)
    finally:
        small.close()
    report = workload.check(ids)
    report.assert_clean()
    assert report.done == 600
