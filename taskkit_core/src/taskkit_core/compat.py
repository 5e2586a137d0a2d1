"""Names kept for programs written for taskkit 0.2, and what they need.

taskkit 0.2 took schedule entries as dicts whose ``data`` the Kit encodes
with the handler (:class:`ScheduleEntryDict`), mixed freely with
:class:`~taskkit_core.ScheduleEntry` objects, under these type names. They
stay importable from ``taskkit_core``; new code can pass ScheduleEntry
objects with encoded data.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any, NotRequired, TypedDict

from .handler import TaskHandler
from .scheduler import Schedule, ScheduleEntry


class ScheduleEntryDict(TypedDict):
    """A schedule entry as taskkit 0.2 took it: ``data`` not yet encoded."""

    key: str
    schedule: Schedule
    group: str
    name: str
    data: Any
    result_ttl: NotRequired[float | None]


ScheduleEntryCompat = ScheduleEntry | ScheduleEntryDict
ScheduleEntriesCompat = Sequence[ScheduleEntryCompat]
ScheduleEntriesCompatMapping = Mapping[str, ScheduleEntriesCompat]


def encode_schedule_entries(
    handler: TaskHandler, entries: ScheduleEntriesCompatMapping | None
) -> dict[str, list[ScheduleEntry]]:
    """Every named list of entries as ScheduleEntry objects, dict entries encoded by ``handler``."""
    return {
        name: [_encode_schedule_entry(handler, e) for e in items]
        for name, items in (entries or {}).items()
    }


def _encode_schedule_entry(handler: TaskHandler, entry: ScheduleEntryCompat) -> ScheduleEntry:
    if isinstance(entry, ScheduleEntry):
        return entry
    return ScheduleEntry(
        key=entry["key"],
        schedule=entry["schedule"],
        group=entry["group"],
        name=entry["name"],
        data=handler.encode_data(entry["group"], entry["name"], entry["data"]),
        result_ttl=entry.get("result_ttl"),
    )
