"""Periodic tasks: cron expressions and fixed intervals on the scheduler's 5-second grid.

Both are :class:`~taskkit_core.scheduler.Schedule` objects, so they run on
the existing Scheduler: every worker process runs one, and the
compare-and-set of the scheduler state makes each point fire once across
all of them. A point fires at the first grid point at or after it, so a
periodic task is due at most 5 s late (plus the time a worker takes to
claim it); cron seconds must be multiples of 5.

Cron expressions have five fields (minute hour day month weekday) or six
(seconds first), read by cronsim, which follows Debian cron, daylight saving
time included: in the zone given (default: the worker's local zone), a job
at 02:30 runs once on the day the clocks skip that hour and once on the day
it repeats.
"""

from __future__ import annotations

import math
from datetime import datetime, timedelta, tzinfo

from cronsim import CronSim, CronSimError

from ..errors import ConfigurationError
from ..scheduler import SCHEDULE_POINT_INTERVAL, DuplicationPolicy, OnlyLatest


class CronSchedule:
    """The points of a cron expression, in ``tzinfo`` (None: the scheduler's zone)."""

    def __init__(
        self,
        expression: str,
        tzinfo: tzinfo | None = None,
        duplication_policy: DuplicationPolicy | None = None,
    ) -> None:
        self.expression = expression
        self.tzinfo = tzinfo
        self.duplication_policy = duplication_policy or OnlyLatest()
        self._check()

    def __repr__(self) -> str:
        return f"CronSchedule({self.expression!r})"

    def _check(self) -> None:
        try:
            probe = CronSim(self.expression, datetime(2000, 1, 1))
        except (CronSimError, ValueError, AttributeError) as exc:
            raise ConfigurationError(f"bad cron expression {self.expression!r}: {exc}") from None
        odd = sorted(s for s in probe.seconds if s % SCHEDULE_POINT_INTERVAL)
        if odd:
            raise ConfigurationError(
                f"cron expression {self.expression!r} fires at second(s) {odd}; the scheduler "
                f"runs on a {SCHEDULE_POINT_INTERVAL}-second grid, so use multiples of 5"
            )

    def get_timezone(self) -> tzinfo | None:
        return self.tzinfo

    def __call__(
        self, schedule_points: list[datetime], last_scheduled_at: datetime | None, /
    ) -> list[datetime]:
        if not schedule_points:
            return []
        wanted = self._times_between(schedule_points[0], schedule_points[-1])
        matching = [p for p in schedule_points if _grid_ts(p) in wanted]
        return self.duplication_policy(matching, last_scheduled_at)

    def _times_between(self, first: datetime, last: datetime) -> set[float]:
        """The cron times in (first - one grid step, last], as grid timestamps."""
        times: set[float] = set()
        end = last.timestamp()
        for when in CronSim(self.expression, first - timedelta(seconds=SCHEDULE_POINT_INTERVAL)):
            ts = when.timestamp()
            if ts > end:
                break
            times.add(math.ceil(ts / SCHEDULE_POINT_INTERVAL) * SCHEDULE_POINT_INTERVAL)
        return times


class IntervalSchedule:
    """Every ``seconds`` (a multiple of 5), on the points where the epoch time divides by it.

    Every 60 s fires at each whole minute, every 3600 s at each whole hour
    (UTC), whichever process runs the scheduler; use a cron expression for
    times of day in a time zone.
    """

    def __init__(
        self, seconds: float | timedelta, duplication_policy: DuplicationPolicy | None = None
    ) -> None:
        total = seconds.total_seconds() if isinstance(seconds, timedelta) else seconds
        if isinstance(total, bool) or not isinstance(total, int | float) or not total > 0:
            raise ConfigurationError(f"every must be a positive number of seconds, got {seconds!r}")
        if total % SCHEDULE_POINT_INTERVAL:
            raise ConfigurationError(
                f"every={seconds!r}: the scheduler runs on a {SCHEDULE_POINT_INTERVAL}-second "
                "grid, so intervals must be multiples of 5 seconds"
            )
        self.seconds = int(total)
        self.duplication_policy = duplication_policy or OnlyLatest()

    def __repr__(self) -> str:
        return f"IntervalSchedule({self.seconds})"

    def get_timezone(self) -> tzinfo | None:
        return None

    def __call__(
        self, schedule_points: list[datetime], last_scheduled_at: datetime | None, /
    ) -> list[datetime]:
        matching = [p for p in schedule_points if _grid_ts(p) % self.seconds == 0]
        return self.duplication_policy(matching, last_scheduled_at)


def _grid_ts(point: datetime) -> float:
    """The grid timestamp of a point (points are whole multiples of the grid step)."""
    return float(round(point.timestamp()))


def schedule_of(
    cron: str | None,
    every: float | timedelta | None,
    tzinfo: tzinfo | None,
    duplication_policy: DuplicationPolicy | None,
) -> CronSchedule | IntervalSchedule:
    """The schedule of ``@app.periodic``: exactly one of ``cron`` and ``every``."""
    if (cron is None) == (every is None):
        raise ConfigurationError("a periodic task needs exactly one of cron= and every=")
    if cron is not None:
        return CronSchedule(cron, tzinfo, duplication_policy)
    if tzinfo is not None:
        raise ConfigurationError("tz= applies to cron= only; intervals count from the epoch")
    assert every is not None
    return IntervalSchedule(every, duplication_policy)
