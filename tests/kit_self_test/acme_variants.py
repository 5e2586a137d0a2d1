"""Broken variants of the acme example (tasks in an SQLite file shared by processes).

They break promises that only a backend shared by several processes can
break. Each is acme with one mistake; ``test_broken_variants`` shows the
kit test that catches it.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

from taskkit_acme.backend import AcmeBackend
from taskkit_acme.config import parse_config
from taskkit_acme.database import Database
from taskkit_acme.events import AcmeEventBridge
from taskkit_acme.locks import LEASE, AcmeLock
from taskkit_core.backend import Connection
from taskkit_core.events import decode_control_event

from taskkit_core import ControlEvent, cur_ts


class EternalLock(AcmeLock):
    """A lock row without a lease: nothing ever frees the lock of a holder that died."""

    def acquire(self) -> bool:
        t = self._db.tables
        with self._db.write() as c:
            c.execute(
                f"INSERT OR IGNORE INTO {t.locks} (name, owner, expires) VALUES (?, ?, ?)",
                (self._target, self._token, cur_ts() + LEASE),
            )
            (owner,) = c.execute(
                f"SELECT owner FROM {t.locks} WHERE name = ?", (self._target,)
            ).fetchone()
        return bool(owner == self._token)


class EternalLockBackend(AcmeBackend):
    def get_lock(self, target: str) -> EternalLock:
        return EternalLock(self._db, target)


class CursorKeepingBridge(AcmeEventBridge):
    """The bridge as acme had it: it keeps its cursor when the table was made anew.

    After ``drop`` and ``migrate`` the ids start again at 1, below the
    cursor, and the bridge waits for ids it will not see for a long time.
    """

    def _fetch_new(self) -> list[ControlEvent]:
        with self._db.read() as c:
            rows = c.execute(
                f"SELECT id, body FROM {self._db.tables.events} WHERE id > ? ORDER BY id",
                (self._cursor,),
            ).fetchall()
        if rows:
            self._cursor = rows[-1][0]
        return [event for _, body in rows if (event := decode_control_event(body)) is not None]


def opener(
    backend_class: type[AcmeBackend], bridge_class: type[AcmeEventBridge]
) -> Callable[[str, Mapping[str, Any]], Connection]:
    """An opener of acme files with the given backend and bridge classes."""

    def open_variant(url: str, options: Mapping[str, Any]) -> Connection:
        db = Database(url, parse_config(url, options))
        return Connection(backend=backend_class(url, db), bridge=bridge_class(db))

    return open_variant


OPENERS = {
    "broken-acme-eternal-lock": opener(EternalLockBackend, AcmeEventBridge),
    "broken-acme-cursor-kept": opener(AcmeBackend, CursorKeepingBridge),
}
"""Each variant's URL scheme and opener (acme's own migrate and drop serve them all)."""
