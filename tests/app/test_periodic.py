"""Periodic tasks: cron (time-zone aware) and intervals on the scheduler's 5-second grid."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from taskkit_core.clock import local_tz, reset_cur_ts_impl, set_cur_ts_impl
from taskkit_core.scheduler import Scheduler
from taskkit_core.testing import wait_until

from app.shop_reports import heartbeat_report
from taskkit_core import (
    App,
    ConfigurationError,
    CronSchedule,
    IntervalSchedule,
    OnlyEarliest,
    OnlyLatest,
    Task,
)

from .conftest import StartWorkers

PARIS = ZoneInfo("Europe/Paris")


def grid(start: datetime, minutes: float) -> list[datetime]:
    """The 5-second grid points from ``start`` on, for ``minutes`` minutes (as the scheduler)."""
    first = start.timestamp()
    return [datetime.fromtimestamp(first + 5 * i, start.tzinfo) for i in range(int(minutes * 12))]


def fired(schedule: CronSchedule | IntervalSchedule, points: list[datetime]) -> list[str]:
    return [p.isoformat() for p in schedule(points, None)]


def test_a_cron_expression_fires_at_its_times_in_its_zone() -> None:
    every_quarter = CronSchedule("*/15 * * * *", duplication_policy=_All())
    start = datetime(2030, 1, 31, 8, 0, tzinfo=PARIS)
    assert fired(every_quarter, grid(start, 31)) == [
        "2030-01-31T08:00:00+01:00",
        "2030-01-31T08:15:00+01:00",
        "2030-01-31T08:30:00+01:00",
    ]
    six_seconds_fields = CronSchedule("*/20 * * * * *", duplication_policy=_All())
    assert len(fired(six_seconds_fields, grid(start, 1))) == 3


def test_cron_follows_daylight_saving_time() -> None:
    nightly = CronSchedule("30 2 * * *", PARIS, duplication_policy=_All())
    # 2030-03-31: Paris skips 02:00-03:00; cron (as Debian's) runs the job at 03:00.
    spring = datetime(2030, 3, 31, 0, 0, tzinfo=UTC).astimezone(PARIS)
    assert fired(nightly, grid(spring, 4 * 60)) == ["2030-03-31T03:00:00+02:00"]
    # 2030-10-27: 02:30 happens twice; the job runs once.
    autumn = datetime(2030, 10, 26, 23, 0, tzinfo=UTC).astimezone(PARIS)
    assert fired(nightly, grid(autumn, 4 * 60)) == ["2030-10-27T02:30:00+02:00"]


def test_missed_points_follow_the_duplication_policy() -> None:
    start = datetime(2030, 1, 31, 8, 0, tzinfo=UTC)
    points = grid(start, 10)
    assert fired(CronSchedule("* * * * *"), points) == ["2030-01-31T08:09:00+00:00"]
    earliest = CronSchedule("* * * * *", duplication_policy=OnlyEarliest())
    assert fired(earliest, points) == ["2030-01-31T08:00:00+00:00"]
    assert isinstance(CronSchedule("* * * * *").duplication_policy, OnlyLatest)


def test_intervals_fire_where_epoch_time_divides_by_them() -> None:
    start = datetime(2030, 1, 31, 8, 0, 2, tzinfo=UTC).replace(second=0)
    every_20 = IntervalSchedule(20, duplication_policy=_All())
    assert fired(every_20, grid(start, 1)) == [
        f"2030-01-31T08:00:{s:02d}+00:00" for s in (0, 20, 40)
    ]
    assert IntervalSchedule(timedelta(minutes=1)).seconds == 60


@pytest.mark.parametrize(
    ("arguments", "message"),
    [
        ({"cron": "61 * * * *"}, "bad cron expression '61 \\* \\* \\* \\*'"),
        ({"cron": "*/7 * * * * *"}, "fires at second"),
        ({"every": 7}, "multiples of 5 seconds"),
        ({"every": 0}, "positive number of seconds"),
        ({}, "exactly one of cron= and every="),
        ({"cron": "* * * * *", "every": 5}, "exactly one of cron= and every="),
        ({"every": 5, "tz": PARIS}, "tz= applies to cron= only"),
    ],
)
def test_bad_schedules_are_refused(arguments: dict[str, object], message: str) -> None:
    app = App("memory://")
    with pytest.raises(ConfigurationError, match=message):
        app.periodic(**arguments)  # type: ignore[arg-type]


def test_a_periodic_function_must_do_without_arguments() -> None:
    app = App("memory://")
    with pytest.raises(ConfigurationError, match="needs n; give them defaults"):

        @app.periodic(every=5)
        def needs(n: int) -> None: ...


def test_any_number_of_schedulers_put_each_point_once() -> None:
    app = App("memory://", namespace="periodic_once")

    @app.periodic(every=5, group="ticks")
    def tick(label: str = "tick") -> str:
        return label

    (schedule_name, entries), *_ = app.schedule_entries().items()
    assert schedule_name == "periodic:app.test_periodic" and entries[0].key == tick.name
    backend = app.kit.backend
    schedulers = [Scheduler(schedule_name, backend, entries, local_tz()) for _ in range(3)]
    base = 1_900_000_000.0
    try:
        for offset in (1, 6, 11, 12):
            set_cur_ts_impl(lambda offset=offset: base + offset)  # type: ignore[misc]
            for scheduler in schedulers:
                scheduler.schedule_due_points()
    finally:
        reset_cur_ts_impl()
    queued = backend.get_queued_tasks("ticks", 10)
    assert [t.scheduled for t in queued] == [base, base + 5, base + 10]
    assert all(t.name == tick.name for t in queued)
    backend.destroy_all()


class _All:
    """A duplication policy that keeps every matching point (to see them all)."""

    def __call__(
        self, schedule_points: list[datetime], last_scheduled_at: datetime | None, /
    ) -> list[datetime]:
        return schedule_points


def test_workers_of_an_app_run_its_periodic_tasks(memory_shop: App, workers: StartWorkers) -> None:
    workers(memory_shop, {"reports": 1})
    backend = memory_shop.kit.backend

    def ran() -> list[Task]:
        done = backend.lookup_tasks(*backend.get_done_task_ids(None, None, 10))
        return [t for t in done.values() if t is not None and t.name == heartbeat_report.name]

    (task, *_) = wait_until(ran, timeout=15)
    assert task.scheduled is not None and task.scheduled % 5 == 0
    assert memory_shop.get_result(task.id).get(timeout=1) == "tick"
