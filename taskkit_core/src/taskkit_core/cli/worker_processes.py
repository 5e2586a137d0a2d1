"""``taskkit worker`` with worker processes: ``Kit.start``'s supervisor plus a shutdown watch.

The supervisor restarts a process that dies; SIGTERM or Ctrl-C drains them
all and a second signal a second later stops them at once. It would also
restart processes that stopped because of a ``taskkit shutdown`` event, so
the command watches the control events itself and turns a shutdown of every
group it serves into a SIGTERM of the supervisor: one clean drain, exit 0.

The watch runs on a thread that holds a lock while it is inside the event
bridge; a fork (the supervisor starting a process) waits for that lock, so
a child never inherits the bridge in the middle of a call.
"""

from __future__ import annotations

import logging
import os
import signal
import threading
from collections.abc import Collection
from types import TracebackType

from ..events import EventBridge
from ..threads import OutageLog
from .output import scrub

logger = logging.getLogger("taskkit.cli")

WAIT = 0.25
"""The longest one look at the control events takes (and a fork may wait)."""


class ShutdownWatch:
    """While entered, a shutdown event for every group in ``groups`` SIGTERMs this process."""

    def __init__(self, bridge: EventBridge, groups: Collection[str]) -> None:
        self.bridge = bridge
        self.remaining = set(groups)
        self._in_bridge = threading.Lock()
        self._stop = threading.Event()
        self._thread = threading.Thread(
            target=self._run, name="taskkit-shutdown-watch", daemon=True
        )
        self._outage = OutageLog("control events (supervisor)", scrub)

    def __enter__(self) -> ShutdownWatch:
        os.register_at_fork(
            before=self._in_bridge.acquire,
            after_in_parent=self._in_bridge.release,
            after_in_child=self._in_bridge.release,
        )
        self._thread.start()
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self._stop.set()
        self._thread.join(WAIT * 4)

    def _run(self) -> None:
        while not self._stop.is_set():
            try:
                with self._in_bridge:
                    events = self.bridge.receive_events(WAIT)
            except Exception as exc:
                self._stop.wait(self._outage.failed(exc))
                continue
            self._outage.succeeded()
            shutdowns = [event["groups"] for event in events if event["name"] == "shutdown"]
            for groups in shutdowns:
                self.remaining -= self.remaining if groups is None else set(groups)
            if shutdowns and not self.remaining:
                self._stop_supervisor()
                return

    def _stop_supervisor(self) -> None:
        logger.info("shutdown event for every group: stopping the worker processes")
        # To the main thread itself, so the signal interrupts the supervisor's wait.
        signal.pthread_kill(threading.main_thread().ident or 0, signal.SIGTERM)
