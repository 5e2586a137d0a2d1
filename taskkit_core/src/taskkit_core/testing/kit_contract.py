"""Kit and worker threads: what an application sees, end to end."""

from __future__ import annotations

import json
import threading
import time
from dataclasses import replace
from datetime import datetime, timedelta
from typing import Any

import pytest

from ..backend import Backend, Outcome
from ..clock import local_tz, reset_cur_ts_impl, set_cur_ts_impl
from ..errors import CapabilityError, Failed, InvalidTaskError, NotFound, PayloadTooLarge
from ..kit import Kit
from ..result import ResultGetPrevented, ResultGetTimedOut
from ..scheduler import OnlyEarliest, RegularSchedule, ScheduleEntry, Scheduler
from ..task import MAX_PAYLOAD_BYTES, Task
from .support import RecordingHandler, make_task, task_args, wait_until

Start = Any


class KitContract:
    """Kit, Result, worker threads, services, control events and schedules."""

    # -- putting tasks in and getting results -------------------------------------------

    def test_a_task_runs_and_its_result_comes_back(self, kit: Kit, start_threads: Start) -> None:
        result = kit.initiate_task("g", "echo", {"x": [1, "two"]})
        start_threads()
        assert result.get(timeout=10) == {"x": [1, "two"]}
        assert kit.get_result(result.task_id).get(timeout=1) == {"x": [1, "two"]}

    def test_initiate_tasks_takes_dicts_tasks_and_eager_pairs(
        self, kit: Kit, handler: RecordingHandler, start_threads: Start
    ) -> None:
        queued_task = make_task(data="task")
        eager_task = make_task(data="eager")
        results = kit.initiate_tasks(
            {"group": "g", "name": "echo", "data": "dict"},
            queued_task,
            (eager_task, True),
        )
        assert [r.task_id for r in results][1:] == [queued_task.id, eager_task.id]
        assert handler.ran(eager_task.id), "the eager task runs inside initiate_tasks"
        start_threads()
        assert [r.get(timeout=10) for r in results] == ["dict", "task", "eager"]

    def test_eager_task_runs_inline_and_failures_do_not_retry(
        self, kit: Kit, handler: RecordingHandler
    ) -> None:
        result = kit.initiate_task("g", "echo", 5, eager=True)
        (execution,) = handler.ran(result.task_id)
        assert execution.thread == threading.get_ident()
        assert result.get(timeout=1) == 5
        failing = kit.initiate_task("g", "flaky", {"failures": 1}, eager=True)
        with pytest.raises(Failed, match="flaky failure"):
            failing.get(timeout=1)
        assert len(handler.ran(failing.task_id)) == 1

    def test_failed_task_reports_the_traceback(self, kit: Kit, start_threads: Start) -> None:
        result = kit.initiate_task("g", "fail", "bad input")
        start_threads()
        with pytest.raises(Failed) as info:
            result.get(timeout=10)
        assert "Traceback" in info.value.message
        assert "ValueError: failing on purpose: bad input" in info.value.message

    def test_retries_until_success(
        self, kit: Kit, handler: RecordingHandler, start_threads: Start
    ) -> None:
        result = kit.initiate_task("g", "flaky", {"failures": 2, "interval": 0.1})
        start_threads()
        assert result.get(timeout=15) == {"retry_count": 2}
        assert [e.retry_count for e in handler.ran(result.task_id)] == [0, 1, 2]

    def test_handlers_see_the_attempt_they_run(
        self, kit: Kit, handler: RecordingHandler, start_threads: Start
    ) -> None:
        result = kit.initiate_task("g", "flaky", {"failures": 1, "interval": 0})
        start_threads()
        result.get(timeout=15)
        assert [e.attempt for e in handler.ran(result.task_id)] == [1, 2]
        eager = kit.initiate_task("g", "echo", 1, eager=True)
        assert [e.attempt for e in handler.ran(eager.task_id)] == [None]

    def test_max_attempts_stops_a_poison_task(
        self, kit: Kit, handler: RecordingHandler, start_threads: Start
    ) -> None:
        kit.settings = replace(kit.settings, max_attempts=2)
        result = kit.initiate_task("g", "flaky", {"failures": 5, "interval": 0})
        start_threads()
        with pytest.raises(Failed, match="gave up after 2 attempts"):
            result.get(timeout=15)
        assert len(handler.ran(result.task_id)) == 2

    def test_discard_from_handle_deletes_the_task(
        self, kit: Kit, handler: RecordingHandler, start_threads: Start
    ) -> None:
        result = kit.initiate_task("g", "discard", None)
        start_threads()
        wait_until(lambda: handler.ran(result.task_id))
        wait_until(lambda: _gone(kit.backend, result.task_id))
        with pytest.raises(NotFound):
            result.get(timeout=1)

    def test_discard_from_get_retry_interval_deletes_the_task(
        self, kit: Kit, handler: RecordingHandler, start_threads: Start
    ) -> None:
        result = kit.initiate_task("g", "discard_on_retry", None)
        start_threads()
        wait_until(lambda: handler.ran(result.task_id))
        wait_until(lambda: _gone(kit.backend, result.task_id))

    def test_error_in_get_retry_interval_still_retries(
        self, kit: Kit, handler: RecordingHandler, start_threads: Start
    ) -> None:
        result = kit.initiate_task("g", "retry_raises", {"failures": 1})
        start_threads()
        assert result.get(timeout=15) == {"retry_count": 1}
        first, second = handler.ran(result.task_id)
        assert second.started - first.started >= 0.9  # retried after retry_count + 1 s

    def test_a_task_does_not_start_before_it_is_due(
        self, kit: Kit, handler: RecordingHandler, start_threads: Start
    ) -> None:
        due = datetime.now() + timedelta(seconds=1.5)
        result = kit.initiate_task("g", "echo", 1, due=due)
        start_threads()
        assert result.get(timeout=15) == 1
        (execution,) = handler.ran(result.task_id)
        assert execution.started >= due.timestamp() - 0.5

    def test_result_get_times_out(self, kit: Kit) -> None:
        result = kit.initiate_task("g", "echo", 1)
        start = time.monotonic()
        with pytest.raises(ResultGetTimedOut):
            result.get(timeout=0.3)
        assert time.monotonic() - start < 3

    def test_waiting_for_a_result_inside_a_task_is_prevented(
        self, kit: Kit, start_threads: Start
    ) -> None:
        prevented = kit.initiate_task("g", "wait_result", None)
        allowed = kit.initiate_task("g", "wait_result_allowed", None)
        start_threads()
        with pytest.raises(Failed, match="ResultGetPrevented"):
            prevented.get(timeout=10)
        assert allowed.get(timeout=10) == 1

    def test_result_get_outside_a_task_is_not_prevented(self, kit: Kit) -> None:
        result = kit.initiate_task("g", "echo", 3, eager=True)
        try:
            assert result.get(timeout=1) == 3
        except ResultGetPrevented:  # pragma: no cover - the failure this test looks for
            pytest.fail("Result.get was prevented outside any task")

    def test_results_disappear_after_their_ttl(self, kit: Kit, start_threads: Start) -> None:
        result = kit.initiate_task("g", "echo", 1, ttl=0.5)
        start_threads()
        assert result.get(timeout=10) == 1
        wait_until(lambda: _gone(kit.backend, result.task_id), timeout=15)

    def test_each_group_runs_on_its_own_threads(
        self, kit: Kit, handler: RecordingHandler, start_threads: Start
    ) -> None:
        results = [kit.initiate_task(group, "echo", group) for group in ("a", "b", "c")]
        runtime = start_threads({"a": 1, "b": 3, "c": 0}, polling_interval={"a": 0.1, "b": 0.2})
        assert [r.get(timeout=10) for r in results[:2]] == ["a", "b"]
        time.sleep(0.5)
        assert handler.ran(results[2].task_id) == [], "group c has no threads"
        assert sorted(runtime.pools) == ["a", "b"]

    def test_many_tasks_all_run_once(
        self, kit: Kit, handler: RecordingHandler, start_threads: Start
    ) -> None:
        results = kit.initiate_tasks(*task_args("echo", range(200)))
        start_threads({"g": 4})
        assert [r.get(timeout=30) for r in results] == list(range(200))
        ids = [e.task_id for e in handler.executions]
        assert sorted(ids) == sorted(r.task_id for r in results)

    # -- bad input ------------------------------------------------------------------------

    @pytest.mark.parametrize(
        "group",
        ["", "x" * 401, "nul\x00byte", 42],
    )
    def test_bad_group_names_are_refused_before_anything_is_written(
        self, kit: Kit, group: Any
    ) -> None:
        with pytest.raises(InvalidTaskError):
            kit.initiate_task(group, "echo", 1)
        assert kit.backend.group_stats(0) == []

    def test_a_payload_over_the_limit_is_refused(self, kit: Kit) -> None:
        too_big = "x" * MAX_PAYLOAD_BYTES
        with pytest.raises(PayloadTooLarge, match="10 MiB"):
            kit.initiate_tasks(
                {"group": "g", "name": "echo", "data": 1},
                {"group": "g", "name": "echo", "data": too_big},
            )
        assert kit.backend.group_stats(0) == [], "a refused batch writes nothing"

    def test_bad_ttl_is_refused(self, kit: Kit) -> None:
        for ttl in (0, -1, float("inf"), float("nan")):
            with pytest.raises(InvalidTaskError):
                kit.initiate_task("g", "echo", 1, ttl=ttl)

    def test_transactional_enqueue_needs_the_capability(self, kit: Kit) -> None:
        if kit.backend.capabilities.transactional_enqueue:
            pytest.skip("the backend has transactional_enqueue; its own tests cover it")
        with pytest.raises(CapabilityError, match="transactional_enqueue"):
            kit.initiate_task("g", "echo", 1, connection=object())

    # -- control events -----------------------------------------------------------------------

    def test_pause_and_resume(
        self, kit: Kit, handler: RecordingHandler, start_threads: Start
    ) -> None:
        runtime = start_threads({"g": 2, "h": 1})
        kit.send_pause_event({"g"})
        wait_until(lambda: runtime.pools["g"].paused)
        paused = kit.initiate_task("g", "echo", 1)
        other = kit.initiate_task("h", "echo", 2)
        assert other.get(timeout=10) == 2, "an unpaused group keeps working"
        time.sleep(0.6)
        assert handler.ran(paused.task_id) == []
        kit.send_resume_event()
        assert paused.get(timeout=10) == 1

    def test_shutdown_event_stops_the_workers(self, kit: Kit, start_threads: Start) -> None:
        runtime = start_threads({"g": 2})
        kit.send_shutdown_event()
        assert runtime.wait(timeout=15)

    def test_shutdown_of_one_group_leaves_the_others(
        self, kit: Kit, handler: RecordingHandler, start_threads: Start
    ) -> None:
        runtime = start_threads({"g": 1, "h": 1})
        kit.send_shutdown_event({"g"})
        wait_until(lambda: not runtime.pools["g"].claiming)
        stopped = kit.initiate_task("g", "echo", 1)
        working = kit.initiate_task("h", "echo", 2)
        assert working.get(timeout=10) == 2
        assert not runtime.stopped
        assert handler.ran(stopped.task_id) == []
        kit.send_shutdown_event({"h"})
        assert runtime.wait(timeout=15)

    def test_stop_lets_a_running_task_finish(
        self, kit: Kit, handler: RecordingHandler, start_threads: Start
    ) -> None:
        runtime = start_threads({"g": 1})
        result = kit.initiate_task("g", "sleep", 1.0)
        wait_until(lambda: handler.ran(result.task_id))
        assert runtime.stop(timeout=10) is True
        assert result.get(timeout=1) == 1.0
        assert runtime.worker_id not in dict(kit.backend.get_workers())

    # -- dead and stale workers ------------------------------------------------------------------

    def test_the_task_of_a_dead_worker_is_restored_and_finished(
        self, kit: Kit, start_threads: Start
    ) -> None:
        result = kit.initiate_task("g", "echo", "rescued")
        (claim,) = kit.backend.assign_tasks("g", "dead-worker", 1)  # a worker that then died
        start_threads({"g": 1})
        assert result.get(timeout=20) == "rescued"
        assert kit.backend.settle(Outcome.succeeded(claim, b'"late"')) == [False]
        assert result.get(timeout=1) == "rescued"

    def test_a_stale_workers_late_write_is_refused(self, kit: Kit, start_threads: Start) -> None:
        result = kit.initiate_task("g", "echo", "fresh")
        kit.backend.set_worker_ttl({"paused-worker"}, 0.5)
        (stale,) = kit.backend.assign_tasks("g", "paused-worker", 1)
        start_threads({"g": 1})
        assert result.get(timeout=20) == "fresh"
        assert kit.backend.settle(Outcome.succeeded(stale, b'"stale"')) == [False]
        assert kit.backend.settle(Outcome.failed(stale, "stale")) == [False]
        assert result.get(timeout=1) == "fresh"

    def test_without_helper_services_nothing_is_restored(
        self, kit: Kit, handler: RecordingHandler, start_threads: Start
    ) -> None:
        result = kit.initiate_task("g", "echo", 1)
        kit.backend.assign_tasks("g", "dead-worker", 1)
        start_threads({"g": 1}, helper_services=False)
        time.sleep(2.0)
        assert handler.ran(result.task_id) == []
        assert len(kit.backend.get_stage_info(10)) == 1

    # -- schedules --------------------------------------------------------------------------------

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

    def test_a_task_made_by_hand_keeps_its_fields(self, kit: Kit, start_threads: Start) -> None:
        task = Task.init("g", "echo", b'"hand made"', scheduled=123.0, ttl=60)
        (result,) = kit.initiate_tasks(task)
        start_threads()
        assert result.get(timeout=10) == "hand made"


def _gone(backend: Backend, task_id: str) -> bool:
    return backend.lookup_tasks(task_id)[task_id] is None
