"""One enqueue request: a task function's encoded arguments plus the options of the call."""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any, Generic, TypeVar

from ..clock import as_ts, cur_ts
from ..errors import ConfigurationError
from ..task import Task, Unique

if TYPE_CHECKING:
    from .task_function import BaseTaskFunction

R = TypeVar("R")


@dataclass(frozen=True)
class TaskOptions:
    """Options of one call; None leaves the task function's default.

    due: not before this time (a datetime, naive meaning local time, or
        seconds since the epoch). delay: not before this many seconds (or
        a timedelta) from now; give one of the two. result_ttl: how long the
        finished task and its result are kept. connection: the application's
        open SQLAlchemy connection, to enqueue inside its transaction (SQL
        backends). eager: run the task here and now, storing its result.
        priority: -100..100, higher runs first in its group. unique: a
        Unique (or its key alone): while the holder of the key counts, this
        call gives the holder's result (``duplicate`` is True). timeout:
        seconds each attempt may run. headers: strings that travel with the
        task (``current_task().headers``).
    """

    due: datetime | float | None = None
    delay: float | timedelta | None = None
    result_ttl: float | None = None
    connection: Any = None
    eager: bool = False
    priority: int | None = None
    unique: Unique | str | None = None
    timeout: float | None = None
    headers: Mapping[str, str] | None = None

    def __post_init__(self) -> None:
        if self.due is not None and self.delay is not None:
            raise ConfigurationError("give due or delay, not both")
        if self.delay is not None:
            seconds = _seconds(self.delay)
            if not math.isfinite(seconds) or seconds < 0:
                raise ConfigurationError(f"delay must be >= 0 seconds, got {self.delay!r}")

    def due_ts(self) -> float | None:
        """The due time as a timestamp (None: now)."""
        if self.delay is not None:
            return cur_ts() + _seconds(self.delay)
        return as_ts(self.due)


def _seconds(value: float | timedelta) -> float:
    if isinstance(value, timedelta):
        return value.total_seconds()
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise ConfigurationError(f"delay must be seconds or a timedelta, got {value!r}")
    return float(value)


@dataclass(frozen=True, eq=False)
class Call(Generic[R]):
    """A call of a task function, encoded and ready to be put (see ``delay_many``)."""

    function: BaseTaskFunction[Any, R]
    data: bytes
    options: TaskOptions

    def __repr__(self) -> str:
        return f"Call({self.function.name!r}, data=<{len(self.data)} bytes>)"

    def to_task(self) -> Task:
        """The task this call puts, validated."""
        options, function = self.options, self.function
        unique = options.unique
        return Task.init(
            function.group,
            function.name,
            self.data,
            due=options.due_ts(),
            ttl=function.result_ttl if options.result_ttl is None else options.result_ttl,
            priority=function.priority if options.priority is None else options.priority,
            unique=Unique(unique) if isinstance(unique, str) else unique,
            timeout=function.timeout if options.timeout is None else options.timeout,
            headers=options.headers,
        )
