"""How a django.tasks call is stored in a taskkit task, and read back.

The task's group is the call's queue name and its name the function's
module path; its payload is ``{"args": [...], "kwargs": {...}}`` as JSON
and its result the JSON of the return value (Django asks for JSON-able
arguments and return values). A failed attempt's error is the traceback
taskkit stores, whose last line names the exception class.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from datetime import UTC, datetime
from typing import Any

from django.utils.module_loading import import_string

from .framework import Task, TaskError


def encode_call(args: Sequence[Any], kwargs: dict[str, Any]) -> bytes:
    """The arguments as JSON; TypeError names what JSON cannot hold (nothing is queued)."""
    try:
        return json.dumps({"args": list(args), "kwargs": kwargs}).encode()
    except (TypeError, ValueError) as exc:
        raise TypeError(f"task arguments must be JSON: {exc}") from None


def decode_call(data: bytes) -> tuple[list[Any], dict[str, Any]]:
    call = json.loads(data)
    return list(call["args"]), dict(call["kwargs"])


def encode_value(value: Any) -> bytes:
    return json.dumps(value).encode()


def decode_value(data: bytes) -> Any:
    return json.loads(data)


def django_task(name: str) -> Task[Any, Any] | None:
    """The django.tasks Task whose module path is ``name``, or None for any other name."""
    try:
        found = import_string(name)
    except ImportError:
        return None
    return found if isinstance(found, Task) else None


def task_error(message: str) -> TaskError:
    """Django's view of a stored error: the traceback and the exception class it names."""
    last = message.strip().splitlines()[-1] if message.strip() else "Exception"
    name = last.split(":", 1)[0].strip()
    path = name if "." in name else f"builtins.{name}"
    return TaskError(exception_class_path=path, traceback=message)


def when(ts: float | None) -> datetime | None:
    """A stored timestamp as an aware datetime (Django's convention under USE_TZ)."""
    return None if ts is None else datetime.fromtimestamp(ts, UTC)
