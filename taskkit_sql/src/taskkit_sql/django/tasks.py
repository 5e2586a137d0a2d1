"""taskkit as the backend of Django's Tasks framework (``django.tasks``).

::

    TASKS = {"default": {"BACKEND": "taskkit_sql.django.tasks.TaskkitBackend"}}

``@task`` functions are put into taskkit (group = queue name) and run by
``manage.py taskkit_worker``; ``TaskResult`` reads their state back. Inside
``transaction.atomic()`` on taskkit's database the enqueue commits or rolls
back with the transaction. ``OPTIONS`` may name ``DATABASE`` (an alias of
DATABASES; default TASKKIT["DATABASE"]) and taskkit backend options.

What the flags promise: ``supports_defer`` (``run_after`` is the due time),
``supports_async_task`` (coroutines run to completion in the worker thread),
``supports_get_result`` (from any process, for the task's result ttl: 7
days). Not ``supports_priority`` yet.
"""

from __future__ import annotations

import os
import threading
from collections.abc import Mapping
from typing import Any, TypeVar, cast

from taskkit_core.backend import Connection
from taskkit_core.opening import connect
from taskkit_core.task import Task as TaskkitTask
from typing_extensions import ParamSpec

from .atomic import DjangoBackend
from .calls import decode_call, decode_value, django_task, encode_call, task_error, when
from .framework import (
    BaseTaskBackend,
    Task,
    TaskResult,
    TaskResultDoesNotExist,
    TaskResultStatus,
    task_enqueued,
)
from .records import TaskRecord, read_record

P = ParamSpec("P")
T = TypeVar("T")


class TaskkitBackend(BaseTaskBackend):
    """Enqueues django.tasks calls into taskkit; results come from taskkit's tables."""

    supports_defer = True
    supports_async_task = True
    supports_get_result = True
    # Django's Task.priority has taskkit's range, -100..100 (higher first): passed unchanged.
    supports_priority = True

    def __init__(self, alias: str, params: dict[str, Any]) -> None:
        super().__init__(alias, params)
        options = dict(self.options)
        self.url = f"django://{options.pop('DATABASE', '')}"
        self.backend_options: Mapping[str, Any] = options
        self._connection: Connection | None = None
        self._pid = 0
        self._lock = threading.Lock()

    @property
    def backend(self) -> DjangoBackend:
        """taskkit's backend, opened on first use in each process."""
        with self._lock:
            if self._connection is None or self._pid != os.getpid():
                self._connection, self._pid = connect(self.url, **self.backend_options), os.getpid()
            return cast(DjangoBackend, self._connection.backend)

    def enqueue(
        self,
        task: Task[P, T],
        args: P.args,  # type: ignore[valid-type]
        kwargs: P.kwargs,  # type: ignore[valid-type]
    ) -> TaskResult[T]:
        self.validate_task(task)
        due = None if task.run_after is None else task.run_after.timestamp()
        stored = TaskkitTask.init(
            task.queue_name,
            task.module_path,
            encode_call(args, kwargs),
            due=due,
            priority=task.priority,
        )
        self.backend.put_tasks(stored)
        result = self._result(task, stored.id, TaskResultStatus.READY, list(args), dict(kwargs))
        object.__setattr__(result, "enqueued_at", when(stored.created))
        task_enqueued.send(type(self), task_result=result)
        return result

    def get_result(self, result_id: str) -> TaskResult[Any]:
        record = read_record(self.backend, result_id)
        task = None if record is None else django_task(record.name)
        if record is None or task is None:
            raise TaskResultDoesNotExist(result_id)
        if task.queue_name != record.group:
            task = task.using(queue_name=record.group)
        return self._from_record(task, record)

    def _from_record(self, task: Task[Any, Any], record: TaskRecord) -> TaskResult[Any]:
        args, kwargs = decode_call(record.data)
        status = _status(record)
        result = self._result(task, record.id, status, args, kwargs)
        fields: dict[str, Any] = {
            "enqueued_at": when(record.created),
            "started_at": when(record.began),
            "last_attempted_at": when(record.began),
            "finished_at": when(record.done_at),
            # taskkit keeps the last worker of a task: once per attempt, so .attempts is right.
            "worker_ids": [record.worker_id] * record.attempt if record.worker_id else [],
        }
        if status == TaskResultStatus.SUCCESSFUL and record.result is not None:
            fields["_return_value"] = decode_value(record.result)
        if status == TaskResultStatus.FAILED:
            fields["errors"] = [task_error(record.error or "")]
        for name, value in fields.items():
            object.__setattr__(result, name, value)
        return result

    def _result(
        self,
        task: Task[Any, T],
        result_id: str,
        status: TaskResultStatus,
        args: list[Any],
        kwargs: dict[str, Any],
    ) -> TaskResult[T]:
        return TaskResult(
            task=task,
            id=result_id,
            status=status,
            enqueued_at=None,
            started_at=None,
            last_attempted_at=None,
            finished_at=None,
            args=args,
            kwargs=kwargs,
            backend=self.alias,
            errors=[],
            worker_ids=[],
        )


def _status(record: TaskRecord) -> TaskResultStatus:
    if record.done:
        return TaskResultStatus.FAILED if record.result is None else TaskResultStatus.SUCCESSFUL
    return TaskResultStatus.RUNNING if record.staged else TaskResultStatus.READY
