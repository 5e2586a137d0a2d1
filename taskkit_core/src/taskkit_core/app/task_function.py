"""The decorated task function: call it inline, or ``delay`` it to a worker.

``@app.task`` turns a plain function into a :class:`TaskFunction` (an
``async def`` function into an :class:`AsyncTaskFunction`). Both keep the
function's signature for the type checker (``ParamSpec``), so ``delay``
accepts exactly the function's arguments and ``delay(...).get()`` has the
function's return type.
"""

from __future__ import annotations

import asyncio
import functools
import inspect
from collections.abc import Callable, Coroutine, Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, Generic, ParamSpec, Protocol, TypeVar, cast

from ..errors import TaskkitError
from ..task import Task, Unique
from .calls import Call, TaskOptions
from .codecs import Codec, CodecFactory
from .context import running
from .event_loop import EVENT_LOOP
from .results import TaskResult
from .retry import Retry

P = ParamSpec("P")
R = TypeVar("R")

_BY_KEYWORD = (inspect.Parameter.POSITIONAL_OR_KEYWORD, inspect.Parameter.KEYWORD_ONLY)


class ArgumentsDecodeError(TaskkitError, TypeError):
    """A task's stored arguments do not fit its function (the task fails, never retried)."""


class Enqueuer(Protocol):
    """What puts calls into the backend: the app."""

    def delay_many(self, calls: Iterable[Call[Any]]) -> list[TaskResult[Any]]: ...


@dataclass(frozen=True)
class TaskSpec:
    """What a task function was declared with."""

    name: str
    group: str
    retry: Retry | None
    result_ttl: float
    codec: CodecFactory
    priority: int = 0
    timeout: float | None = None


class BaseTaskFunction(Generic[P, R]):
    """What sync and async task functions share: enqueueing, and running on a worker."""

    __name__: str  # the function's, as functools.wraps copies them
    __qualname__: str

    def __init__(self, app: Enqueuer, function: Callable[P, Any], spec: TaskSpec) -> None:
        functools.update_wrapper(cast(Any, self), function)
        self.app = app
        self.function = function
        self._target: Callable[..., Any] = function
        self.name = spec.name
        self.group = spec.group
        self.retry = spec.retry
        self.result_ttl = spec.result_ttl
        self.priority = spec.priority
        self.timeout = spec.timeout
        self.codec: Codec = spec.codec(function)
        self.is_async = inspect.iscoroutinefunction(function)
        self.signature = inspect.signature(function)
        parameters = self.signature.parameters.values()
        self._by_keyword = all(p.kind in _BY_KEYWORD for p in parameters)
        simple = all(p.kind is inspect.Parameter.POSITIONAL_OR_KEYWORD for p in parameters)
        self._positional = tuple(p.name for p in parameters) if simple else ()
        self._caller = TaskCaller(self, TaskOptions())

    def __repr__(self) -> str:
        return f"<task {self.name!r} (group {self.group!r})>"

    # -- enqueueing -----------------------------------------------------------------

    def delay(self, *args: P.args, **kwargs: P.kwargs) -> TaskResult[R]:
        """Put a call of this task into the queue; returns its result handle."""
        return self._caller.delay(*args, **kwargs)

    async def delay_async(self, *args: P.args, **kwargs: P.kwargs) -> TaskResult[R]:
        """``delay`` from a coroutine; the backend call runs on a thread."""
        return await self._caller.delay_async(*args, **kwargs)

    def call(self, *args: P.args, **kwargs: P.kwargs) -> Call[R]:
        """This call, encoded but not yet put: for ``delay_many``."""
        return self._caller.call(*args, **kwargs)

    def options(
        self,
        *,
        due: datetime | float | None = None,
        delay: float | timedelta | None = None,
        result_ttl: float | None = None,
        connection: Any = None,
        eager: bool = False,
        priority: int | None = None,
        unique: Unique | str | None = None,
        timeout: float | None = None,
        headers: Mapping[str, str] | None = None,
    ) -> TaskCaller[P, R]:
        """This task with options for its calls (TaskOptions): ``f.options(delay=60).delay(x)``."""
        options = TaskOptions(
            due=due,
            delay=delay,
            result_ttl=result_ttl,
            connection=connection,
            eager=eager,
            priority=priority,
            unique=unique,
            timeout=timeout,
            headers=headers,
        )
        return TaskCaller(self, options)

    def delay_many(self, calls: Iterable[Call[R]]) -> list[TaskResult[R]]:
        """Put many calls (from ``call`` or ``options(...).call``) in one backend call."""
        return cast(list[TaskResult[R]], self.app.delay_many(calls))

    def encode(self, args: tuple[Any, ...], kwargs: dict[str, Any]) -> bytes:
        """The call's arguments as bytes; TypeError when they do not fit or cannot be encoded."""
        try:
            return self.codec.encode_call(self._arguments(args, kwargs))
        except TypeError as exc:
            raise TypeError(f"task {self.name}: {exc}") from None

    def _arguments(self, args: tuple[Any, ...], kwargs: dict[str, Any]) -> dict[str, Any]:
        """Parameter name to value; every parameter given by position is the common case."""
        if not kwargs and args and len(args) == len(self._positional):
            return dict(zip(self._positional, args, strict=True))
        return self.signature.bind(*args, **kwargs).arguments

    # -- running (worker side) --------------------------------------------------------

    def run(self, task: Task) -> Any:
        """Decode ``task``'s arguments and call the function (on the event loop if async)."""
        arguments = self._decode(task)
        with running(task):
            if self.is_async:
                return EVENT_LOOP.run(self._invoke(arguments))
            return self._invoke(arguments)

    def _decode(self, task: Task) -> dict[str, Any]:
        try:
            return self.codec.decode_call(task.data)
        except Exception as exc:
            raise ArgumentsDecodeError(
                f"the stored arguments of task {task.id} do not fit task function {self.name}: "
                f"{type(exc).__name__}: {exc}"
            ) from exc

    def _invoke(self, arguments: dict[str, Any]) -> Any:
        if self._by_keyword:
            return self._target(**arguments)
        bound = inspect.BoundArguments(self.signature, arguments)
        return self._target(*bound.args, **bound.kwargs)


class TaskFunction(BaseTaskFunction[P, R]):
    """A plain function registered as a task; calling it runs it here, as before."""

    def __call__(self, *args: P.args, **kwargs: P.kwargs) -> R:
        return cast(R, self.function(*args, **kwargs))


class AsyncTaskFunction(BaseTaskFunction[P, R]):
    """An ``async def`` function registered as a task; calling it returns its coroutine."""

    def __call__(self, *args: P.args, **kwargs: P.kwargs) -> Coroutine[Any, Any, R]:
        return cast(Coroutine[Any, Any, R], self.function(*args, **kwargs))


class TaskCaller(Generic[P, R]):
    """A task function with the options of its next calls (``f.options(...)``)."""

    def __init__(self, function: BaseTaskFunction[P, R], options: TaskOptions) -> None:
        self.function = function
        self.options = options

    def call(self, *args: P.args, **kwargs: P.kwargs) -> Call[R]:
        """This call with these options, encoded but not yet put."""
        return Call(self.function, self.function.encode(args, kwargs), self.options)

    def delay(self, *args: P.args, **kwargs: P.kwargs) -> TaskResult[R]:
        """Put this call; returns its result handle."""
        (result,) = self.function.app.delay_many([self.call(*args, **kwargs)])
        return cast(TaskResult[R], result)

    async def delay_async(self, *args: P.args, **kwargs: P.kwargs) -> TaskResult[R]:
        """``delay`` from a coroutine; the backend call runs on a thread."""
        return await asyncio.to_thread(self.delay, *args, **kwargs)
