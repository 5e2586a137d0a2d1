"""The TaskHandler of a Django project's workers.

It runs django.tasks functions (a task's name is the function's module
path; see ``calls``) and, when ``TASKKIT["APP"]`` names the project's taskkit
App (issue 15's ``App``, or anything with a TaskHandler as ``.handler``),
every other task through that App's handler.

Tasks are found the Django way: every installed app's ``tasks`` module is
imported (``autodiscover_modules``) when the handler is made. A worker
process started with spawn receives the handler pickled as the name of the
settings module: the child sets Django up (``django.setup()``) before it
imports any task module, then discovers them again.
"""

from __future__ import annotations

import importlib
import os
from typing import Any, Protocol

import django
from django.db import close_old_connections
from django.utils.module_loading import autodiscover_modules, import_string
from taskkit_core.errors import ConfigurationError
from taskkit_core.handler import TaskHandler
from taskkit_core.task import Task as TaskkitTask
from taskkit_core.worker import current_claim

from .calls import decode_call, decode_value, django_task, encode_call, encode_value, when
from .config import taskkit_settings
from .framework import Task, TaskContext, TaskResult, TaskResultStatus


class ProjectApp(Protocol):
    """What the integration needs of the project's taskkit App: its TaskHandler."""

    @property
    def handler(self) -> TaskHandler: ...


class UnknownTaskName(ConfigurationError, LookupError):
    """No django.tasks function and no App task has this name (the task fails at once)."""


class DjangoHandler:
    """Runs django.tasks functions, and the project App's tasks through its handler."""

    def __init__(self, app: ProjectApp | None = None) -> None:
        self.app = app

    def __repr__(self) -> str:
        return f"DjangoHandler(app={self.app!r})"

    def __reduce__(self) -> tuple[Any, ...]:
        from django.conf import settings

        module = os.environ.get("DJANGO_SETTINGS_MODULE") or settings.SETTINGS_MODULE
        return (worker_handler, (module,))

    def _other(self, name: str) -> TaskHandler:
        if self.app is None:
            raise UnknownTaskName(
                f"no django.tasks function is named {name!r}, and settings.TASKKIT has no APP "
                "for other tasks"
            )
        return self.app.handler

    def handle(self, task: TaskkitTask) -> Any:
        function = django_task(task.name)
        if function is None:
            return self._other(task.name).handle(task)
        close_old_connections()  # as Django does around a request
        try:
            return _call(function, task)
        finally:
            close_old_connections()

    def get_retry_interval(self, task: TaskkitTask, exception: Exception) -> float | None:
        if isinstance(exception, UnknownTaskName) or django_task(task.name) is not None:
            return None  # django.tasks has no retries: a failed task stays failed
        return self._other(task.name).get_retry_interval(task, exception)

    def encode_data(self, group: str, task_name: str, data: Any) -> bytes:
        """For django.tasks functions: ``{"args": [...], "kwargs": {...}}``."""
        if django_task(task_name) is None:
            return self._other(task_name).encode_data(group, task_name, data)
        data = data or {}
        return encode_call(data.get("args", []), data.get("kwargs", {}))

    def encode_result(self, task: TaskkitTask, result: Any) -> bytes:
        if django_task(task.name) is None:
            return self._other(task.name).encode_result(task, result)
        return encode_value(result)

    def decode_result(self, task: TaskkitTask, encoded: bytes) -> Any:
        if django_task(task.name) is None and self.app is not None:
            return self.app.handler.decode_result(task, encoded)
        return decode_value(encoded)


def _call(function: Task[Any, Any], task: TaskkitTask) -> Any:
    args, kwargs = decode_call(task.data)
    if function.takes_context:
        return function.call(
            TaskContext(task_result=_running(function, task, args, kwargs)), *args, **kwargs
        )
    return function.call(*args, **kwargs)


def _running(
    function: Task[Any, Any], task: TaskkitTask, args: list[Any], kwargs: dict[str, Any]
) -> TaskResult[Any]:
    """The TaskResult of the attempt running now (for ``takes_context`` tasks)."""
    claim = current_claim()
    began = when(claim.began) if claim is not None else None
    return TaskResult(
        task=function,
        id=task.id,
        status=TaskResultStatus.RUNNING,
        enqueued_at=when(task.created),
        started_at=began,
        last_attempted_at=began,
        finished_at=None,
        args=args,
        kwargs=kwargs,
        backend=function.backend,
        errors=[],
        worker_ids=[claim.worker_id] * claim.attempt if claim is not None else [],
    )


def load_app(spec: str) -> ProjectApp:
    """The App named by ``module:attribute`` (or a dotted path)."""
    module, _, attribute = spec.partition(":")
    try:
        if attribute:
            app: ProjectApp = getattr(importlib.import_module(module), attribute)
        else:
            app = import_string(spec)
    except (ImportError, AttributeError) as exc:
        raise ConfigurationError(
            f"settings.TASKKIT['APP'] = {spec!r} cannot be loaded: {exc}"
        ) from None
    return app


def project_handler() -> DjangoHandler:
    """This project's handler (Django set up): tasks modules imported, the App loaded."""
    autodiscover_modules("tasks")
    spec = taskkit_settings().app
    return DjangoHandler(load_app(spec) if spec else None)


def worker_handler(settings_module: str) -> DjangoHandler:
    """The handler as a worker process rebuilds it: Django first, then the tasks."""
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", settings_module)
    django.setup()
    return project_handler()
