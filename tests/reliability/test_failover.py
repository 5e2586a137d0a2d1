"""R8: the restorer and the scheduler survive the loss or the pause of any process.

They take no lock (README promise 12): every worker process runs both, and
their writes are atomic and fenced (a restore re-checks the lease in the
step that requeues; a scheduler stores its state by compare-and-set). So
there is no holder to fail over from: killing or pausing one process must
not delay restoration or scheduling, and a paused process must not apply,
once resumed, anything it decided before its pause.
"""

from __future__ import annotations

import itertools
import json
import os
import signal
import time
from collections import Counter
from collections.abc import Callable
from typing import Any, cast

from harness.history import read_history
from taskkit_core.clock import local_tz, reset_cur_ts_impl, set_cur_ts_impl
from taskkit_core.scheduler import SCHEDULE_POINT_INTERVAL, Scheduler
from taskkit_core.testing import OpenConnection, wait_until

from taskkit_core import Backend, RegularSchedule, ScheduleEntry, Task, TaskkitProcess

from .conftest import SLACK, TTL, P, R, Workload, need_processes, stop_outside_writes

TICK = float(SCHEDULE_POINT_INTERVAL)
RESTART_BOUND = TTL + R + P + SLACK
"""A task staged to a process that died (or stopped) at t is claimed again by t + this."""

TICKS = {"main": [ScheduleEntry("tick", RegularSchedule(seconds="*"), "tick", "work", b"{}")]}
"""One task every grid point, in a group no worker takes, so each point stays visible."""


def _start_three(workload: Workload) -> list[TaskkitProcess]:
    """Three worker processes, each running the restorer and the scheduler."""
    processes = workload.start(3, 2, schedule_entries=TICKS)

    def registered() -> bool:
        workers = [w for w, _ in workload.kit.backend.get_leases()]
        return all(any(f":{p.pid}:" in w for w in workers) for p in processes)

    wait_until(registered, 60)
    return processes


def _starts(workload: Workload) -> list[dict[str, Any]]:
    return [r for r in read_history(workload.history_dir, "exec") if r["event"] == "start"]


def _holder(
    workload: Workload, processes: list[TaskkitProcess], task_id: str
) -> tuple[int, list[str]]:
    """The pid of the process running ``task_id``, once every task it holds has started."""

    def started() -> dict[str, int]:
        return {r["task_id"]: r["pid"] for r in _starts(workload)}

    pid = wait_until(lambda: started().get(task_id), 60)
    (holder,) = [p for p in processes if p.pid == pid]
    held = workload.held_by(holder)
    wait_until(lambda: all(started().get(t) == pid for t in held), 30)
    return pid, held


def _restart_delays(workload: Workload, held: list[str], pid: int, since: float) -> list[float]:
    """For each held task, how long after ``since`` another process claimed it again.

    The bound is on the claim (the promise); the handler starts a moment
    later, more on a loaded machine.
    """
    delays = []
    for task_id in held:
        again = [
            float(r["claimed"] or r["at"])
            for r in _starts(workload)
            if r["task_id"] == task_id and r["pid"] != pid and r["at"] > since
        ]
        if not again:
            return []
        delays.append(min(again) - since)
    return delays


def _assert_run_again_in_bound(workload: Workload, held: list[str], pid: int, since: float) -> None:
    delays = wait_until(lambda: _restart_delays(workload, held, pid, since), 60)
    assert max(delays) <= RESTART_BOUND, (delays, RESTART_BOUND)


def _points(workload: Workload) -> list[float]:
    """The fire time of every scheduled task, one entry per task."""
    tasks = workload.kit.backend.get_queued_tasks("tick", 10_000)
    return [t.scheduled for t in tasks if t.scheduled is not None]


def _assert_each_point_once_and_none_missed(points: list[float]) -> None:
    duplicates = {p: n for p, n in Counter(points).items() if n > 1}
    assert not duplicates, f"points fired more than once: {duplicates}"
    ordered = sorted(points)
    gaps = [b - a for a, b in itertools.pairwise(ordered) if b - a != TICK]
    assert not gaps, f"points missed: {ordered}"


def _assert_each_attempt_ran_once(workload: Workload) -> None:
    attempts = Counter((r["task_id"], r["attempt"]) for r in _starts(workload))
    twice = [key for key, n in attempts.items() if n > 1]
    assert not twice, f"one attempt ran on two workers: {twice}"


def test_r8_sigkilled_processes_delay_neither_restores_nor_schedules(workload: Workload) -> None:
    """Two of the three processes die, one after the other; the last one carries on alone."""
    need_processes(workload)
    processes = _start_three(workload)
    wait_until(lambda: _points(workload), 30)
    every: list[str] = []
    killed = 0
    killed_at = 0.0
    for first in (0, 2):
        ids = workload.enqueue(2, start=first, sleep=3.0)
        every += ids
        victim, held = _holder(workload, processes, ids[0])
        os.kill(victim, signal.SIGKILL)
        killed_at = time.time()
        killed += len(held)
        _assert_run_again_in_bound(workload, held, victim, killed_at)
        workload.drain(every, timeout=60)  # the survivors are idle again
    wait_until(lambda: len([p for p in _points(workload) if p > killed_at]) >= 2, 4 * TICK)
    _assert_each_point_once_and_none_missed(_points(workload))

    report = workload.check(every)
    report.assert_clean(max_duplicated=killed)
    _assert_each_attempt_ran_once(workload)


def test_r8_a_resumed_process_applies_nothing_it_decided_before_its_pause(
    workload: Workload,
) -> None:
    """One process stops for 2 x TTL mid-task; once resumed, its settles are all refused."""
    need_processes(workload)
    processes = _start_three(workload)
    ids = workload.enqueue(2, sleep=4.0)
    paused, held = _holder(workload, processes, ids[0])
    wait_until(lambda: _points(workload), 30)
    stop_outside_writes(workload, paused)
    stopped_at = time.time()
    try:
        _assert_run_again_in_bound(workload, held, paused, stopped_at)
        time.sleep(max(0.0, stopped_at + 2 * TTL - time.time()))  # the pause lasts 2 x TTL
    finally:
        os.kill(paused, signal.SIGCONT)
    resumed_at = time.time()

    marker = f":{paused}:"

    def stale_settles() -> list[dict[str, Any]]:
        records = read_history(workload.history_dir, "settle")
        found = [r for r in records if marker in r["worker"] and r["task_id"] in held]
        return found if len(found) >= len(held) else []

    settles = wait_until(stale_settles, 30)  # its handlers return and try to settle
    assert not [r for r in settles if r["accepted"]], f"stale settles accepted: {settles}"
    wait_until(lambda: len([p for p in _points(workload) if p > resumed_at]) >= 2, 4 * TICK)
    _assert_each_point_once_and_none_missed(_points(workload))

    workload.drain(ids, timeout=60)
    report = workload.check(ids)
    report.assert_clean(max_duplicated=len(held))
    _assert_each_attempt_ran_once(workload)
    for task_id in held:
        _, encoded = workload.kit.backend.get_result(task_id)
        assert json.loads(encoded)["pid"] != paused, "the paused process's result was kept"


class _PausesAfterReading:
    """The backend as a scheduler sees it, with a pause between its read and its write."""

    def __init__(self, backend: Backend) -> None:
        self.backend = backend
        self.during_pause: list[Callable[[], object]] = []
        self.refused: list[Task] = []

    def get_scheduler_state(self, name: str) -> bytes | None:
        state = self.backend.get_scheduler_state(name)
        if self.during_pause:
            self.during_pause.pop(0)()
        return state

    def persist_scheduler_state_and_put_tasks(
        self, name: str, data: bytes, *tasks: Task, expected: bytes | None = None
    ) -> bool:
        stored = self.backend.persist_scheduler_state_and_put_tasks(
            name, data, *tasks, expected=expected
        )
        if not stored:
            self.refused += tasks
        return stored


def test_r8_a_scheduler_paused_between_read_and_write_stores_nothing(
    workload: Workload, taskkit_open: OpenConnection
) -> None:
    """Another scheduler runs while the first is paused; the first one's stale step is refused."""
    entries = TICKS["main"]
    live = Scheduler("main", taskkit_open().backend, entries, local_tz())
    view = _PausesAfterReading(workload.kit.backend)
    stale = Scheduler("main", cast(Backend, view), entries, local_tz())
    base = 1_900_000_000.0  # a grid point
    now = [base + 1]
    set_cur_ts_impl(lambda: now[0])
    try:
        view.during_pause.append(live.schedule_due_points)
        assert not stale.schedule_due_points(), "no state yet when it read; stored meanwhile"
        now[0] = base + 11
        view.during_pause.append(live.schedule_due_points)
        assert not stale.schedule_due_points(), "a state older than the stored one"
        now[0] = base + 16
        assert stale.schedule_due_points(), "a fresh read is not stale"
    finally:
        reset_cur_ts_impl()
    assert [t.scheduled for t in view.refused] == [base, base + 10]
    points = _points(workload)
    assert sorted(points) == [base, base + 10, base + 15]
    stored = {t.id for t in workload.kit.backend.get_queued_tasks("tick", 100)}
    assert not stored & {t.id for t in view.refused}, "a refused task was stored"
