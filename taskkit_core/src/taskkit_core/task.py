"""The task: what an application asks a worker to do, and the limits on it.

A task is immutable. Its ``data`` is opaque bytes that the application's
handler encoded; backends store and return them byte for byte. The group is
a field of its own (taskkit 0.2 parsed it out of the id).
"""

from __future__ import annotations

import math
import os
import time
from dataclasses import asdict, dataclass, replace
from datetime import datetime, tzinfo
from typing import Any

from .clock import as_ts, cur_ts, from_ts, local_tz
from .errors import InvalidTaskError, PayloadTooLarge

DEFAULT_TASK_TTL = 60 * 60 * 24 * 7
"""How long a finished task and its result are kept, in seconds (7 days)."""

MAX_NAME_LENGTH = 400
"""The longest group or task name, in characters (at most 4 UTF-8 bytes each)."""

MAX_PAYLOAD_BYTES = 10 * 1024 * 1024
"""The largest encoded payload or result (10 MiB, under MariaDB's 16 MiB packet)."""


@dataclass(frozen=True)
class Task:
    """One unit of work.

    ``due`` is the earliest time the task may start, ``created`` when it was
    made and ``scheduled`` the schedule point when a Scheduler made it.
    ``retry_count`` counts retries asked for by the handler; ``ttl`` is how
    long the finished task and its result are kept. Times are seconds since
    the epoch.
    """

    id: str
    group: str
    name: str
    data: bytes
    due: float
    created: float
    scheduled: float | None
    retry_count: int
    ttl: float

    @classmethod
    def init(
        cls,
        group: str,
        name: str,
        data: bytes,
        due: datetime | float | None = None,
        scheduled: datetime | float | None = None,
        ttl: float = DEFAULT_TASK_TTL,
    ) -> Task:
        """A new, validated task due at ``due`` (now when None)."""
        check_name("group", group)
        check_name("task name", name)
        check_payload(data)
        check_ttl(ttl)
        created = cur_ts()
        return cls(
            id=new_task_id(),
            group=group,
            name=name,
            data=bytes(data),
            due=as_ts(due) if due is not None else created,
            created=created,
            scheduled=as_ts(scheduled),
            retry_count=0,
            ttl=float(ttl),
        )

    @staticmethod
    def make_id(group: str = "") -> str:
        """A new task id; kept for taskkit 0.2 code (the group no longer goes in the id)."""
        return new_task_id()

    def due_dt(self, tzinfo: tzinfo | None = None) -> datetime:
        return from_ts(self.due, tzinfo or local_tz())

    def created_dt(self, tzinfo: tzinfo | None = None) -> datetime:
        return from_ts(self.created, tzinfo or local_tz())

    def scheduled_dt(self, tzinfo: tzinfo | None = None) -> datetime | None:
        if self.scheduled is None:
            return None
        return from_ts(self.scheduled, tzinfo or local_tz())

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    def clone_for_retry(self, interval: float) -> Task:
        """The task as its retry sees it: one more retry, due ``interval`` seconds from now."""
        return replace(self, due=cur_ts() + interval, retry_count=self.retry_count + 1)

    def __repr__(self) -> str:
        # The payload may be large or sensitive: show its size, not its bytes.
        return (
            f"Task(id={self.id!r}, group={self.group!r}, name={self.name!r}, "
            f"data=<{len(self.data)} bytes>, due={self.due!r}, retry_count={self.retry_count})"
        )


def new_task_id() -> str:
    """32 hex digits: 48 bits of milliseconds, then 80 random bits.

    Ids made later sort later, which keeps B-tree inserts at the right edge
    of the index, and they stay unique across hosts.
    """
    millis = time.time_ns() // 1_000_000
    return f"{millis:012x}{os.urandom(10).hex()}"


def check_name(kind: str, value: object) -> str:
    """``value`` if it is a usable group or task name, else InvalidTaskError.

    Names are compared byte for byte on every backend and kept as given
    (no Unicode normalisation): 1 to 400 characters, any but NUL.
    """
    if not isinstance(value, str):
        raise InvalidTaskError(f"{kind} must be a str, got {type(value).__name__}")
    if not value:
        raise InvalidTaskError(f"{kind} must not be empty")
    if len(value) > MAX_NAME_LENGTH:
        raise InvalidTaskError(
            f"{kind} is {len(value)} characters long; the limit is {MAX_NAME_LENGTH}"
        )
    if "\x00" in value:
        raise InvalidTaskError(f"{kind} must not contain NUL characters: {value!r}")
    try:
        value.encode("utf-8")
    except UnicodeEncodeError:
        raise InvalidTaskError(f"{kind} is not valid Unicode text: {value!r}") from None
    return value


def check_payload(data: object, what: str = "payload") -> bytes:
    """``data`` if it is bytes within MAX_PAYLOAD_BYTES, else a clear error."""
    if not isinstance(data, bytes | bytearray | memoryview):
        raise InvalidTaskError(
            f"an encoded {what} must be bytes, got {type(data).__name__}; "
            "check the handler's encode method"
        )
    size = len(bytes(data)) if isinstance(data, memoryview) else len(data)
    if size > MAX_PAYLOAD_BYTES:
        raise PayloadTooLarge(
            f"the encoded {what} is {size} bytes; the limit is {MAX_PAYLOAD_BYTES} bytes (10 MiB)"
        )
    return bytes(data)


def check_ttl(ttl: object) -> float:
    """``ttl`` as a float if it is a positive, finite number of seconds."""
    if isinstance(ttl, bool) or not isinstance(ttl, int | float):
        raise InvalidTaskError(f"ttl must be a number of seconds, got {ttl!r}")
    if not math.isfinite(ttl) or ttl <= 0:
        raise InvalidTaskError(f"ttl must be a positive, finite number of seconds, got {ttl!r}")
    return float(ttl)
