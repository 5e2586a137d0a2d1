"""Django's expectations of a django.tasks backend, met by taskkit (its worker runs the tasks).

The project's worker runs as an operator starts it, ``manage.py
taskkit_worker``, in a subprocess with one spawned worker process: it sets
Django up, discovers shop/tasks.py and reads the project's SQLite database.
"""

from __future__ import annotations

import os
import subprocess
import time
from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from django.db import transaction
from django.test import Client
from harness.django_project import taskkit_worker
from taskkit_core.testing import wait_until

pytestmark = pytest.mark.usefixtures("django_project")


@pytest.fixture(scope="module")
def worker(django_project: dict[str, Any]) -> Iterator[subprocess.Popen[bytes]]:
    options = ["--processes", "1", "--threads", "default=2", "--threads", "reports=1"]
    with taskkit_worker(*options, "--polling-interval", "0.2") as process:
        yield process


def finished(result: Any, timeout: float = 30) -> Any:
    def done() -> bool:
        result.refresh()
        return bool(result.is_finished)

    wait_until(done, timeout=timeout)
    return result


def test_the_flags_say_what_taskkit_does() -> None:
    from taskkit_sql.django.framework import task_backends

    backend = task_backends["default"]
    assert (backend.supports_defer, backend.supports_async_task) == (True, True)
    assert backend.supports_get_result is True
    assert backend.supports_priority is True


def test_a_tasks_priority_is_taskkits_priority() -> None:
    from shop.tasks import add
    from taskkit_sql.django.framework import task_backends
    from taskkit_sql.django.tasks import TaskkitBackend

    urgent = add.using(priority=40).enqueue(1, 1)
    backend = task_backends["default"]
    assert isinstance(backend, TaskkitBackend)
    info = backend.backend.read_task(urgent.id)
    assert info is not None and info.task.priority == 40


def test_an_enqueued_task_runs_in_a_taskkit_worker(worker: object) -> None:
    from shop.tasks import add
    from taskkit_sql.django.framework import TaskResultStatus, task_backends

    enqueued = add.enqueue(2, 3)
    assert enqueued.status == TaskResultStatus.READY
    assert (enqueued.args, enqueued.kwargs, enqueued.backend) == ([2, 3], {}, "default")
    result = finished(enqueued)
    assert result.status == TaskResultStatus.SUCCESSFUL
    assert result.return_value == 5
    assert result.attempts == 1 and result.errors == []
    assert result.enqueued_at <= result.started_at <= result.finished_at
    again = task_backends["default"].get_result(result.id)
    assert (again.id, again.return_value, again.task.func) == (result.id, 5, add.func)


def test_a_failing_task_is_failed_with_its_error(worker: object) -> None:
    from shop.tasks import fail
    from taskkit_sql.django.framework import TaskResultStatus

    result = finished(fail.enqueue("out of stock"))
    assert result.status == TaskResultStatus.FAILED
    (error,) = result.errors
    assert error.exception_class is ValueError
    assert "out of stock" in error.traceback
    with pytest.raises(ValueError, match="failed"):
        result.return_value  # noqa: B018 - the property raises


def test_a_deferred_task_waits_for_run_after(worker: object) -> None:
    from shop.tasks import add
    from taskkit_sql.django.framework import TaskResultStatus

    run_after = datetime.now(UTC) + timedelta(seconds=2)
    deferred = add.using(run_after=run_after).enqueue(1, 1)
    time.sleep(0.8)
    deferred.refresh()
    assert deferred.status == TaskResultStatus.READY
    result = finished(deferred)
    assert result.started_at >= run_after - timedelta(milliseconds=1)


def test_async_tasks_and_the_task_context(worker: object) -> None:
    from shop.tasks import add_later, who_runs

    assert finished(add_later.enqueue(3, 4)).return_value == 7
    context = finished(who_runs.enqueue(label="x"))
    assert context.return_value == {"label": "x", "attempt": 1, "id": context.id}


def test_tasks_of_another_queue_use_the_orm_in_the_worker(worker: object) -> None:
    from shop.models import Order
    from shop.tasks import count_orders

    Order.objects.bulk_create([Order(note="queue"), Order(note="queue")])
    result = finished(count_orders.enqueue("queue"))
    assert result.task.queue_name == "reports"
    assert result.return_value == 2


def test_a_view_enqueues_and_reads_the_result_back(worker: object) -> None:
    client = Client()
    enqueued = client.get("/add/20/22").json()
    assert enqueued["status"] == "READY"
    shown: dict[str, Any] = {}

    def done() -> bool:
        shown.update(client.get(f"/results/{enqueued['id']}").json())
        return bool(shown["status"] == "SUCCESSFUL")

    wait_until(done, timeout=30)
    assert shown["value"] == 42


def test_an_enqueue_rolled_back_with_its_transaction_never_existed() -> None:
    from shop.tasks import add
    from taskkit_sql.django.framework import TaskResultDoesNotExist, task_backends

    with pytest.raises(RuntimeError), transaction.atomic():
        result = add.enqueue(1, 2)
        raise RuntimeError
    with pytest.raises(TaskResultDoesNotExist):
        task_backends["default"].get_result(result.id)


def _nothing_queued() -> Callable[[], int]:
    from taskkit_sql.django.framework import task_backends

    backend = task_backends["default"].backend  # type: ignore[attr-defined]
    before = sum(s.queued for s in backend.group_stats(0))
    return lambda: sum(s.queued for s in backend.group_stats(0)) - before


def test_bad_tasks_and_arguments_are_refused_before_anything_is_queued() -> None:
    from shop.tasks import add, echo
    from taskkit_sql.django.framework import InvalidTask, task

    added = _nothing_queued()
    with pytest.raises(InvalidTask, match="priority"):
        add.using(priority=101)
    with pytest.raises(InvalidTask, match="Queue"):
        add.using(queue_name="nowhere")
    with pytest.raises(InvalidTask, match="aware"):
        add.using(run_after=datetime.now())
    with pytest.raises(InvalidTask, match="module level"):
        task(lambda: None)
    with pytest.raises(TypeError, match="JSON"):
        echo.enqueue(object())
    assert added() == 0


def test_results_of_unknown_ids_and_of_other_tasks() -> None:
    from shop.tasks import add, echo
    from taskkit_sql.django.framework import TaskResultDoesNotExist, TaskResultMismatch

    with pytest.raises(TaskResultDoesNotExist):
        add.get_result("0" * 32)
    other = echo.enqueue("x")
    with pytest.raises(TaskResultMismatch):
        add.get_result(other.id)
    assert os.environ["DJANGO_SETTINGS_MODULE"] == "testproject.settings"
