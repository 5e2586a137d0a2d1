"""The EventBridge over an events table (plus NOTIFY on PostgreSQL).

``send_event`` inserts a row; on PostgreSQL the same transaction NOTIFYs
``<namespace>_events`` so receivers wake at once. ``receive_events`` reads
the rows past what this bridge has delivered, waiting up to its timeout.
It reads the table only when there may be something new: where a change
source pushes (PostgreSQL's LISTEN, SQLite's WAL watcher, see ``listener``
and ``walwatch``) when it signals a change, plus a slow safety-net read
every PUSHED_POLL_INTERVAL seconds; without one (MySQL/MariaDB, or while
the source reconnects) every POLL_INTERVAL seconds.

A bridge starts after the newest event that exists when it is created.
Ids are handed out before commit, so a row with a lower id can become
visible after a higher one; rows are therefore re-read for GAP_GRACE
seconds and delivered once each (a late commit signals a change of its
own). Events older than RETENTION seconds are deleted when a new one is
sent (found by a plain read and deleted by id, so the cleanup never waits
for another sender's uncommitted row).

The table's counter starts again when the table is made anew (``taskkit
drop`` then ``migrate``): a read that finds nothing new also looks at the
newest id, and when it is below what this bridge has delivered, the bridge
reads the new table from its start. ``destroy_all`` keeps the counter (and
the same check makes the bridge start over on the emptied table, harmlessly).
"""

from __future__ import annotations

import threading
import time
from typing import Any

from sqlalchemy import bindparam, delete, func, select
from taskkit_core.clock import cur_ts
from taskkit_core.events import ControlEvent, decode_control_event, encode_control_event

from .changes import ChangeSource, channel_names
from .engine import Database
from .schema import Tables
from .statements import now_expression

POLL_INTERVAL = 1.0
"""Seconds between reads of the events table when nothing pushes changes.

A control event (shutdown, pause) is acted on within this; the core's
``event_wait`` (1 s) bounds it the same way.
"""

PUSHED_POLL_INTERVAL = 30.0
"""Seconds between safety-net reads while a change source works."""

GAP_GRACE = 5.0
"""Seconds during which a lower id may still appear below a delivered one."""

RETENTION = 3600.0
"""Seconds an event is kept (a receiver polls far more often than that)."""


class SqlEventBridge:
    """Control events through the ``<namespace>_events`` table."""

    def __init__(
        self,
        db: Database,
        tables: Tables,
        changes: ChangeSource | None,
    ) -> None:
        events = tables.events
        now = now_expression(db.family)
        self._db = db
        self._changes = changes
        self._insert = events.insert().values(sent=now, data=bindparam("b_data"))
        # Found by a plain read, deleted by id: a DELETE ... WHERE sent < x would wait on
        # MySQL for rows other senders have inserted and not yet committed.
        self._expired = select(events.c.id).where(events.c.sent < now - RETENTION).limit(1000)
        self._cleanup = delete(events).where(events.c.id.in_(bindparam("b_ids", expanding=True)))
        _, events_channel = channel_names(tables.namespace)
        self._notify = db.family.wake_statement(events_channel, "")
        self._since = (
            select(events.c.id, events.c.data)
            .where(events.c.id > bindparam("b_floor"))
            .order_by(events.c.id)
        )
        self._newest = select(func.max(events.c.id))
        with db.read() as conn:
            newest = conn.execute(self._newest).scalar()
        self._floor = int(newest or 0)
        self._seen: dict[int, float] = {}
        self._wake = threading.Event()
        self._last_read = float("-inf")
        self._waiting = False
        self._lock = threading.Lock()

    def send_event(self, event: ControlEvent) -> None:
        """Store the event (and wake receivers where the family can) in one transaction."""
        params = {"b_data": encode_control_event(event), "now": cur_ts()}
        with self._db.write() as conn:
            expired = list(conn.execute(self._expired, params).scalars())
            if expired:
                conn.execute(self._cleanup, {"b_ids": expired})
            conn.execute(self._insert, params)
            if self._notify is not None:
                conn.execute(self._notify)
        self._wake.set()  # a receiver on this bridge reads it at once

    def receive_events(self, timeout: float) -> list[ControlEvent]:
        """Events sent since the last call (or since creation), oldest first."""
        self._listen()
        deadline = time.monotonic() + max(0.0, timeout)
        while True:
            now = time.monotonic()
            next_read = self._last_read + self._poll_interval()
            if self._wake.is_set() or now >= next_read:
                self._wake.clear()
                self._last_read = now
                events = self._fetch()
                if events:
                    return events
                next_read = now + self._poll_interval()
            if now >= deadline:
                return []
            self._wake.wait(max(0.0, min(deadline, next_read) - now))

    def close(self) -> None:
        if self._changes is not None:
            self._changes.remove_waiter(self._wake)

    def _listen(self) -> None:
        if self._changes is not None and not self._waiting:
            self._waiting = True
            self._changes.add_waiter(self._wake)

    def _poll_interval(self) -> float:
        if self._changes is not None and self._changes.listening:
            return PUSHED_POLL_INTERVAL
        return POLL_INTERVAL

    def _fetch(self) -> list[ControlEvent]:
        with self._lock:
            fresh = self._unseen()
            if not fresh and self._restarted():
                self._floor, self._seen = 0, {}  # a table made anew: read it from its start
                fresh = self._unseen()
            now = time.monotonic()
            for row in fresh:
                self._seen[row.id] = now
            self._advance_floor(now)
        return [event for row in fresh if (event := _decode(row.data)) is not None]

    def _unseen(self) -> list[Any]:
        """Rows above the floor that this bridge has not delivered."""
        params = {"b_floor": self._floor}
        rows = self._db.run(lambda conn: conn.execute(self._since, params).all())
        return [row for row in rows if row.id not in self._seen]

    def _restarted(self) -> bool:
        """Whether the newest id is below one this bridge delivered (the counter restarted)."""
        delivered = max([self._floor, *self._seen])
        if delivered == 0:
            return False
        newest = self._db.run(lambda conn: conn.execute(self._newest).scalar())
        return int(newest or 0) < delivered

    def _advance_floor(self, now: float) -> None:
        settled = [event_id for event_id, seen in self._seen.items() if now - seen > GAP_GRACE]
        if settled:
            self._floor = max(self._floor, *settled)
            self._seen = {i: t for i, t in self._seen.items() if i > self._floor}


def _decode(data: Any) -> ControlEvent | None:
    return decode_control_event(bytes(data))
