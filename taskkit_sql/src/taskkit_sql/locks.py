"""Named locks shared by every process of a namespace; none holds a transaction open.

Each family's ``lock`` hook picks one (see ``databases/``):

- :class:`SessionLock`: a server lock tied to a session (PostgreSQL's
  advisory locks, MySQL's GET_LOCK), taken on a connection kept out of the
  pool while the lock is held. It dies with its session, so a killed
  process frees it at once.
- :class:`LeaseLock`: a lease row in ``<namespace>_locks`` that expires
  after LEASE_SECONDS, so a lock of a killed process frees itself within
  that (SQLite, which has no sessions to tie a lock to, and PostgreSQL
  behind a connection pooler without a ``direct_url``).
"""

from __future__ import annotations

import hashlib
import secrets
import threading
from typing import Any

from sqlalchemy import Double, bindparam, delete, select
from sqlalchemy.engine import Connection, Engine
from sqlalchemy.sql import Select
from taskkit_core.clock import cur_ts

from .engine import Database
from .schema import Tables

LEASE_SECONDS = 60.0
"""How long a lease lock outlives a holder that never releases it."""


def digest(*parts: str, size: int) -> bytes:
    """A stable hash of ``parts`` (``size`` bytes): lock keys that fit the server's limits."""
    text = "\x00".join(parts).encode("utf-8", "surrogatepass")
    return hashlib.blake2b(text, digest_size=size).digest()


class SessionLock:
    """A lock tied to a database session, held on a connection kept out of the pool."""

    def __init__(self, engine: Engine, take: Select[Any], give_back: Select[Any]) -> None:
        self._engine = engine
        self._take, self._give_back = take, give_back
        self._connection: Connection | None = None
        self._mutex = threading.Lock()

    def acquire(self) -> bool:
        """Try once; True when this object holds the lock."""
        with self._mutex:
            if self._connection is not None:
                return True
            connection = self._engine.connect()  # autocommit: no transaction stays open
            try:
                taken = bool(connection.execute(self._take).scalar())
            except BaseException:
                connection.close()
                raise
            if taken:
                self._connection = connection
            else:
                connection.close()
            return taken

    def release(self) -> None:
        """Unlock; if that fails the session is closed, which frees the lock as well."""
        with self._mutex:
            connection, self._connection = self._connection, None
            if connection is None:
                return
            try:
                connection.execute(self._give_back)
            except Exception:
                connection.invalidate()
            finally:
                connection.close()


class LeaseLock:
    """A row in the locks table owned by a random token until released or expired.

    Taken with a conditional upsert (the family's ``upsert`` with ``where``).
    """

    def __init__(self, db: Database, tables: Tables, target: str) -> None:
        locks = tables.locks
        self._db = db
        self._params = {"b_name": target, "b_owner": secrets.token_hex(16)}
        values: dict[str, Any] = {
            "name": bindparam("b_name"),
            "owner": bindparam("b_owner"),
            "expires": bindparam("now", type_=Double()) + LEASE_SECONDS,
        }
        self._take = db.family.upsert(
            locks,
            values,
            ["owner", "expires"],
            where=lambda new: (locks.c.expires < bindparam("now")) | (locks.c.owner == new.owner),
        )
        self._give_back = delete(locks).where(
            locks.c.name == bindparam("b_name"), locks.c.owner == bindparam("b_owner")
        )
        self._owner = select(locks.c.owner).where(locks.c.name == bindparam("b_name"))

    def acquire(self) -> bool:
        """Take the lease if it is free, expired, or already ours (which renews it)."""
        with self._db.write() as conn:
            conn.execute(self._take, {**self._params, "now": cur_ts()})
            # Read back rather than trust rowcount, which psycopg leaves at -1 for an upsert.
            return bool(conn.execute(self._owner, self._params).scalar() == self._params["b_owner"])

    def release(self) -> None:
        with self._db.write() as conn:
            conn.execute(self._give_back, self._params)
