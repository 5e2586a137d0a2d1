"""Schedules on the 5-second grid."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from taskkit_core import OnlyEarliest, OnlyLatest, RegularSchedule


def points(*texts: str) -> list[datetime]:
    return [datetime.fromisoformat(t).replace(tzinfo=UTC) for t in texts]


def test_fields_filter_points() -> None:
    schedule = RegularSchedule(seconds=0, minutes={0, 30}, hours=9, weekdays={0, 1, 2, 3, 4})
    candidates = points(
        "2026-11-30T09:00:00",  # a Monday
        "2026-11-30T09:30:00",
        "2026-11-30T09:30:05",
        "2026-11-30T10:00:00",
        "2026-11-29T09:00:00",  # a Sunday
    )
    assert schedule._matches(candidates[0]) and schedule._matches(candidates[1])
    assert [schedule._matches(p) for p in candidates[2:]] == [False, False, False]


def test_duplication_policies_pick_one_point() -> None:
    missed = points("2026-01-01T00:00:00", "2026-01-01T00:01:00", "2026-01-01T00:02:00")
    every_minute = RegularSchedule(seconds=0)
    assert every_minute(missed, None) == missed[-1:]
    assert RegularSchedule(seconds=0, duplication_policy=OnlyEarliest())(missed, None) == missed[:1]
    assert OnlyLatest()([], None) == []


@pytest.mark.parametrize(
    "kwargs",
    [{"seconds": 3}, {"minutes": 60}, {"hours": {1, 24}}, {"days": 0}, {"months": 13}],
)
def test_out_of_range_fields_are_refused(kwargs: dict[str, int | set[int]]) -> None:
    with pytest.raises(ValueError, match="out of range"):
        RegularSchedule(**kwargs)  # type: ignore[arg-type]
