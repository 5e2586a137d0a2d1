"""Sentinel failovers: the workers follow the new primary, and no task is left stuck (R15).

A private primary, replica and three Sentinels (``sentinel_group``); one
worker process with four threads opens the group's ``redis+sentinel://``
URL while the test puts a task every few milliseconds. Two failovers
follow: ``SENTINEL FAILOVER`` (the Sentinels promote the replica and turn
the old primary into its replica), then a SIGKILL of the new primary (the
Sentinels agree that it is down and promote the other node).

Replication is asynchronous, so a failover may lose writes the old primary
acknowledged (the README's "Durability" section): a put, a claim or an
outcome. What must hold, as in R15: every task whose put returned is
finished, or gone because its put was acknowledged around a failover;
none is left queued or staged; and the same worker process goes on on the
new primary, its wake-ups (the polling interval here is 30 s, so only a
wake-up starts a task at once) and its control events (a shutdown event
stops it) included.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from pathlib import Path

import pytest
from harness.app import ReliabilityHandler
from harness.checker import Report, check
from harness.redis_topologies import SentinelGroup
from taskkit_core.settings import WorkerSettings
from taskkit_core.testing import wait_until
from taskkit_redis.sentinels import RECHECK

from taskkit_core import Kit

from .test_urls import assert_no_secret

CANARY = "Pw/SEN#TINEL@7f:%"
POLLING = 30.0
LAG = RECHECK + 1.0
"""Puts acknowledged up to this long after the Sentinels named the new primary may be lost."""
PROBE_BOUND = 10.0
"""A task put while the worker idles starts within this (far below POLLING): a wake-up."""
SETTINGS = WorkerSettings(
    worker_ttl=3.0,
    heartbeat_interval=1.0,
    restore_interval=1.0,
    purge_interval=5.0,
    forgotten_claim_interval=2.0,  # 60 s by default: a lost outcome would keep a task 2 min
    shutdown_timeout=5.0,
    event_wait=0.2,
)


class Putter(threading.Thread):
    """Puts one short task per call, retrying through errors, until stopped."""

    def __init__(self, kit: Kit) -> None:
        super().__init__(daemon=True)
        self.kit = kit
        self.acked: list[tuple[str, float]] = []
        self.errors = 0
        self.running = threading.Event()
        self.running.set()
        self.done = False

    def run(self) -> None:
        seq = 0
        while not self.done:
            if not self.running.wait(0.1):
                continue
            try:
                result = self.kit.initiate_task("r", "work", {"seq": seq, "sleep": 0.01})
            except Exception:  # the primary is gone for a moment
                self.errors += 1
                time.sleep(0.05)
                continue
            self.acked.append((result.task_id, time.time()))
            seq += 1
            time.sleep(0.005)

    def ids(self) -> list[str]:
        return [task_id for task_id, _ in self.acked]

    def stop(self) -> None:
        self.done = True
        if self.is_alive():
            self.join(10)


def _probe(kit: Kit) -> float:
    """Seconds from the put of one task to its result, on an idle worker."""
    time.sleep(1.0)  # the claimer has found the queue empty and waits
    began = time.monotonic()
    result = kit.initiate_task("r", "work", {"seq": -1})
    result.get(timeout=POLLING * 2)
    return time.monotonic() - began


@pytest.mark.slow
def test_workers_follow_sentinel_failovers_and_leave_no_task_stuck(
    sentinel_group: Callable[..., SentinelGroup],
    tmp_path: Path,
    caplog: pytest.LogCaptureFixture,
) -> None:
    caplog.set_level(logging.DEBUG)
    run = Run(sentinel_group(password=CANARY), tmp_path / "history")
    try:
        (worker,) = run.kit.start_processes(1, {"r": 4}, polling_interval=POLLING)
        run.putter.start()
        for kill in (False, True):
            run.fail_over(kill)
        run.putter.stop()
        report = run.settled()
        lost = _lost(run.kit, run.putter.ids())
        assert worker.is_alive(), "the worker went on through both failovers"
        run.kit.send_shutdown_event()
        worker.join(30)
        run.mark("worker stopped")
        assert worker.exitcode == 0, "the shutdown event reached the worker and it drained"
        shown = repr(run.kit.backend) + repr(run.kit.bridge)
    finally:
        run.putter.stop()
        run.kit.close()

    print(f"seconds {run.marks}; put errors {run.putter.errors}; {report.summary()}")
    assert report.stuck == 0, report.summary()
    assert report.done > 0
    lost_at = [at for task_id, at in run.putter.acked if task_id in lost]
    windows = [(began - 1, switched + LAG) for began, switched in run.failovers]
    near_a_failover = [at for at in lost_at if any(low <= at <= high for low, high in windows)]
    assert lost_at == near_a_failover, f"only puts acked around a failover are lost: {windows}"
    assert_no_secret(caplog.text + shown, CANARY)


class Run:
    """The Kit of the test process on the group's URL, its putter, and what was measured."""

    def __init__(self, group: SentinelGroup, history: Path) -> None:
        self.group = group
        self.history = history
        self.kit = Kit.from_url(
            group.url, ReliabilityHandler(history), settings=SETTINGS, namespace="tks_failover"
        )
        self.putter = Putter(self.kit)
        self.failovers: list[tuple[float, float]] = []
        """(began, the Sentinels named the new primary), wall clock."""
        self.started = time.monotonic()
        self.marks: dict[str, float] = {}

    def mark(self, name: str) -> None:
        self.marks[name] = round(time.monotonic() - self.started, 2)

    def fail_over(self, kill: bool) -> None:
        """One failover while tasks flow; then nothing stuck, and a wake-up reaches the worker."""
        number = len(self.failovers) + 1
        wait_until(lambda: len(self.putter.acked) >= 100 * number, timeout=60)
        self.mark(f"failover {number}")
        began = time.time()
        self.group.failover(kill=kill)
        self.failovers.append((began, time.time()))
        self.group.wait_replicated()
        self.mark(f"replicated {number}")
        time.sleep(2.0)  # tasks keep flowing on the new primary
        self.putter.running.clear()
        report = self.settled()
        self.mark(f"settled {number}")
        assert report.stuck == 0, report.summary()
        took = _probe(self.kit)
        self.marks[f"probe {number}"] = round(took, 3)
        assert took < PROBE_BOUND, "wake-ups come from the new primary"
        self.putter.running.set()

    def settled(self) -> Report:
        """The checker's report once nothing is queued or staged any more (or after 60 s)."""
        deadline = time.monotonic() + 60
        while True:
            report = check(self.kit.backend, self.putter.ids(), self.history)
            if report.stuck == 0 or time.monotonic() > deadline:
                return report
            time.sleep(0.5)


def _lost(kit: Kit, task_ids: list[str]) -> set[str]:
    found = kit.backend.lookup_tasks(*task_ids)
    return {task_id for task_id, task in found.items() if task is None}
