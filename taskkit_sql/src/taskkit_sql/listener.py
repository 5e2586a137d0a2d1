"""PostgreSQL LISTEN on a dedicated connection, in a thread that reconnects.

One listener serves a backend and its event bridge: the channel
``<namespace>_tasks`` carries the group of each put (``watch_tasks``
callbacks), ``<namespace>_events`` says a control event was stored (the
bridge then reads the events table). Notifications only wake receivers
early: whatever is missed while the connection is down is found by the
next poll. The thread starts on first use, so a process that only puts
tasks never opens the extra connection.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from typing import Any

from sqlalchemy.engine import Engine
from taskkit_core.outages import OutageLog

from .changes import WatchedSource, channel_names, tell_watchers

logger = logging.getLogger("taskkit.sql.listener")

WAIT_SLICE = 0.5
"""Seconds between checks of the stop flag while waiting for notifications."""

PING_EVERY = 60.0
"""Seconds of silence after which the listener checks its connection.

TCP keepalives (see ``engine``) notice a dead peer sooner; the ping is the
backstop for anything between that swallows them.
"""

READY_WAIT = 2.0
"""How long the first ``start`` waits for LISTEN to be in place."""


class Listener(WatchedSource):
    """A LISTEN thread: calls task watchers with a group, wakes event waiters."""

    def __init__(self, engine: Engine, namespace: str, scrub: Callable[[str], str]) -> None:
        super().__init__()
        self._engine = engine
        self.tasks_channel, self.events_channel = channel_names(namespace)
        self._scrub = scrub
        self._stop = threading.Event()
        self._ready = threading.Event()
        self._thread: threading.Thread | None = None

    @property
    def listening(self) -> bool:
        """True while LISTEN is in place (notifications arrive)."""
        return self._ready.is_set()

    def _start(self) -> None:
        with self._lock:
            if self._thread is not None or self._stop.is_set():
                return
            self._thread = threading.Thread(
                target=self._run, name="taskkit-sql-listener", daemon=True
            )
            self._thread.start()
        self._ready.wait(READY_WAIT)

    def close(self) -> None:
        """Stop the thread; it closes its connection within WAIT_SLICE seconds."""
        self._stop.set()
        thread = self._thread
        if thread is not None and thread is not threading.current_thread():
            thread.join(WAIT_SLICE * 2)

    # -- the thread ----------------------------------------------------------------

    def _run(self) -> None:
        outage = OutageLog("LISTEN connection", self._scrub)
        while not self._stop.is_set():
            raw: Any = None
            try:
                raw = self._engine.raw_connection()
                connection = raw.driver_connection
                raw.detach()  # never goes back to the pool
                connection.autocommit = True
                for channel in (self.tasks_channel, self.events_channel):
                    connection.execute(f'LISTEN "{channel}"')  # a checked namespace
                self._ready.set()
                outage.succeeded()
                self._wake_waiters()  # anything sent while we were not listening
                self._listen(connection)
            except Exception as exc:
                self._ready.clear()
                self._stop.wait(outage.failed(exc))
            finally:
                if raw is not None:
                    _close_quietly(raw)

    def _listen(self, connection: Any) -> None:
        last_heard = time.monotonic()
        while not self._stop.is_set():
            for notify in connection.notifies(timeout=WAIT_SLICE):
                last_heard = time.monotonic()
                self._dispatch(notify.channel, notify.payload)
            if time.monotonic() - last_heard > PING_EVERY:
                connection.execute("SELECT 1")
                last_heard = time.monotonic()

    def _dispatch(self, channel: str, payload: str) -> None:
        if channel == self.events_channel:
            self._wake_waiters()
            return
        tell_watchers(self._current_watchers(), payload)


def _close_quietly(raw: Any) -> None:
    try:
        raw.close()
    except Exception:  # the connection is already broken; nothing to free
        logger.debug("closing the LISTEN connection failed", exc_info=True)
