"""The TaskHandler an App gives its Kit: the low-level protocol, implemented from task functions.

It routes each task to the function registered under its name, encodes with
that function's codec and asks its retry policy for ``get_retry_interval``.
Errors no retry can fix (an unknown name, arguments that no longer fit the
function, a result the codec cannot encode) fail the task at once.

A worker process started with spawn or forkserver receives the handler
pickled: it travels as the place of its App (module and attribute), and the
child imports that module and the app's includes, so it registers the same
task functions.
"""

from __future__ import annotations

import importlib
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

import msgspec

from ..errors import ConfigurationError
from ..task import Task
from .codecs import ResultEncodeError
from .registry import TaskRegistry, UnknownTask
from .retry import retry_interval
from .task_function import ArgumentsDecodeError

if TYPE_CHECKING:
    from .app import App

NEVER_RETRIED = (UnknownTask, ArgumentsDecodeError, ResultEncodeError)
"""Failures that are the same on every attempt."""


class AppHandler:
    """Runs, encodes and retries tasks as the App's task functions declare."""

    def __init__(self, app: App) -> None:
        self.app = app
        self.registry: TaskRegistry = app.registry

    def __repr__(self) -> str:
        return f"AppHandler({self.app.name!r})"

    def __reduce__(self) -> tuple[Any, ...]:
        module, attribute = self.app.location()
        return (handler_of_app, (module, attribute, *self.app.overrides()))

    def handle(self, task: Task) -> Any:
        return self.registry.lookup(task.name).run(task)

    def get_retry_interval(self, task: Task, exception: Exception) -> float | None:
        if isinstance(exception, NEVER_RETRIED):
            return None
        function = self.registry.get(task.name)
        policy = None if function is None else function.retry
        return retry_interval(policy, task.retry_count, exception)

    def encode_data(self, group: str, task_name: str, data: Any) -> bytes:
        """The arguments given as data (a dict of keywords, a list of positionals, or None)."""
        function = self.registry.get(task_name)
        if function is None:
            raise ConfigurationError(self.registry.unknown_message(task_name))
        if isinstance(data, Mapping):
            return function.encode((), dict(data))
        if isinstance(data, list | tuple):
            return function.encode(tuple(data), {})
        if data is None:
            return function.encode((), {})
        raise TypeError(
            f"task {task_name}: data must be a dict of keyword arguments, a list of positional "
            f"ones, or null; got {type(data).__name__}"
        )

    def encode_result(self, task: Task, result: Any) -> bytes:
        return self.registry.lookup(task.name).codec.encode_result(result)

    def decode_result(self, task: Task, encoded: bytes) -> Any:
        """Typed by the task function when this process knows it, plain JSON otherwise."""
        function = self.registry.get(task.name)
        if function is None:
            return msgspec.json.decode(encoded)
        return function.codec.decode_result(encoded)


def handler_of_app(
    module: str, attribute: str, url: str | None, options: dict[str, Any]
) -> AppHandler:
    """The handler of the App at ``module:attribute``, as a worker process rebuilds it."""
    app = getattr(importlib.import_module(module), attribute)
    if not app.kit_opened:
        app.configure(url, **options)
    app.registry.import_includes()
    handler: AppHandler = app.handler
    return handler
