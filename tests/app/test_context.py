"""current_task(): what a running task knows about itself, in threads, coroutines and eager mode."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from app.shop import async_context, context
from taskkit_core import App, NoTaskRunning, current_task

from .conftest import StartWorkers


def test_a_task_sees_its_id_name_group_attempt_and_worker(
    memory_shop: App, workers: StartWorkers
) -> None:
    result = context.delay()
    runtime = workers(memory_shop)
    seen = result.get(timeout=10)
    (task,) = memory_shop.kit.backend.lookup_tasks(result.id).values()
    assert task is not None
    assert seen["id"] == result.id and seen["name"] == context.name
    assert (seen["group"], seen["attempt"], seen["worker"]) == ("default", 1, runtime.worker_id)
    assert seen["enqueued"] == datetime.fromtimestamp(task.created, UTC).isoformat()


def test_eager_tasks_and_async_tasks_have_a_context_too(
    memory_shop: App, workers: StartWorkers
) -> None:
    eager = context.options(eager=True).delay().get(timeout=1)
    assert (eager["attempt"], eager["worker"]) == (1, None)
    result = async_context.delay()
    workers(memory_shop)
    assert result.get(timeout=10) == [async_context.name, "taskkit-asyncio"]


def test_outside_a_task_there_is_no_current_task() -> None:
    with pytest.raises(NoTaskRunning, match="only available inside a task"):
        current_task()
