"""Schedules: tasks created on a 5-second grid, at most once per point.

A Scheduler service walks the grid points passed since its last run, asks
each entry's schedule which of them to fire, and stores its new state and
the tasks it made in one compare-and-set step. The state therefore never
says a point ran without its task existing, and two schedulers (in two
processes) can never both enqueue the same point. That is why schedulers
need no lock (taskkit 0.2 took one): every worker process runs them, the
first to store a point wins, and a scheduler killed mid-step delays nothing.

Missed points (the scheduler was down) are handed to the entry's
DuplicationPolicy: OnlyLatest (the default) fires the latest missed point
once, OnlyEarliest the earliest. At most the last 7 days are considered.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Iterable
from dataclasses import asdict, dataclass, field
from datetime import datetime, tzinfo
from typing import Literal, Protocol

from .backend import Backend
from .clock import as_ts, cur_ts, from_ts
from .task import DEFAULT_TASK_TTL, Task, check_name

logger = logging.getLogger("taskkit.scheduler")

SCHEDULE_POINT_INTERVAL = 5
"""Seconds between two points of the schedule grid."""

MAX_CATCH_UP = 7 * 24 * 3600
"""Missed points older than this (seconds) are not considered."""

FieldSpec = Literal["*"] | set[int] | int | None


class Schedule(Protocol):
    def get_timezone(self) -> tzinfo | None:
        """The zone the points are given in; None means the scheduler's zone."""
        ...

    def __call__(
        self, schedule_points: list[datetime], last_scheduled_at: datetime | None, /
    ) -> list[datetime]:
        """The points (out of ``schedule_points``) at which to create a task."""
        ...


class DuplicationPolicy(Protocol):
    def __call__(
        self, schedule_points: list[datetime], last_scheduled_at: datetime | None, /
    ) -> list[datetime]:
        """Which of several matching points to fire."""
        ...


class OnlyEarliest:
    """Fire only the earliest of the matching points."""

    def __call__(
        self, schedule_points: list[datetime], last_scheduled_at: datetime | None, /
    ) -> list[datetime]:
        return schedule_points[:1]


class OnlyLatest:
    """Fire only the latest of the matching points (the default)."""

    def __call__(
        self, schedule_points: list[datetime], last_scheduled_at: datetime | None, /
    ) -> list[datetime]:
        return schedule_points[-1:]


class RegularSchedule:
    """Cron-like fields on the 5-second grid.

    Each field is ``'*'`` or None (every value), one int, or a set of ints.
    ``seconds`` must be multiples of 5 and defaults to 0; weekdays are 0
    (Monday) to 6.
    """

    _seconds = frozenset(range(0, 60, SCHEDULE_POINT_INTERVAL))
    _minutes = frozenset(range(60))
    _hours = frozenset(range(24))
    _days = frozenset(range(1, 32))
    _weekdays = frozenset(range(7))
    _months = frozenset(range(1, 13))

    def __init__(
        self,
        seconds: FieldSpec = 0,
        minutes: FieldSpec = None,
        hours: FieldSpec = None,
        days: FieldSpec = None,
        weekdays: FieldSpec = None,
        months: FieldSpec = None,
        tzinfo: tzinfo | None = None,
        duplication_policy: DuplicationPolicy | None = None,
    ) -> None:
        self.seconds = self._ensure("seconds", seconds, self._seconds)
        self.minutes = self._ensure("minutes", minutes, self._minutes)
        self.hours = self._ensure("hours", hours, self._hours)
        self.days = self._ensure("days", days, self._days)
        self.weekdays = self._ensure("weekdays", weekdays, self._weekdays)
        self.months = self._ensure("months", months, self._months)
        self.tzinfo = tzinfo
        self.duplication_policy = duplication_policy or OnlyLatest()

    def get_timezone(self) -> tzinfo | None:
        return self.tzinfo

    @staticmethod
    def _ensure(key: str, value: FieldSpec, valid: frozenset[int]) -> frozenset[int]:
        if value is None or value == "*":
            return valid
        values = {value} if isinstance(value, int) else set(value)
        invalid = sorted(v for v in values if v not in valid)
        if invalid:
            raise ValueError(f"{key} {invalid} out of range; allowed: {sorted(valid)}")
        return frozenset(values)

    def __call__(
        self, schedule_points: list[datetime], last_scheduled_at: datetime | None, /
    ) -> list[datetime]:
        matching = [p for p in schedule_points if self._matches(p)]
        return self.duplication_policy(matching, last_scheduled_at)

    def _matches(self, point: datetime) -> bool:
        return (
            point.second in self.seconds
            and point.minute in self.minutes
            and point.hour in self.hours
            and point.day in self.days
            and point.weekday() in self.weekdays
            and point.month in self.months
        )


@dataclass(frozen=True)
class ScheduleEntry:
    """One scheduled kind of task: ``data`` is already encoded."""

    key: str
    schedule: Schedule
    group: str
    name: str
    data: bytes
    result_ttl: float | None = None

    def __post_init__(self) -> None:
        check_name("group", self.group)
        check_name("task name", self.name)


@dataclass(frozen=True)
class SchedulerState:
    """What a scheduler persists: the last grid point it handled, per entry the last fired."""

    last_run_at: float
    last_scheduled_at: dict[str, float] = field(default_factory=dict)

    def encode(self) -> bytes:
        return json.dumps(asdict(self), sort_keys=True).encode()

    @classmethod
    def decode(cls, data: bytes | None) -> SchedulerState | None:
        if data is None:
            return None
        return cls(**json.loads(data.decode()))


class Scheduler:
    """The service that creates the tasks of one named list of entries."""

    def __init__(
        self, name: str, backend: Backend, entries: Iterable[ScheduleEntry], tzinfo: tzinfo
    ) -> None:
        self.entries = list(entries)
        if len(self.entries) != len({e.key for e in self.entries}):
            raise ValueError(f"schedule {name!r}: entry keys must be unique")
        self.name = name
        self.backend = backend
        self.tzinfo = tzinfo

    def __call__(self) -> float:
        start = _grid(cur_ts())
        if self.entries:
            self.schedule_due_points()
        return max(0.0, start + SCHEDULE_POINT_INTERVAL - cur_ts())

    def schedule_due_points(self) -> bool:
        """Create the tasks of the grid points passed since the last run.

        False when another scheduler stored its state first (nothing done).
        """
        raw = self.backend.get_scheduler_state(self.name)
        state = SchedulerState.decode(raw)
        points = _points_since(state, _grid(cur_ts()))
        if not points:
            return True
        last = dict(state.last_scheduled_at) if state else {}
        tasks = [task for entry in self.entries for task in self._tasks_of(entry, points, last)]
        new_state = SchedulerState(last_run_at=points[-1], last_scheduled_at=last)
        stored = self.backend.persist_scheduler_state_and_put_tasks(
            self.name, new_state.encode(), *tasks, expected=raw
        )
        if not stored:
            logger.debug("schedule %s: another scheduler ran this point first", self.name)
        return stored

    def _tasks_of(
        self, entry: ScheduleEntry, points: list[float], last: dict[str, float]
    ) -> list[Task]:
        tz = entry.schedule.get_timezone() or self.tzinfo
        previous = last.get(entry.key)
        fire = entry.schedule(
            [from_ts(p, tz) for p in points],
            from_ts(previous, tz) if previous is not None else None,
        )
        tasks = []
        for point in fire:
            last[entry.key] = as_ts(point)
            task = Task.init(
                group=entry.group,
                name=entry.name,
                data=entry.data,
                due=point,
                scheduled=point,
                ttl=DEFAULT_TASK_TTL if entry.result_ttl is None else entry.result_ttl,
            )
            logger.info("schedule %s: task %s (%s) at %s", self.name, task.id, task.name, point)
            tasks.append(task)
        return tasks


def _grid(ts: float) -> float:
    return ts // SCHEDULE_POINT_INTERVAL * SCHEDULE_POINT_INTERVAL


def _points_since(state: SchedulerState | None, now_point: float) -> list[float]:
    if state is None:
        return [now_point]
    if state.last_run_at >= now_point:
        return []
    first = max(state.last_run_at + SCHEDULE_POINT_INTERVAL, _grid(now_point - MAX_CATCH_UP))
    count = int((now_point - first) // SCHEDULE_POINT_INTERVAL) + 1
    return [first + i * SCHEDULE_POINT_INTERVAL for i in range(count)]
