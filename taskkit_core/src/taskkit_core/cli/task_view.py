"""How ``taskkit show`` and ``taskkit tasks`` present a TaskInfo: lines, a table, or JSON."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from ..records import TaskInfo
from .render import TextTable


def when(ts: float | None) -> str:
    """A timestamp as ISO 8601 in UTC to the millisecond, or "-"."""
    if ts is None:
        return "-"
    return datetime.fromtimestamp(ts, UTC).isoformat(timespec="milliseconds")


def as_json(info: TaskInfo) -> dict[str, Any]:
    """Everything known about the task as JSON values (times as epoch seconds)."""
    task = info.task
    return {
        **{k: v for k, v in task.to_dict().items() if k != "data"},
        "data_size": len(task.data),
        "state": info.state.value,
        "attempt": info.attempt,
        "worker_id": info.worker_id,
        "began": info.began,
        "finished": info.finished,
        "error": info.error,
        "result_size": info.result_size,
        "cancel_requested": info.cancel_requested,
    }


def detail_lines(info: TaskInfo) -> list[str]:
    """``taskkit show``: one "field: value" line each, the error (a traceback) last."""
    task = info.task
    fields = [
        ("id", task.id),
        ("group", task.group),
        ("name", task.name),
        ("state", info.state.value + (" (cancel requested)" if info.cancel_requested else "")),
        ("attempt", str(info.attempt)),
        ("retry count", str(task.retry_count)),
        ("priority", str(task.priority)),
        ("worker", info.worker_id or "-"),
        ("enqueued", when(task.created)),
        ("due", when(task.due)),
        ("started", when(info.began)),
        ("finished", when(info.finished)),
        ("timeout", "-" if task.timeout is None else f"{task.timeout:g} s"),
        ("unique", _unique(info)),
        ("ttl", f"{task.ttl:g} s"),
        ("payload", f"{len(task.data)} bytes"),
        ("result", "-" if info.result_size is None else f"{info.result_size} bytes"),
    ]
    fields += [(f"header {key}", value) for key, value in sorted(task.headers.items())]
    lines = [f"{name + ':':<13} {value}" for name, value in fields]
    if info.error:
        lines += ["error:", *("  " + line for line in info.error.rstrip().splitlines())]
    return lines


def _unique(info: TaskInfo) -> str:
    unique = info.task.unique
    if unique is None:
        return "-"
    period = "" if unique.period is None else f", for {unique.period:g} s"
    return f"{unique.key} (while {unique.states}{period})"


def listing_table(infos: list[TaskInfo], title: str) -> TextTable:
    """``taskkit tasks``: one row per task, the error's last line at the end."""
    table = TextTable(title, ["ID", "GROUP", "NAME", "STATE", "ATTEMPT", "WHEN", "ERROR"])
    table.right = frozenset({"ATTEMPT"})
    for info in infos:
        table.add_row(
            info.task.id,
            info.task.group,
            info.task.name,
            info.state.value,
            str(info.attempt),
            when(info.finished or info.began or info.task.due),
            last_line(info.error or ""),
        )
    return table


def last_line(message: str) -> str:
    """The last non-empty line of a message (of a traceback: the exception)."""
    lines = [line.strip() for line in message.strip().splitlines() if line.strip()]
    return lines[-1] if lines else ""
