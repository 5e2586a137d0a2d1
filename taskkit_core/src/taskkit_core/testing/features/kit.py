"""What an application sees through a Kit: tasks in, handlers run, results out."""

from __future__ import annotations

import threading
import time
from dataclasses import replace
from datetime import datetime, timedelta
from typing import Any

import pytest

from ...errors import CapabilityError, Failed, InvalidTaskError, NotFound, PayloadTooLarge
from ...kit import Kit
from ...task import MAX_PAYLOAD_BYTES, Task
from ..requirements import lacking
from ..support import (
    RecordingHandler,
    Start,
    gone,
    make_task,
    task_args,
    wait_until,
)


class TaskRunContract:
    """Kit and worker threads end to end: running, retries, discards, eager mode, bad input."""

    # -- putting tasks in and getting results ----------------------------------

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

    def test_a_task_made_by_hand_keeps_its_fields(self, kit: Kit, start_threads: Start) -> None:
        task = Task.init("g", "echo", b'"hand made"', scheduled=123.0, ttl=60)
        (result,) = kit.initiate_tasks(task)
        start_threads()
        assert result.get(timeout=10) == "hand made"

    # -- retries and discards --------------------------------------------------

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
        wait_until(lambda: gone(kit.backend, result.task_id))
        with pytest.raises(NotFound):
            result.get(timeout=1)

    def test_discard_from_get_retry_interval_deletes_the_task(
        self, kit: Kit, handler: RecordingHandler, start_threads: Start
    ) -> None:
        result = kit.initiate_task("g", "discard_on_retry", None)
        start_threads()
        wait_until(lambda: handler.ran(result.task_id))
        wait_until(lambda: gone(kit.backend, result.task_id))

    def test_error_in_get_retry_interval_still_retries(
        self, kit: Kit, handler: RecordingHandler, start_threads: Start
    ) -> None:
        result = kit.initiate_task("g", "retry_raises", {"failures": 1})
        start_threads()
        assert result.get(timeout=15) == {"retry_count": 1}
        first, second = handler.ran(result.task_id)
        assert second.started - first.started >= 0.9  # retried after retry_count + 1 s

    # -- worker threads --------------------------------------------------------

    def test_a_task_does_not_start_before_it_is_due(
        self, kit: Kit, handler: RecordingHandler, start_threads: Start
    ) -> None:
        due = datetime.now() + timedelta(seconds=1.5)
        result = kit.initiate_task("g", "echo", 1, due=due)
        start_threads()
        assert result.get(timeout=15) == 1
        (execution,) = handler.ran(result.task_id)
        assert execution.started >= due.timestamp() - 0.5

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

    def test_stop_lets_a_running_task_finish(
        self, kit: Kit, handler: RecordingHandler, start_threads: Start
    ) -> None:
        runtime = start_threads({"g": 1})
        result = kit.initiate_task("g", "sleep", 1.0)
        wait_until(lambda: handler.ran(result.task_id))
        assert runtime.stop(timeout=10) is True
        assert result.get(timeout=1) == 1.0
        assert runtime.worker_id not in dict(kit.backend.get_leases())

    # -- bad input -------------------------------------------------------------

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

    @lacking("transactional_enqueue")
    def test_transactional_enqueue_needs_the_capability(self, kit: Kit) -> None:
        with pytest.raises(CapabilityError, match="transactional_enqueue"):
            kit.initiate_task("g", "echo", 1, connection=object())
