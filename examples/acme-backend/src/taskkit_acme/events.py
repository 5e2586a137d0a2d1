"""The event bridge: control events (shutdown, pause, resume) through a table.

``send_event`` appends a row. Each bridge remembers the last row id it has
seen (at first, the newest row when it was created, so old events are not
replayed) and ``receive_events`` polls for newer rows until some arrive or
its timeout ends. Ids come from AUTOINCREMENT, so they only grow, even after
rows are deleted (``destroy_all``). Only the newest KEPT_EVENTS rows are kept.

Dropping the table (``drop``, then ``migrate``) starts its ids again at 1. A
bridge notices when the newest id is below its cursor and reads the new
table from its start, so its workers still hear a shutdown sent after the
reset.
"""

from __future__ import annotations

import time

from taskkit_core import ControlEvent
from taskkit_core.events import decode_control_event, encode_control_event

from .database import Database

POLL_INTERVAL = 0.05
"""Seconds between two looks at the table while waiting for events."""

KEPT_EVENTS = 1000
"""How many of the newest events the table keeps; older ones are deleted on send."""


class AcmeEventBridge:
    """Sends control events to, and receives them from, every process on the file."""

    def __init__(self, db: Database) -> None:
        self._db = db
        with db.read() as c:
            (self._cursor,) = c.execute(
                f"SELECT coalesce(max(id), 0) FROM {db.tables.events}"
            ).fetchone()

    def send_event(self, event: ControlEvent) -> None:
        """Store the event; it is visible to every receiver once this returns."""
        events = self._db.tables.events
        with self._db.write() as c:
            body = encode_control_event(event)
            newest = c.execute(f"INSERT INTO {events} (body) VALUES (?)", (body,)).lastrowid
            c.execute(f"DELETE FROM {events} WHERE id <= ?", ((newest or 0) - KEPT_EVENTS,))

    def receive_events(self, timeout: float) -> list[ControlEvent]:
        """The events sent since the previous call, oldest first; waits up to ``timeout`` s."""
        deadline = time.monotonic() + timeout
        while True:
            events = self._fetch_new()
            remaining = deadline - time.monotonic()
            if events or remaining <= 0:
                return events
            time.sleep(min(POLL_INTERVAL, remaining))

    def _fetch_new(self) -> list[ControlEvent]:
        with self._db.read() as c:
            events = self._db.tables.events
            (newest,) = c.execute(f"SELECT coalesce(max(id), 0) FROM {events}").fetchone()
            if newest < self._cursor:  # the table was made anew: its ids started again
                self._cursor = 0
            rows = c.execute(
                f"SELECT id, body FROM {events} WHERE id > ? ORDER BY id",
                (self._cursor,),
            ).fetchall()
        if rows:
            self._cursor = rows[-1][0]
        return [event for _, body in rows if (event := decode_control_event(body)) is not None]

    def close(self) -> None:
        """Close the shared connection."""
        self._db.close()
