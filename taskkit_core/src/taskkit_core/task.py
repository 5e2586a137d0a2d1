"""The task: what an application asks a worker to do, and the limits on it.

A task is immutable. Its ``data`` is opaque bytes that the application's
handler encoded; backends store and return them byte for byte. The group is
a field of its own (taskkit 0.2 parsed it out of the id).
"""

from __future__ import annotations

import json
import math
import os
import time
from collections.abc import Mapping
from dataclasses import asdict, dataclass, field, fields, replace
from datetime import datetime, tzinfo
from types import MappingProxyType
from typing import Any, Literal

from .clock import as_ts, cur_ts, from_ts, local_tz
from .errors import InvalidTaskError, PayloadTooLarge

DEFAULT_TASK_TTL = 60 * 60 * 24 * 7
"""How long a finished task and its result are kept, in seconds (7 days)."""

MAX_NAME_LENGTH = 400
"""The longest group or task name, in characters (at most 4 UTF-8 bytes each)."""

MAX_PAYLOAD_BYTES = 10 * 1024 * 1024
"""The largest encoded payload or result (10 MiB, under MariaDB's 16 MiB packet)."""

MIN_PRIORITY, MAX_PRIORITY = -100, 100
"""The priority range (Django's django.tasks range); higher is claimed first, 0 by default."""

MAX_UNIQUE_KEY_LENGTH = 200
"""The longest unique key, in characters."""

MAX_HEADERS = 64
"""The most entries a task's header map holds."""

MAX_HEADER_KEY_LENGTH = 128
"""The longest header key, in characters."""

MAX_HEADERS_BYTES = 8 * 1024
"""The largest header map, measured as its UTF-8 JSON encoding (8 KiB)."""

UniqueStates = Literal["queued", "active"]
"""Which states of the holder of a unique key refuse a duplicate (see :class:`Unique`)."""

_NO_HEADERS: Mapping[str, str] = MappingProxyType({})


@dataclass(frozen=True)
class Unique:
    """A task's unique key: while its holder counts, a put with the same key is a duplicate.

    ``key`` is scoped to the task's group (1-200 characters, no NUL).
    ``period`` is how many seconds after the holder's ``created`` a
    duplicate is refused (None: no time limit). ``states`` says while the
    holder counts: ``"queued"`` while it is queued, ``"active"`` while it
    is queued or staged. A holder outside those states or past its period
    no longer blocks: the next put with the key creates a task, the new
    holder.
    """

    key: str
    period: float | None = None
    states: UniqueStates = "queued"

    def __post_init__(self) -> None:
        check_unique_key(self.key)
        if self.period is not None:
            object.__setattr__(self, "period", _positive_seconds("unique period", self.period))
        if self.states not in ("queued", "active"):
            raise InvalidTaskError(
                f"unique states must be 'queued' or 'active', got {self.states!r}"
            )

    def covers(self, state: str) -> bool:
        """Whether a holder in ``state`` (a TaskState value) still refuses duplicates."""
        return state == "queued" or (state == "staged" and self.states == "active")

    def in_period(self, created: float, now: float) -> bool:
        """Whether a holder created at ``created`` is still within the period at ``now``."""
        return self.period is None or now < created + self.period


@dataclass(frozen=True)
class Task:
    """One unit of work.

    ``due`` is the earliest time the task may start, ``created`` when it was
    made and ``scheduled`` the schedule point when a Scheduler made it.
    ``retry_count`` counts retries asked for by the handler; ``ttl`` is how
    long the finished task and its result are kept. Times are seconds since
    the epoch.

    Job control (all optional): ``priority`` orders claims (-100..100,
    higher first); ``unique`` makes a put of a duplicate return the
    holder instead (see :class:`Unique`); ``timeout`` bounds each attempt
    in seconds; ``headers`` is a small str-to-str map carried from put to
    handler (trace context, tenant, request id), stored read-only.
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
    priority: int = 0
    unique: Unique | None = None
    timeout: float | None = None
    headers: Mapping[str, str] = field(default_factory=lambda: _NO_HEADERS, hash=False)

    def __post_init__(self) -> None:
        # Backends rebuild tasks with a plain dict of headers: keep a read-only copy.
        if type(self.headers) is not MappingProxyType:
            object.__setattr__(self, "headers", MappingProxyType(dict(self.headers)))

    @classmethod
    def init(
        cls,
        group: str,
        name: str,
        data: bytes,
        due: datetime | float | None = None,
        scheduled: datetime | float | None = None,
        ttl: float = DEFAULT_TASK_TTL,
        *,
        priority: int = 0,
        unique: Unique | None = None,
        timeout: float | None = None,
        headers: Mapping[str, str] | None = None,
    ) -> Task:
        """A new, validated task due at ``due`` (now when None).

        Every limit is checked here, so a bad value raises InvalidTaskError
        with one line before anything is written.
        """
        check_name("group", group)
        check_name("task name", name)
        check_payload(data)
        if ttl != DEFAULT_TASK_TTL:  # the default needs no check
            check_ttl(ttl)
        if priority or priority.__class__ is not int:  # 0, the default, needs no check
            check_priority(priority)
        if unique is not None and unique.__class__ is not Unique:
            raise InvalidTaskError(f"unique must be a Unique, got {type(unique).__name__}")
        created = cur_ts()
        return cls(  # by position, in field order: the cheapest call on this hot path
            new_task_id(),
            group,
            name,
            bytes(data),
            created if due is None else as_ts(due),
            created,
            None if scheduled is None else as_ts(scheduled),
            0,
            float(ttl),
            priority,
            unique,
            None if timeout is None else check_timeout(timeout),
            check_headers(headers) if headers else _NO_HEADERS,
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
        """The fields as plain values (headers as a dict, unique as a dict or None)."""
        values = {f.name: getattr(self, f.name) for f in fields(self)}
        values["headers"] = dict(self.headers)
        values["unique"] = None if self.unique is None else asdict(self.unique)
        return values

    def clone_for_retry(self, interval: float) -> Task:
        """The task as its retry sees it: one more retry, due ``interval`` seconds from now."""
        return replace(self, due=cur_ts() + interval, retry_count=self.retry_count + 1)

    def __repr__(self) -> str:
        # The payload may be large or sensitive: show its size, not its bytes.
        return (
            f"Task(id={self.id!r}, group={self.group!r}, name={self.name!r}, "
            f"data=<{len(self.data)} bytes>, due={self.due!r}, retry_count={self.retry_count}"
            f"{self._job_control_repr()})"
        )

    def _job_control_repr(self) -> str:
        parts = [f", priority={self.priority}"] if self.priority else []
        if self.unique is not None:
            parts.append(f", unique={self.unique.key!r}")
        if self.timeout is not None:
            parts.append(f", timeout={self.timeout!r}")
        if self.headers:
            parts.append(f", headers=<{len(self.headers)}>")
        return "".join(parts)


def new_task_id() -> str:
    """32 hex digits: 48 bits of milliseconds, then 80 random bits.

    Ids made later sort later, which keeps B-tree inserts at the right edge
    of the index, and they stay unique across hosts.
    """
    millis = time.time_ns() // 1_000_000
    return f"{millis:012x}{os.urandom(10).hex()}"


_checked_names: set[str] = set()
"""Names that passed check_name. Every put repeats its group and task name, so each is
checked once (the set is emptied when it reaches MAX_CHECKED_NAMES)."""
MAX_CHECKED_NAMES = 4096


def check_name(kind: str, value: object) -> str:
    """``value`` if it is a usable group or task name, else InvalidTaskError.

    Names are compared byte for byte on every backend and kept as given
    (no Unicode normalisation): 1 to 400 characters, any but NUL.
    """
    if isinstance(value, str) and value in _checked_names:
        return value  # only exact str instances are ever added
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
    if value.__class__ is str:  # a subclass could compare equal and differ
        if len(_checked_names) >= MAX_CHECKED_NAMES:
            _checked_names.clear()
        _checked_names.add(value)
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


def check_priority(priority: object) -> int:
    """``priority`` if it is an int (not a bool) in MIN_PRIORITY..MAX_PRIORITY."""
    if isinstance(priority, bool) or not isinstance(priority, int):
        raise InvalidTaskError(f"priority must be an int, got {priority!r}")
    if not MIN_PRIORITY <= priority <= MAX_PRIORITY:
        raise InvalidTaskError(
            f"priority must be between {MIN_PRIORITY} and {MAX_PRIORITY}, got {priority}"
        )
    return priority


def check_unique_key(key: object) -> str:
    """``key`` if it is a usable unique key: 1-200 characters, no NUL."""
    if not isinstance(key, str):
        raise InvalidTaskError(f"unique key must be a str, got {type(key).__name__}")
    if not key or len(key) > MAX_UNIQUE_KEY_LENGTH:
        raise InvalidTaskError(
            f"unique key must be 1 to {MAX_UNIQUE_KEY_LENGTH} characters, got {len(key)}"
        )
    if "\x00" in key:
        raise InvalidTaskError(f"unique key must not contain NUL characters: {key!r}")
    return key


def check_headers(headers: object) -> Mapping[str, str]:
    """``headers`` as a read-only copy if within the limits, else InvalidTaskError.

    At most 64 entries, str keys of 1-128 characters, str values, and at
    most 8 KiB as UTF-8 JSON.
    """
    if not isinstance(headers, Mapping):
        raise InvalidTaskError(f"headers must be a mapping of str to str, got {headers!r}")
    if len(headers) > MAX_HEADERS:
        raise InvalidTaskError(f"headers has {len(headers)} entries; the limit is {MAX_HEADERS}")
    for key, value in headers.items():
        _check_header(key, value)
    try:
        size = len(json.dumps(dict(headers), ensure_ascii=False).encode("utf-8"))
    except UnicodeEncodeError:
        raise InvalidTaskError("headers must be valid Unicode text") from None
    if size > MAX_HEADERS_BYTES:
        raise InvalidTaskError(
            f"headers are {size} bytes as JSON; the limit is {MAX_HEADERS_BYTES} bytes (8 KiB)"
        )
    return MappingProxyType(dict(headers))


def _check_header(key: object, value: object) -> None:
    if not isinstance(key, str) or not isinstance(value, str):
        raise InvalidTaskError(f"header {key!r} must map a str to a str, got {value!r}")
    if not key or len(key) > MAX_HEADER_KEY_LENGTH:
        raise InvalidTaskError(
            f"header key must be 1 to {MAX_HEADER_KEY_LENGTH} characters, got {len(key)}"
        )


def check_timeout(timeout: object) -> float | None:
    """``timeout`` as a float if it is None or a positive, finite number of seconds."""
    return None if timeout is None else _positive_seconds("timeout", timeout)


def _positive_seconds(what: str, value: object) -> float:
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise InvalidTaskError(f"{what} must be a number of seconds, got {value!r}")
    if not math.isfinite(value) or value <= 0:
        raise InvalidTaskError(
            f"{what} must be a positive, finite number of seconds, got {value!r}"
        )
    return float(value)
