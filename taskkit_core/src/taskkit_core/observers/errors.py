"""Logging observers that raise: the first error of each observer and hook in full, then counts.

An observer runs in a worker's threads, so its exception is caught and
logged instead of reaching the worker. A broken observer tends to raise on
every task: logging each one would flood the log, so the first exception
of an (observer, hook) pair is logged with its traceback, and after that
one line per pair at most every ``interval`` seconds says how many more
there were.
"""

from __future__ import annotations

import logging
import threading
import time
from dataclasses import dataclass

REPEAT_INTERVAL = 60.0


@dataclass
class _Tally:
    last_logged: float
    unlogged: int = 0


class ObserverErrors:
    """Rate-limited reports of exceptions raised by observers."""

    def __init__(self, logger: logging.Logger, interval: float = REPEAT_INTERVAL) -> None:
        self._logger = logger
        self._interval = interval
        self._tallies: dict[tuple[str, str], _Tally] = {}
        self._lock = threading.Lock()

    def report(self, observer: str, hook: str, exc: BaseException) -> None:
        """Log ``exc`` raised by ``observer`` in ``hook``, or count it when logged recently."""
        now = time.monotonic()
        with self._lock:
            tally = self._tallies.get((observer, hook))
            if tally is None:
                self._tallies[observer, hook] = _Tally(now)
            elif now - tally.last_logged < self._interval:
                tally.unlogged += 1
                return
            else:
                repeats, tally.unlogged, tally.last_logged = tally.unlogged + 1, 0, now
        if tally is None:
            self._logger.error(
                "observer %s raised in %s; the worker goes on without it for this event",
                observer,
                hook,
                exc_info=exc,
            )
        else:
            self._logger.error(
                "observer %s raised in %s %d more time(s) in the last %.0f s; the latest: %s: %s",
                observer,
                hook,
                repeats,
                self._interval,
                type(exc).__name__,
                exc,
            )
