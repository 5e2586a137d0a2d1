"""R19 result lifetime, R24 schedules fire once per point, R26 idempotent puts, R29 fork."""

from __future__ import annotations

import json
import os
import signal
import threading
import time
from collections import Counter
from dataclasses import replace

from taskkit_core.testing import wait_until

from taskkit_core import Backend, InitiateTaskArgs, NotFound, RegularSchedule, ScheduleEntry, Task

from .conftest import SLACK, Workload, need_processes


def test_r19_results_live_for_their_ttl_then_disappear(workload: Workload) -> None:
    ttl, sweep = 4.0, 0.5
    workload.kit.settings = replace(workload.kit.settings, discard_interval=sweep)
    items: list[InitiateTaskArgs] = [
        {"group": "r", "name": "work", "data": {"seq": i}, "ttl": ttl} for i in range(20)
    ]
    results = workload.kit.initiate_tasks(*items)
    workload.start(1, 4)
    for result in results:
        result.get(timeout=30)
    finished = time.monotonic()
    backend = workload.kit.backend
    time.sleep(ttl * 0.25)  # the earliest result finished a little before `finished`
    assert all(backend.get_result(r.task_id) for r in results), "readable within the ttl"

    def all_gone() -> bool:
        return all(_gone(backend, r.task_id) for r in results)

    wait_until(all_gone, timeout=ttl + sweep + SLACK + 5)
    assert time.monotonic() - finished <= ttl + sweep + SLACK + 5


def _gone(backend: Backend, task_id: str) -> bool:
    try:
        backend.get_result(task_id)
    except NotFound:
        return True
    return False


def test_r24_each_schedule_point_fires_once_across_schedulers(workload: Workload) -> None:
    need_processes(workload)
    entry = ScheduleEntry(
        "tick", RegularSchedule(seconds="*"), "r", "work", json.dumps({"seq": -1}).encode()
    )
    schedules = {"main": [entry]}
    first = workload.start(3, 1, schedule_entries=schedules)
    time.sleep(6)
    victim = first[0]
    assert victim.pid is not None
    os.kill(victim.pid, signal.SIGKILL)  # a scheduler dies mid-run
    time.sleep(6)
    for process in first[1:]:
        assert process.pid is not None
        os.kill(process.pid, signal.SIGTERM)
        process.join(15)
    stopped = time.time()
    time.sleep(11)  # two grid points pass with no scheduler at all
    restarted = time.time()
    workload.start(2, 1, schedule_entries=schedules)
    time.sleep(6)
    points = _scheduled_points(workload)
    duplicates = {p: n for p, n in Counter(points).items() if n > 1}
    assert not duplicates, f"points fired more than once: {duplicates}"
    assert len(points) >= 3
    gap = [p for p in points if stopped + 5 < p < restarted - 5]
    assert gap == [], "missed points are not fired again one by one (OnlyLatest)"


def _scheduled_points(workload: Workload) -> list[float]:
    backend = workload.kit.backend
    ids = backend.get_done_task_ids(None, None, 10_000)
    ids += [t.id for t in backend.get_queued_tasks("r", 10_000)]
    ids += [i.task_id for i in backend.get_stage_info(10_000)]
    tasks = backend.lookup_tasks(*ids).values()
    return [t.scheduled for t in tasks if t is not None and t.scheduled is not None]


def test_r26_putting_one_task_from_sixteen_threads_makes_one_task(workload: Workload) -> None:
    task = Task.init("r", "work", json.dumps({"seq": 7}).encode())
    errors: list[BaseException] = []

    def put() -> None:
        try:
            workload.kit.initiate_tasks(task)
        except BaseException as exc:
            errors.append(exc)

    threads = [threading.Thread(target=put) for _ in range(16)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(30)
    assert errors == []
    assert [t.id for t in workload.kit.backend.get_queued_tasks("r", 100)] == [task.id]
    workload.start(1, 4)
    workload.drain([task.id])
    report = workload.check([task.id])
    report.assert_clean()
    assert report.executions_per_task == {1: 1}


def test_r29_workers_started_from_a_busy_parent_start_clean(workload: Workload) -> None:
    """The launcher never plain-forks a parent that has threads and open connections.

    A forked child can inherit a lock that a parent thread held (SQLite's own
    mutexes hang it); the default start method forks from a clean server.
    """
    need_processes(workload)
    ids = workload.enqueue(200)
    in_process = workload.kit.start_threads({"other": 2})  # threads and connections in the parent
    try:
        started = workload.start(2, 2)
        assert {p.start_method for p in started} == {"spawn"}
        workload.drain(ids, timeout=60)
    finally:
        in_process.stop(timeout=10)
    report = workload.check(ids)
    report.assert_clean()
    assert report.done == 200
