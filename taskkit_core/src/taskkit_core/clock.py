"""The settable clock and timestamp helpers.

Timestamps are float seconds since the epoch. Everything in the core that
asks "what time is it" calls :func:`cur_ts`, so tests can move time with
:func:`set_cur_ts_impl`. Backends with a server clock (PostgreSQL, MariaDB,
Redis) use that clock for leases and expiry instead; see
``Capabilities.server_clock``.
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable
from datetime import datetime, tzinfo
from typing import overload

_cur_ts_impl: Callable[[], float] = time.time


def set_cur_ts_impl(impl: Callable[[], float]) -> None:
    """Replace the clock (for tests); :func:`reset_cur_ts_impl` undoes it."""
    global _cur_ts_impl  # noqa: PLW0603 - the clock is process-wide by design
    _cur_ts_impl = impl


def reset_cur_ts_impl() -> None:
    """Go back to the wall clock."""
    global _cur_ts_impl  # noqa: PLW0603
    _cur_ts_impl = time.time


def cur_ts() -> float:
    """The current time as seconds since the epoch, from the settable clock."""
    return _cur_ts_impl()


def local_tz() -> tzinfo:
    """The local time zone of this process."""
    tz = datetime.now().astimezone().tzinfo
    assert tz is not None
    return tz


@overload
def as_ts(value: datetime | float) -> float: ...


@overload
def as_ts(value: datetime | float | None) -> float | None: ...


def as_ts(value: datetime | float | None) -> float | None:
    """A datetime (naive means local time) or a number, as a finite timestamp."""
    if value is None:
        return None
    if isinstance(value, datetime):
        return value.timestamp()
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise TypeError(f"expected a datetime or seconds since the epoch, got {value!r}")
    if not math.isfinite(value):
        raise ValueError(f"a timestamp must be finite, got {value!r}")
    return float(value)


def from_ts(ts: float, tz: tzinfo) -> datetime:
    """The timestamp as an aware datetime in ``tz``."""
    return datetime.fromtimestamp(ts, tz)
