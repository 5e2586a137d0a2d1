"""The scheduler: its state stored with its tasks (compare-and-set) and schedules that fire once."""

from __future__ import annotations

import json
from typing import Any

from ...backend import Backend
from ...clock import local_tz, reset_cur_ts_impl, set_cur_ts_impl
from ...kit import Kit
from ...scheduler import OnlyEarliest, RegularSchedule, ScheduleEntry, Scheduler
from ..support import (
    RecordingHandler,
    Start,
    make_task,
    wait_until,
)


class SchedulerStateContract:
    """persist_scheduler_state_and_put_tasks and get_scheduler_state."""

    def test_scheduler_state_is_stored_with_its_tasks(self, backend: Backend) -> None:
        assert backend.get_scheduler_state("s") is None
        task = make_task()
        assert backend.persist_scheduler_state_and_put_tasks("s", b"v1", task, expected=None)
        assert backend.get_scheduler_state("s") == b"v1"
        assert backend.lookup_tasks(task.id)[task.id] == task

    def test_scheduler_state_is_compare_and_set(self, backend: Backend) -> None:
        backend.persist_scheduler_state_and_put_tasks("s", b"v1", expected=None)
        loser = make_task()
        assert not backend.persist_scheduler_state_and_put_tasks("s", b"v2", loser, expected=None)
        assert not backend.persist_scheduler_state_and_put_tasks("s", b"v2", loser, expected=b"x")
        assert backend.lookup_tasks(loser.id)[loser.id] is None
        assert backend.persist_scheduler_state_and_put_tasks("s", b"v2", expected=b"v1")
        assert backend.get_scheduler_state("s") == b"v2"
        assert backend.get_scheduler_state("other") is None


class ScheduleContract:
    """Schedulers on the backend: each point once, catch-up after downtime, dict entries."""

    def test_scheduler_fires_each_point_once(self, kit: Kit, taskkit_open: Any) -> None:
        entries = [ScheduleEntry("every", RegularSchedule(seconds="*"), "g", "echo", b'"tick"')]
        first = Scheduler("sched", kit.backend, entries, local_tz())
        second = Scheduler("sched", taskkit_open().backend, entries, local_tz())
        base = 1_900_000_000.0
        try:
            set_cur_ts_impl(lambda: base + 1)
            assert first.schedule_due_points()
            assert second.schedule_due_points()  # nothing left to do at this point
            set_cur_ts_impl(lambda: base + 11)
            assert first.schedule_due_points()
        finally:
            reset_cur_ts_impl()
        queued = kit.backend.get_queued_tasks("g", 10)
        assert [t.scheduled for t in queued] == [base, base + 10]
        assert all(t.due == t.scheduled for t in queued)

    def test_scheduler_catches_up_once_after_downtime(self, kit: Kit) -> None:
        latest = ScheduleEntry("latest", RegularSchedule(seconds="*"), "g", "echo", b"1")
        earliest = ScheduleEntry(
            "earliest",
            RegularSchedule(seconds="*", duplication_policy=OnlyEarliest()),
            "h",
            "echo",
            b"1",
        )
        scheduler = Scheduler("s", kit.backend, [latest, earliest], local_tz())
        base = 1_900_000_000.0
        try:
            set_cur_ts_impl(lambda: base)
            scheduler.schedule_due_points()
            set_cur_ts_impl(lambda: base + 60)  # twelve points missed
            scheduler.schedule_due_points()
        finally:
            reset_cur_ts_impl()
        assert [t.scheduled for t in kit.backend.get_queued_tasks("g", 10)] == [base, base + 60]
        assert [t.scheduled for t in kit.backend.get_queued_tasks("h", 10)] == [base, base + 5]

    def test_schedule_entries_given_as_dicts_run_their_tasks(
        self, kit: Kit, handler: RecordingHandler, start_threads: Start
    ) -> None:
        entry = {
            "key": "tick",
            "schedule": RegularSchedule(seconds="*"),
            "group": "g",
            "name": "echo",
            "data": {"scheduled": True},
        }
        start_threads({"g": 1}, schedule_entries={"main": [entry]})
        wait_until(lambda: handler.executions, timeout=15)
        (task,) = kit.backend.lookup_tasks(handler.executions[0].task_id).values()
        assert task is not None and task.scheduled is not None
        assert json.loads(task.data) == {"scheduled": True}
