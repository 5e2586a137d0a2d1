"""read_task, list_tasks, retry_tasks and purge_tasks on Redis, and their indexes."""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any, cast

import pytest
import redis
from taskkit_core.backend import Outcome, RetryResult, TaskState
from taskkit_core.errors import InvalidTaskError
from taskkit_core.testing import make_task, wait_until
from taskkit_redis.keys import Keys

from taskkit_redis import RedisBackend, control

OpenConnection = Callable[..., Any]


def fail_all(backend: Any, *tasks: Any, group: str = "g") -> None:
    backend.put_tasks(*tasks)
    claims = backend.claim_tasks(group, "w", len(tasks))
    assert backend.settle(*(Outcome.failed(c, f"boom {c.task.id}") for c in claims))


def test_failed_tasks_are_listed_newest_first_in_pages_by_group(
    open_connection: OpenConnection,
) -> None:
    backend = open_connection().backend
    g_tasks = [make_task(data=i) for i in range(7)]
    h_tasks = [make_task(group="h", data=i) for i in range(3)]
    fail_all(backend, *g_tasks)
    fail_all(backend, *h_tasks, group="h")
    newest = sorted(g_tasks + h_tasks, key=lambda t: t.id, reverse=True)
    assert [i.task.id for i in backend.list_tasks(TaskState.FAILED, limit=1000)] == [
        t.id for t in newest
    ]
    pages, before = [], None
    while page := backend.list_tasks(TaskState.FAILED, "g", limit=3, before=before):
        pages.append([i.task.id for i in page])
        before = page[-1].task.id
    assert [len(p) for p in pages] == [3, 3, 1]
    assert [task_id for page in pages for task_id in page] == [
        t.id for t in newest if t.group == "g"
    ]
    info = backend.list_tasks(TaskState.FAILED, "h", limit=1)[0]
    assert (info.error, info.attempt, info.worker_id) == (f"boom {info.task.id}", 1, "w")
    assert backend.list_tasks(TaskState.SUCCEEDED) == []


def test_queued_and_staged_tasks_are_listed_from_the_queues(
    open_connection: OpenConnection,
) -> None:
    backend = open_connection().backend
    tasks = [make_task(data=i, priority=i % 3 - 1) for i in range(6)]
    backend.put_tasks(*tasks, make_task(group="h"))
    staged = backend.claim_tasks("g", "w", 2)
    queued = sorted({t.id for t in tasks} - {c.task.id for c in staged}, reverse=True)
    assert [i.task.id for i in backend.list_tasks(TaskState.QUEUED, "g")] == queued
    assert [i.task.id for i in backend.list_tasks(TaskState.QUEUED, "g", 2, queued[1])] == queued[
        2:4
    ]
    assert len(backend.list_tasks(TaskState.QUEUED)) == 5
    listed = backend.list_tasks(TaskState.STAGED, "g")
    assert [i.task.id for i in listed] == sorted((c.task.id for c in staged), reverse=True)
    assert all(i.worker_id == "w" and i.began for i in listed)
    assert backend.list_tasks(TaskState.STAGED, "h") == []


def test_a_limit_out_of_range_is_refused(open_connection: OpenConnection) -> None:
    backend = open_connection().backend
    for limit in (0, 1001, True):
        with pytest.raises(InvalidTaskError, match="limit"):
            backend.list_tasks(TaskState.FAILED, limit=limit)


def test_a_retried_task_keeps_its_error_until_it_finishes_again(
    open_connection: OpenConnection,
) -> None:
    backend = open_connection().backend
    task = make_task(ttl=60)
    fail_all(backend, task)
    assert backend.retry_tasks(task.id, "nope") == {
        task.id: RetryResult.QUEUED,
        "nope": RetryResult.NOT_FOUND,
    }
    assert backend.retry_tasks(task.id) == {task.id: RetryResult.NOT_RETRYABLE}
    info = backend.read_task(task.id)
    assert (info.state, info.attempt, info.finished, info.error) == (
        TaskState.QUEUED,
        0,
        None,
        f"boom {task.id}",
    )
    assert backend.list_tasks(TaskState.FAILED) == []
    (claim,) = backend.claim_tasks("g", "w", 1)
    assert (claim.attempt, claim.task.retry_count) == (1, 0)
    backend.settle(Outcome.succeeded(claim, b"ok"))
    info = backend.read_task(task.id)
    assert (info.state, info.error, info.result_size) == (TaskState.SUCCEEDED, None, 2)


def test_purge_works_in_batches_and_leaves_other_groups_and_states(
    open_connection: OpenConnection, monkeypatch: pytest.MonkeyPatch
) -> None:
    backend = cast(RedisBackend, open_connection().backend)
    monkeypatch.setattr(control, "PURGE_BATCH", 4)
    calls = []
    real = backend._scripts.purge

    def counted(**kwargs: Any) -> Any:
        calls.append(kwargs)
        return real(**kwargs)

    backend._scripts.purge = counted  # type: ignore[assignment]
    fail_all(backend, *(make_task(data=i) for i in range(10)))
    fail_all(backend, make_task(group="h"), group="h")
    kept = make_task()
    backend.put_tasks(kept)
    backend.cancel_tasks(kept.id)
    assert backend.purge_tasks("g", {TaskState.FAILED}) == 10
    assert len(calls) == 4  # 4 + 4 + 2, then an empty batch
    assert backend.list_tasks(TaskState.FAILED, "g") == []
    assert len(backend.list_tasks(TaskState.FAILED)) == 1
    assert backend.purge_tasks("g") == 1  # every finished state: the cancelled one
    with pytest.raises(InvalidTaskError, match="queued"):
        backend.purge_tasks("h", {TaskState.QUEUED, TaskState.FAILED})
    assert len(backend.list_tasks(TaskState.FAILED, "h")) == 1


def test_index_entries_of_expired_tasks_are_skipped_and_discarded(
    open_connection: OpenConnection, raw: redis.Redis, namespace: str
) -> None:
    backend = open_connection().backend
    kept = make_task(ttl=60)
    time.sleep(0.01)  # the expiring task has the newer id: the listing meets it first
    short = make_task(ttl=0.2)
    fail_all(backend, short, kept)
    wait_until(lambda: backend.read_task(short.id) is None, timeout=10)
    assert [i.task.id for i in backend.list_tasks(TaskState.FAILED, limit=1)] == [kept.id]
    assert [i.task.id for i in backend.list_tasks(TaskState.FAILED, "g", limit=1)] == [kept.id]
    backend.discard_tasks(*backend.get_disposable_task_ids(10))  # the discard service
    keys = Keys(namespace)
    assert raw.zcard(keys.index("failed")) == raw.zcard(keys.index("failed", "g")) == 1
    backend.discard_tasks(kept.id)
    assert not raw.exists(keys.index("failed"), keys.index("failed", "g"))
