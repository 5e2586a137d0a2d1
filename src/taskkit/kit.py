"""taskkit 0.2's ``taskkit.kit``: Kit and the shapes of its arguments, from taskkit_core."""

from taskkit_core import (
    InitiateTaskArgs,
    Kit,
    ScheduleEntriesCompat,
    ScheduleEntriesCompatMapping,
    ScheduleEntryCompat,
    ScheduleEntryDict,
)

__all__ = [
    "InitiateTaskArgs",
    "Kit",
    "ScheduleEntriesCompat",
    "ScheduleEntriesCompatMapping",
    "ScheduleEntryCompat",
    "ScheduleEntryDict",
]
