"""Inspecting and repairing: read_task, list_tasks, retry_tasks and purge_tasks."""

from __future__ import annotations

import time

import pytest

from ...backend import Backend, Outcome, RetryResult, TaskState
from ...errors import Failed, InvalidTaskError, NotFound
from ...kit import Kit
from ...task import Task
from ..support import RecordingHandler, Start, claim_one, make_task, wait_until


def failed_task(backend: Backend, group: str = "g", data: int = 0) -> Task:
    """Put a task and fail its first attempt with the message "boom <data>"."""
    task = make_task(group=group, data=data)
    backend.put_tasks(task)
    (claim,) = [c for c in backend.claim_tasks(group, "w1", 100) if c.task.id == task.id]
    backend.settle(Outcome.failed(claim, f"boom {data}"))
    return task


class ListingContract:
    """Everything known about a task, tasks by state newest first, retries and purges."""

    def test_read_task_tells_everything_known(self, backend: Backend) -> None:
        task = make_task(headers={"trace": "abc"})
        backend.put_tasks(task)
        queued = backend.read_task(task.id)
        assert queued is not None
        assert (queued.task, queued.state, queued.attempt) == (task, TaskState.QUEUED, 0)
        assert (queued.worker_id, queued.began, queued.finished) == (None, None, None)
        claim = claim_one(backend, worker="w9")
        staged = backend.read_task(task.id)
        assert staged is not None and (staged.state, staged.worker_id) == (TaskState.STAGED, "w9")
        assert staged.began == pytest.approx(claim.began, abs=1e-3)
        backend.settle(Outcome.succeeded(claim, b"12345"))
        done = backend.read_task(task.id)
        assert done is not None and (done.state, done.attempt) == (TaskState.SUCCEEDED, 1)
        assert (done.result_size, done.error, done.cancel_requested) == (5, None, False)
        assert done.finished is not None and done.finished >= claim.began - 1

    def test_read_task_of_an_unknown_id_is_none(self, backend: Backend) -> None:
        assert backend.read_task("nosuchid") is None

    def test_a_failed_task_reads_back_with_its_error(self, backend: Backend) -> None:
        task = failed_task(backend, data=7)
        info = backend.read_task(task.id)
        assert info is not None and (info.state, info.error) == (TaskState.FAILED, "boom 7")
        assert info.result_size is None

    def test_list_tasks_is_newest_first_by_state_and_group(self, backend: Backend) -> None:
        failed = [failed_task(backend, data=i) for i in range(3)]
        other = failed_task(backend, group="other")
        backend.put_tasks(make_task())
        listed = backend.list_tasks(TaskState.FAILED, "g")
        newest_first = sorted(failed, key=lambda t: t.id, reverse=True)
        assert [i.task.id for i in listed] == [t.id for t in newest_first]
        assert [i.error for i in listed] == [f"boom {t.data.decode()}" for t in newest_first]
        everywhere = backend.list_tasks(TaskState.FAILED)
        assert {i.task.id for i in everywhere} == {t.id for t in [*failed, other]}
        assert len(backend.list_tasks(TaskState.QUEUED, "g")) == 1
        assert backend.list_tasks(TaskState.CANCELLED) == []

    def test_list_tasks_pages_with_before(self, backend: Backend) -> None:
        tasks = [make_task(data=i) for i in range(7)]
        backend.put_tasks(*tasks)
        newest_first = sorted((t.id for t in tasks), reverse=True)
        pages: list[list[str]] = []
        before = None
        while page := backend.list_tasks(TaskState.QUEUED, "g", limit=3, before=before):
            pages.append([i.task.id for i in page])
            before = page[-1].task.id
        assert pages == [newest_first[:3], newest_first[3:6], newest_first[6:]]

    @pytest.mark.parametrize("limit", [0, 1001, -1])
    def test_list_tasks_refuses_a_limit_out_of_range(self, backend: Backend, limit: int) -> None:
        with pytest.raises(InvalidTaskError):
            backend.list_tasks(TaskState.FAILED, limit=limit)

    def test_retry_queues_a_failed_task_afresh(self, backend: Backend) -> None:
        task = failed_task(backend, data=3)
        assert backend.retry_tasks(task.id) == {task.id: RetryResult.QUEUED}
        info = backend.read_task(task.id)
        assert info is not None
        assert (info.state, info.attempt, info.error) == (TaskState.QUEUED, 0, "boom 3")
        assert (info.task.retry_count, info.finished) == (0, None)
        claim = claim_one(backend)
        assert claim.attempt == 1 and claim.task.due <= time.time() + 1
        backend.settle(Outcome.succeeded(claim, b"1"))
        done = backend.read_task(task.id)
        assert done is not None and (done.state, done.error) == (TaskState.SUCCEEDED, None)

    def test_retry_queues_a_cancelled_task(self, backend: Backend) -> None:
        task = make_task()
        backend.put_tasks(task)
        backend.cancel_tasks(task.id)
        assert backend.retry_tasks(task.id) == {task.id: RetryResult.QUEUED}
        assert claim_one(backend).task.id == task.id

    def test_retry_leaves_other_tasks_as_they_are(self, backend: Backend) -> None:
        succeeded, staged, queued = (make_task(data=i) for i in range(3))
        backend.put_tasks(succeeded)
        backend.settle(Outcome.succeeded(claim_one(backend), b"1"))
        backend.put_tasks(staged)
        claim_one(backend)
        backend.put_tasks(queued)
        answers = backend.retry_tasks(succeeded.id, staged.id, queued.id, "nosuchid")
        assert answers == {
            succeeded.id: RetryResult.NOT_RETRYABLE,
            staged.id: RetryResult.NOT_RETRYABLE,
            queued.id: RetryResult.NOT_RETRYABLE,
            "nosuchid": RetryResult.NOT_FOUND,
        }
        assert backend.get_result(succeeded.id)[1] == b"1"
        assert [t.id for t in backend.get_queued_tasks("g", 10)] == [queued.id]

    def test_purge_deletes_the_finished_tasks_of_a_group(self, backend: Backend) -> None:
        failed = [failed_task(backend, data=i) for i in range(3)]
        kept = failed_task(backend, group="other")
        queued = make_task()
        backend.put_tasks(queued)
        assert backend.purge_tasks("g", [TaskState.SUCCEEDED]) == 0
        assert backend.purge_tasks("g") == 3
        assert all(backend.read_task(t.id) is None for t in failed)
        assert backend.read_task(kept.id) is not None
        assert backend.read_task(queued.id) is not None

    @pytest.mark.parametrize("state", [TaskState.QUEUED, TaskState.STAGED])
    def test_purge_refuses_unfinished_states(self, backend: Backend, state: TaskState) -> None:
        task = make_task()
        backend.put_tasks(task)
        with pytest.raises(InvalidTaskError, match="finished"):
            backend.purge_tasks("g", [TaskState.FAILED, state])
        assert backend.read_task(task.id) is not None


class ListingKitContract:
    """The same through a Kit, with its errors."""

    def test_a_failed_task_is_listed_retried_and_purged(
        self, kit: Kit, handler: RecordingHandler, start_threads: Start
    ) -> None:
        result = kit.initiate_task("g", "fail", "always")
        start_threads()
        with pytest.raises(Failed, match="failing on purpose"):
            result.get(timeout=10)
        (info,) = kit.list_tasks("failed", group="g")
        assert info.task.id == result.task_id and "failing on purpose" in (info.error or "")
        assert kit.retry(result.task_id) == {result.task_id: RetryResult.QUEUED}
        wait_until(lambda: len(handler.ran(result.task_id)) == 2)
        wait_until(lambda: kit.read_task(result.task_id).state is TaskState.FAILED)
        assert kit.read_task(result.task_id).attempt == 1, "a fresh attempt count"
        assert kit.purge("g") == 1
        with pytest.raises(NotFound):
            kit.read_task(result.task_id)

    def test_reading_an_unknown_task_is_not_found(self, kit: Kit) -> None:
        with pytest.raises(NotFound, match="nosuchid"):
            kit.read_task("nosuchid")

    def test_an_unknown_state_is_refused(self, kit: Kit) -> None:
        with pytest.raises(InvalidTaskError, match="unknown task state"):
            kit.list_tasks("finished")
