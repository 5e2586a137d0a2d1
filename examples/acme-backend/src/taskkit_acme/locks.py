"""Named locks shared by every process using one database file and namespace.

A lock is a row: its name, the token of the Lock object that holds it, and
when its lease runs out. Work under a lock (one restore, purge or schedule
round) takes milliseconds, so a short lease is enough; it only matters when
the holder died without releasing, and then bounds how long others wait.
"""

from __future__ import annotations

import secrets

from taskkit_core import cur_ts

from .database import Database

LEASE = 5.0
"""Seconds after which a lock that was never released is free again."""


class AcmeLock:
    """A non-blocking lock: ``acquire`` answers at once, ``release`` gives it back."""

    def __init__(self, db: Database, target: str) -> None:
        self._db = db
        self._target = target
        self._token = secrets.token_hex(8)

    def acquire(self) -> bool:
        """Take the lock if it is free or its lease ran out; renew it if this object holds it."""
        now = cur_ts()
        t = self._db.tables
        with self._db.write() as c:
            c.execute(f"DELETE FROM {t.locks} WHERE name = ? AND expires < ?", (self._target, now))
            c.execute(
                f"INSERT OR IGNORE INTO {t.locks} (name, owner, expires) VALUES (?, ?, ?)",
                (self._target, self._token, now + LEASE),
            )
            renewed = c.execute(
                f"UPDATE {t.locks} SET expires = ? WHERE name = ? AND owner = ?",
                (now + LEASE, self._target, self._token),
            )
            return renewed.rowcount == 1

    def release(self) -> None:
        """Free the lock if this object holds it; otherwise do nothing."""
        with self._db.write() as c:
            c.execute(
                f"DELETE FROM {self._db.tables.locks} WHERE name = ? AND owner = ?",
                (self._target, self._token),
            )
