"""Cancellation: a queued task never starts; a staged one is stopped through its worker."""

from __future__ import annotations

import time

import pytest

from ...backend import Backend, CancelResult, Outcome, TaskState
from ...errors import Cancelled, Failed
from ...kit import Kit
from ..support import RecordingHandler, Start, claim_one, make_task, wait_until


class CancelContract:
    """cancel_tasks, the requests refresh_leases hands out, and the CANCELLED outcome."""

    def test_a_cancelled_queued_task_never_starts(self, backend: Backend) -> None:
        task = make_task()
        backend.put_tasks(task)
        assert backend.cancel_tasks(task.id) == {task.id: CancelResult.CANCELLED}
        assert backend.claim_tasks("g", "w1", 10) == []
        with pytest.raises(Cancelled):
            backend.get_result(task.id)
        info = backend.read_task(task.id)
        assert info is not None and info.state is TaskState.CANCELLED
        assert info.finished is not None
        assert [s.cancelled for s in backend.group_stats(0)] == [1]

    def test_a_task_not_yet_due_can_be_cancelled(self, backend: Backend) -> None:
        task = make_task(due=time.time() + 3600)
        backend.put_tasks(task)
        assert backend.cancel_tasks(task.id)[task.id] is CancelResult.CANCELLED
        assert backend.get_queued_tasks("g", 10) == []

    def test_a_staged_task_gets_a_request_its_worker_hears_of(self, backend: Backend) -> None:
        task = make_task()
        backend.put_tasks(task)
        claim = claim_one(backend, worker="w1")
        assert backend.cancel_tasks(task.id) == {task.id: CancelResult.REQUESTED}
        assert backend.refresh_leases({"w1"}, 60) == [task.id]
        assert backend.refresh_leases({"w2"}, 60) == []
        info = backend.read_task(task.id)
        assert info is not None and (info.state, info.cancel_requested) == (TaskState.STAGED, True)
        assert backend.settle(Outcome.cancelled(claim, "stopped")) == [True]
        assert backend.refresh_leases({"w1"}, 60) == []
        with pytest.raises(Cancelled, match="stopped"):
            backend.get_result(task.id)

    def test_an_outcome_settled_first_stands(self, backend: Backend) -> None:
        task = make_task()
        backend.put_tasks(task)
        claim = claim_one(backend, worker="w1")
        backend.cancel_tasks(task.id)
        assert backend.settle(Outcome.succeeded(claim, b'"done"')) == [True]
        assert backend.refresh_leases({"w1"}, 60) == []
        assert backend.get_result(task.id)[1] == b'"done"'
        assert backend.cancel_tasks(task.id) == {task.id: CancelResult.FINISHED}

    def test_cancelling_twice_answers_alike_and_changes_nothing(self, backend: Backend) -> None:
        queued, staged = make_task(data=1), make_task(data=2)
        backend.put_tasks(staged)
        claim_one(backend, worker="w1")
        backend.put_tasks(queued)
        first = backend.cancel_tasks(queued.id, staged.id, "nosuchid")
        assert first == {
            queued.id: CancelResult.CANCELLED,
            staged.id: CancelResult.REQUESTED,
            "nosuchid": CancelResult.NOT_FOUND,
        }
        before = backend.read_task(queued.id)
        second = backend.cancel_tasks(queued.id, staged.id, "nosuchid")
        assert second == {
            queued.id: CancelResult.FINISHED,
            staged.id: CancelResult.REQUESTED,
            "nosuchid": CancelResult.NOT_FOUND,
        }
        assert backend.read_task(queued.id) == before
        assert backend.refresh_leases({"w1"}, 60) == [staged.id]

    def test_a_finished_task_is_left_as_it_is(self, backend: Backend) -> None:
        task = make_task()
        backend.put_tasks(task)
        backend.settle(Outcome.failed(claim_one(backend), "boom"))
        assert backend.cancel_tasks(task.id) == {task.id: CancelResult.FINISHED}
        with pytest.raises(Failed, match="boom") as info:
            backend.get_result(task.id)
        assert not isinstance(info.value, Cancelled)

    def test_a_late_cancelled_outcome_is_refused(self, backend: Backend) -> None:
        task = make_task()
        backend.put_tasks(task)
        stale = claim_one(backend, worker="gone")
        backend.restore_abandoned(10)
        claim_one(backend, worker="w2")
        assert backend.settle(Outcome.cancelled(stale, "late")) == [False]
        info = backend.read_task(task.id)
        assert info is not None and (info.state, info.worker_id) == (TaskState.STAGED, "w2")

    def test_a_restored_task_with_a_request_is_cancelled(self, backend: Backend) -> None:
        task = make_task()
        backend.put_tasks(task)
        claim_one(backend, worker="gone")
        backend.cancel_tasks(task.id)
        assert [i.task_id for i in backend.restore_abandoned(10)] == [task.id]
        assert backend.get_queued_tasks("g", 10) == []
        info = backend.read_task(task.id)
        assert info is not None and info.state is TaskState.CANCELLED
        assert backend.get_done_task_ids(None, None, 10) == [task.id]


class CancelRunContract:
    """Through a Kit: Result.cancel(), and running tasks stopped within one heartbeat."""

    def test_a_cancelled_task_never_runs(
        self, kit: Kit, handler: RecordingHandler, start_threads: Start
    ) -> None:
        result = kit.initiate_task("g", "echo", 1)
        assert result.cancel() is CancelResult.CANCELLED
        after = kit.initiate_task("g", "echo", 2)
        start_threads()
        assert after.get(timeout=10) == 2
        with pytest.raises(Cancelled):
            result.get(timeout=1)
        assert handler.ran(result.task_id) == []

    def test_a_running_task_is_stopped_within_a_heartbeat(
        self, kit: Kit, handler: RecordingHandler, start_threads: Start
    ) -> None:
        start_threads({"g": 1})
        result = kit.initiate_task("g", "cooperative", 30)
        wait_until(lambda: handler.ran(result.task_id))
        asked = time.monotonic()
        assert kit.cancel(result.task_id) == {result.task_id: CancelResult.REQUESTED}
        with pytest.raises(Cancelled, match="cancelled while running"):
            result.get(timeout=10)
        assert time.monotonic() - asked < kit.settings.heartbeat + 2
        wait_until(lambda: result.task_id in handler.stopped)
        assert kit.read_task(result.task_id).state is TaskState.CANCELLED

    def test_the_cancel_hook_of_a_running_task_is_called(
        self, kit: Kit, handler: RecordingHandler, start_threads: Start
    ) -> None:
        start_threads({"g": 1})
        result = kit.initiate_task("g", "hooked", 30)
        wait_until(lambda: handler.ran(result.task_id))
        kit.cancel(result.task_id)
        wait_until(lambda: handler.hook_calls == [result.task_id])
        with pytest.raises(Cancelled):
            result.get(timeout=10)

    def test_the_group_runs_on_after_a_cancel(
        self, kit: Kit, handler: RecordingHandler, start_threads: Start
    ) -> None:
        start_threads({"g": 1})
        stopped = kit.initiate_task("g", "cooperative", 30)
        wait_until(lambda: handler.ran(stopped.task_id))
        kit.cancel(stopped.task_id)
        following = kit.initiate_task("g", "echo", "next")
        assert following.get(timeout=15) == "next"

    def test_cancelling_a_finished_task_says_so(self, kit: Kit, start_threads: Start) -> None:
        result = kit.initiate_task("g", "echo", 1)
        start_threads()
        assert result.get(timeout=10) == 1
        assert result.cancel() is CancelResult.FINISHED
        assert result.get(timeout=1) == 1
