"""Thread helpers: a service loop, backoff, and one log line per outage."""

from __future__ import annotations

import logging
import random
import threading
from collections.abc import Callable

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
                self.scrub(_one_line(exc)),
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


def _one_line(exc: BaseException) -> str:
    text = str(exc).strip()
    return text.splitlines()[0] if text else ""


class ServiceThread(threading.Thread):
    """Calls a service until stopped, sleeping what it returns between calls."""

    def __init__(
        self,
        service: Callable[[], float],
        name: str,
        stop: threading.Event,
        scrub: Callable[[str], str] = str,
    ) -> None:
        super().__init__(name=name, daemon=True)
        self.service = service
        self.stop_event = stop
        self.outage = OutageLog(name, scrub)

    def run(self) -> None:
        while not self.stop_event.is_set():
            try:
                wait = self.service()
            except Exception as exc:
                wait = self.outage.failed(exc)
            else:
                self.outage.succeeded()
            if wait > 0:
                self.stop_event.wait(wait)
