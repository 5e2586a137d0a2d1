"""Waiting for a task's result."""

from __future__ import annotations

import time
from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from typing import Any, Generic, TypeVar, overload

from .backend import Backend, CancelResult
from .errors import NoResult, TaskkitError
from .handler import TaskHandler

T = TypeVar("T")

_UNSET: Any = object()

FIRST_POLL_DELAY = 0.005
MAX_POLL_DELAY = 0.5


class ResultGetTimedOut(TaskkitError):
    """``Result.get`` gave up: the task did not finish within the timeout."""


class ResultGetPrevented(TaskkitError):
    """``Result.get`` was called inside a running task, where waiting can deadlock the pool."""


_prevent_reason: ContextVar[str | None] = ContextVar("taskkit_prevent_wait", default=None)


@contextmanager
def prevent_to_wait_result(reason: str) -> Iterator[None]:
    """Make ``Result.get`` raise ResultGetPrevented(reason) inside this block."""
    token = _prevent_reason.set(reason)
    try:
        yield
    finally:
        _prevent_reason.reset(token)


class Result(Generic[T]):
    """The result of one task, fetched from the backend when asked for.

    ``duplicate`` is True when the put was refused because a task with the
    same unique key was held: ``task_id`` is then the holder's.
    """

    @overload
    def __init__(
        self, backend: Backend, handler: TaskHandler, task_id: str, *, duplicate: bool = False
    ) -> None: ...

    @overload
    def __init__(
        self,
        backend: Backend,
        handler: TaskHandler,
        task_id: str,
        *,
        result: T,
        duplicate: bool = False,
    ) -> None: ...

    def __init__(
        self,
        backend: Backend,
        handler: TaskHandler,
        task_id: str,
        *,
        result: T = _UNSET,
        duplicate: bool = False,
    ) -> None:
        self.backend = backend
        self.handler = handler
        self.task_id = task_id
        self.duplicate = duplicate
        self._result = result

    def __repr__(self) -> str:
        extra = ", duplicate=True" if self.duplicate else ""
        return f"Result(task_id={self.task_id!r}{extra})"

    def cancel(self) -> CancelResult:
        """Cancel the task (see ``Backend.cancel_tasks``): what happened, as a CancelResult."""
        return self.backend.cancel_tasks(self.task_id)[self.task_id]

    def get(self, timeout: float | None = None, avoid_assertion: bool = False) -> T:
        """Wait for the task to finish and return its decoded result.

        Polls the backend with a growing delay (5 ms up to 0.5 s). Raises
        Failed (with the task's error message) when the task failed,
        Cancelled (a Failed) when it was cancelled,
        NotFound when there is no such task, ResultGetTimedOut after
        ``timeout`` seconds (None: wait for ever), and ResultGetPrevented
        when called inside a running task unless ``avoid_assertion``.
        """
        reason = _prevent_reason.get()
        if reason is not None and not avoid_assertion:
            raise ResultGetPrevented(reason)
        if self._result is not _UNSET:
            return self._result
        deadline = None if timeout is None else time.monotonic() + timeout
        delay = FIRST_POLL_DELAY
        while True:
            try:
                return self._fetch()
            except NoResult:
                pass
            if deadline is not None:
                remaining = deadline - time.monotonic()
                if remaining <= 0:
                    raise ResultGetTimedOut(
                        f"task {self.task_id} did not finish within {timeout} s"
                    )
                delay = min(delay, remaining)
            time.sleep(delay)
            delay = min(delay * 2, MAX_POLL_DELAY)

    def _fetch(self) -> T:
        task, encoded = self.backend.get_result(self.task_id)
        value: T = self.handler.decode_result(task, encoded)
        self._result = value
        return value
