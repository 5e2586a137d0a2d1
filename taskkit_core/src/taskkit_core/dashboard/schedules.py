"""The schedules page: each entry's last and next point.

What the protocol gives: ``get_scheduler_state(name)`` answers a
scheduler's stored state (the last grid point it handled, and per entry
key the last point it fired). It keeps no list of names and no entries,
so the dashboard needs the application's schedule (``--app``, whose
SCHEDULE the workers run, or ``create_app(schedules=...)``). The next
point is worked out from the entry's schedule, looking at most LOOK_AHEAD
seconds ahead.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from ..backend import Backend
from ..clock import cur_ts, from_ts, local_tz
from ..scheduler import SCHEDULE_POINT_INTERVAL, Schedule, SchedulerState

logger = logging.getLogger("taskkit.dashboard")

LOOK_AHEAD = 8 * 24 * 3600.0
CHUNK = 720  # grid points looked at per call of the schedule (an hour)


@dataclass(frozen=True)
class ScheduleRow:
    """One entry: where it is defined, what it makes, and its last and next point."""

    schedule: str
    key: str
    group: str
    name: str
    last: float | None
    next: float | None
    handled: float | None  # the last grid point the scheduler handled


def _field(entry: Any, name: str) -> Any:
    return entry[name] if isinstance(entry, Mapping) else getattr(entry, name)


def schedule_rows(backend: Backend, schedules: Mapping[str, Sequence[Any]]) -> list[ScheduleRow]:
    """A row per entry of every named schedule, with the state stored for it."""
    now, rows = cur_ts(), []
    for name, entries in sorted(schedules.items()):
        state = SchedulerState.decode(backend.get_scheduler_state(name))
        last_points = state.last_scheduled_at if state else {}
        for entry in entries:
            key = _field(entry, "key")
            last = last_points.get(key)
            rows.append(
                ScheduleRow(
                    schedule=name,
                    key=key,
                    group=_field(entry, "group"),
                    name=_field(entry, "name"),
                    last=last,
                    next=next_point(_field(entry, "schedule"), max(now, last or now), last),
                    handled=state.last_run_at if state else None,
                )
            )
    return rows


def next_point(schedule: Schedule, after: float, last: float | None) -> float | None:
    """The first grid point after ``after`` at which ``schedule`` fires (None: not soon)."""
    tz = schedule.get_timezone() or local_tz()
    first = (after // SCHEDULE_POINT_INTERVAL + 1) * SCHEDULE_POINT_INTERVAL
    previous = from_ts(last, tz) if last is not None else None
    for start in range(int(first), int(first + LOOK_AHEAD), CHUNK * SCHEDULE_POINT_INTERVAL):
        points = [from_ts(start + i * SCHEDULE_POINT_INTERVAL, tz) for i in range(CHUNK)]
        if _fires(schedule, points, previous):
            return _earliest(schedule, points, previous).timestamp()
    return None


def _fires(schedule: Schedule, points: list[datetime], previous: datetime | None) -> bool:
    try:
        return bool(schedule(points, previous))
    except Exception:  # an application's schedule that breaks shows no next point
        logger.exception("dashboard: a schedule raised while looking for its next point")
        return False


def _earliest(schedule: Schedule, points: list[datetime], previous: datetime | None) -> datetime:
    """The first of ``points`` that fires, by halving (the schedule may keep only the latest)."""
    while len(points) > 1:
        half = points[: len(points) // 2]
        points = half if _fires(schedule, half, previous) else points[len(half) :]
    return points[0]
