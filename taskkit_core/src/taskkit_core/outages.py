"""Backoff and one log line per outage, for any thread that keeps calling a backend.

Worker threads (claimer, settler, services) and backends' own background
threads (a LISTEN connection, a pub/sub reader) share these: a backend that
goes away shows up as one warning when it fails and one when it is back,
with jittered exponential backoff in between.
"""

from __future__ import annotations

import logging
import random
from collections.abc import Callable

from .url import first_line

logger = logging.getLogger("taskkit.worker")

MIN_BACKOFF = 0.1
MAX_BACKOFF = 5.0


class Backoff:
    """Exponential backoff with jitter, from 0.1 s up to 5 s."""

    def __init__(self) -> None:
        self._next = MIN_BACKOFF

    def next(self) -> float:
        delay = self._next * random.uniform(0.5, 1.0)
        self._next = min(self._next * 2, MAX_BACKOFF)
        return delay

    def reset(self) -> None:
        self._next = MIN_BACKOFF


class OutageLog:
    """Logs the first failure of an outage as one line and its end as another.

    Repeated failures in between go to DEBUG, so a backend restart shows
    up as two lines per thread, not a traceback per retry.
    """

    def __init__(self, what: str, scrub: Callable[[str], str] = str) -> None:
        self.what = what
        self.scrub = scrub
        self.failing = False
        self.backoff = Backoff()

    def failed(self, exc: BaseException) -> float:
        """Record a failure; return how long to wait before trying again."""
        if not self.failing:
            logger.warning(
                "%s: backend error, backing off: %s: %s",
                self.what,
                type(exc).__name__,
                self.scrub(first_line(str(exc))),
            )
            self.failing = True
        else:
            logger.debug("%s: still failing: %s", self.what, type(exc).__name__)
        return self.backoff.next()

    def succeeded(self) -> None:
        if self.failing:
            logger.warning("%s: backend reachable again, going on", self.what)
            self.failing = False
        self.backoff.reset()
