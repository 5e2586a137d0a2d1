"""Pages of a sorted list and one shared, short-lived copy of an expensive read."""

from __future__ import annotations

import bisect
import threading
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Generic, TypeVar

T = TypeVar("T")


@dataclass(frozen=True)
class Page(Generic[T]):
    """Rows of one page; ``next_after`` is the cursor of the next page (None: last page)."""

    rows: list[T]
    total: int
    next_after: str | None


def page_after(items: Sequence[T], keys: Sequence[str], after: str | None, size: int) -> Page[T]:
    """The ``size`` items whose key (sorted ascending in ``keys``) comes after ``after``."""
    start = 0 if after is None else bisect.bisect_right(keys, after)
    rows = list(items[start : start + size])
    more = start + size < len(items)
    return Page(rows, len(items), keys[start + size - 1] if more and rows else None)


class Shared(Generic[T]):
    """The last result of ``read``, read again when older than ``max_age`` seconds.

    One read at a time: viewers that ask meanwhile wait for it and share its
    result, so ten open browser tabs cost the backend one query.
    """

    def __init__(self, read: Callable[[], T], max_age: float) -> None:
        self._read = read
        self._max_age = max_age
        self._lock = threading.Lock()
        self._value: T | None = None
        self._taken = float("-inf")

    def get(self) -> T:
        with self._lock:
            if self._value is None or time.monotonic() - self._taken > self._max_age:
                self._value = self._read()
                self._taken = time.monotonic()
            return self._value

    def forget(self) -> None:
        """Read afresh next time (after an action changed what was read)."""
        with self._lock:
            self._value = None
