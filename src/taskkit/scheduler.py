"""taskkit 0.2's ``taskkit.scheduler``: schedules and their entries, from taskkit_core."""

from taskkit_core import (
    DuplicationPolicy,
    OnlyEarliest,
    OnlyLatest,
    RegularSchedule,
    Schedule,
    ScheduleEntry,
)

__all__ = [
    "DuplicationPolicy",
    "OnlyEarliest",
    "OnlyLatest",
    "RegularSchedule",
    "Schedule",
    "ScheduleEntry",
]
