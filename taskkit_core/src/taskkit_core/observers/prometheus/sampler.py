"""Queue depths per group and state, sampled by one process per namespace.

Every worker runtime with metrics on runs a sampler thread, but only the
holder of the backend Lock ``taskkit.metrics.queue_sampler`` reads
``group_stats``: one query per interval for the whole namespace, however
many workers there are. The holder keeps the lock by taking it again each
round (a held lock's ``acquire`` renews it on every first-party backend,
and the conformance kit checks it); when the holder dies, its lock frees
itself and another process takes over within a round or two.
"""

from __future__ import annotations

import logging
import threading
from typing import TYPE_CHECKING

from ...clock import cur_ts
from ...outages import OutageLog
from ...url import parse_url, scrub_password

if TYPE_CHECKING:
    from ...backend import Backend
    from .metrics import Metrics

logger = logging.getLogger("taskkit.metrics")

LOCK = "taskkit.metrics.queue_sampler"
INTERVAL = 15.0
"""Seconds between samples: the default scrape interval of Prometheus."""
WINDOW = 3600.0
"""The ``since`` of group_stats (its finished counts are not sampled: counters hold them)."""
STATES = ("queued", "due", "staged")


class QueueSampler:
    """A thread that samples queue depths while this process holds the sampler lock."""

    def __init__(self, backend: Backend, metrics: Metrics, interval: float = INTERVAL) -> None:
        self.backend = backend
        self.metrics = metrics
        self.interval = interval
        self.holding = False
        self._lock = backend.get_lock(LOCK)
        self._seen: set[str] = set()
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="taskkit-metrics", daemon=True)

    def start(self) -> None:
        self._thread.start()

    def stop(self) -> None:
        """Stop sampling and give the lock back (the backend is still open)."""
        self._stop.set()
        self._thread.join(timeout=5)
        if self.holding:
            try:
                self._lock.release()
            except Exception as exc:  # the lock frees itself when its lease ends
                logger.debug("could not release the sampler lock: %s", exc)

    def _run(self) -> None:
        url = parse_url(self.backend.url)
        outage = OutageLog("queue depth sampler", lambda text: scrub_password(url, text))
        while not self._stop.is_set():
            try:
                self.sample_once()
            except Exception as exc:
                self._stop.wait(outage.failed(exc))
                continue
            outage.succeeded()
            self._stop.wait(self.interval)

    def sample_once(self) -> bool:
        """Sample if this process holds (or now takes) the lock; True if it sampled."""
        self.holding = self._lock.acquire()
        if not self.holding:
            return False
        now = cur_ts()
        stats = self.backend.group_stats(since=now - WINDOW)
        depth, oldest = self.metrics.queue_depth, self.metrics.oldest_due_age
        for s in stats:
            for state in STATES:
                depth.labels(s.group, state).set(getattr(s, state))
            age = 0.0 if s.oldest_due is None else max(0.0, now - s.oldest_due)
            oldest.labels(s.group).set(age)
        for group in self._seen - {s.group for s in stats}:  # emptied since: zero, not stale
            for state in STATES:
                depth.labels(group, state).set(0)
            oldest.labels(group).set(0)
        self._seen = {s.group for s in stats}
        return True
