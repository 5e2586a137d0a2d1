"""The heartbeat: the service that keeps this worker process's lease alive.

A worker process holds a lease on the backend (its worker id and an expiry
``worker_ttl`` seconds ahead). The heartbeat refreshes it every
``heartbeat_interval``; a worker whose lease expired is dead, and the
restorer puts its staged tasks back in the queue.

The refresh also answers with the tasks staged to this worker whose
cancellation was requested; the heartbeat hands them to
``on_cancel_requests``, so a cancel request reaches its worker within one
heartbeat interval.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Collection

from ..backend import Backend
from .crashpoints import crash_point

logger = logging.getLogger("taskkit.services")


class Heartbeat:
    """Refreshes this process's lease; a service run on a thread of its own.

    ``lease_is_fresh()`` says whether the last successful refresh is recent
    enough to trust the lease; workers stop claiming when it is not, so a
    process cut off from the backend stops taking work before its tasks are
    restored elsewhere.
    """

    def __init__(
        self, backend: Backend, worker_ids: Collection[str], ttl: float, interval: float
    ) -> None:
        self.backend = backend
        self.worker_ids = set(worker_ids)
        self.ttl = ttl
        self.interval = interval
        self.last_success = float("-inf")
        self.on_cancel_requests: Callable[[list[str]], None] | None = None

    def __call__(self) -> float:
        crash_point("heartbeat")
        started = time.monotonic()
        requested = self.backend.refresh_leases(self.worker_ids, self.ttl)
        previous, self.last_success = self.last_success, time.monotonic()
        if requested and self.on_cancel_requests is not None:
            self.on_cancel_requests(requested)
        if previous > float("-inf") and self.last_success - previous > self.ttl / 2:
            # Said out loud, as a lease that lapses gets this process's tasks
            # restored elsewhere while they still run here.
            logger.warning(
                "heartbeat late: the lease was refreshed %.1f s after the previous "
                "refresh (worker_ttl %.1f s); task threads holding the GIL or a slow "
                "backend can make it lapse",
                self.last_success - previous,
                self.ttl,
            )
        # Keep the cadence from start to start: a heartbeat slowed by busy
        # threads (the GIL, a slow round trip) must not also delay the next.
        return max(0.0, self.interval - (self.last_success - started))

    def lease_is_fresh(self) -> bool:
        """True while the lease surely outlasts the next refresh."""
        return time.monotonic() - self.last_success < self.ttl - self.interval
