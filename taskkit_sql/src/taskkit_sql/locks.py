"""Named locks shared by every process of a namespace; none holds a transaction open.

- PostgreSQL: ``pg_try_advisory_lock(key)`` on a connection kept (in
  autocommit) while the lock is held; ``key`` is a stable 64-bit hash of
  namespace and name. The lock dies with its session, so a killed process
  frees it at once.
- MySQL/MariaDB: ``GET_LOCK(name, 0)`` the same way; the name is a hash of
  database, namespace and lock name (GET_LOCK names are server-wide and
  limited to 64 characters).
- SQLite: a lease row in ``<namespace>_locks`` that expires after
  LEASE_SECONDS, so a lock of a killed process frees itself within that.
"""

from __future__ import annotations

import hashlib
import secrets
import threading
from typing import Any

from sqlalchemy import Double, bindparam, delete, func, select
from sqlalchemy.dialects import sqlite
from sqlalchemy.engine import Connection, Engine
from sqlalchemy.sql import Select
from taskkit_core.clock import cur_ts

from .engine import Database
from .schema import Tables

LEASE_SECONDS = 60.0
"""How long an SQLite lease lock outlives a holder that never releases it."""


def _digest(*parts: str, size: int) -> bytes:
    text = "\x00".join(parts).encode("utf-8", "surrogatepass")
    return hashlib.blake2b(text, digest_size=size).digest()


def advisory_key(namespace: str, target: str) -> int:
    """The signed 64-bit key of a PostgreSQL advisory lock."""
    return int.from_bytes(_digest(namespace, target, size=8), "big", signed=True)


def mysql_lock_name(database: str, namespace: str, target: str) -> str:
    """A GET_LOCK name: 8 + 32 characters, distinct per database, namespace and name."""
    return f"taskkit:{_digest(database, namespace, target, size=16).hex()}"


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


def postgres_lock(engine: Engine, namespace: str, target: str) -> SessionLock:
    """An advisory lock keyed by namespace and target."""
    key = advisory_key(namespace, target)
    return SessionLock(
        engine, select(func.pg_try_advisory_lock(key)), select(func.pg_advisory_unlock(key))
    )


def mysql_lock(engine: Engine, namespace: str, target: str) -> SessionLock:
    """A GET_LOCK lock named after database, namespace and target."""
    name = mysql_lock_name(engine.url.database or "", namespace, target)
    return SessionLock(engine, select(func.get_lock(name, 0)), select(func.release_lock(name)))


class LeaseLock:
    """A row in the locks table owned by a random token until released or expired."""

    def __init__(self, db: Database, tables: Tables, target: str) -> None:
        locks = tables.locks
        self._db = db
        self._params = {"b_name": target, "b_owner": secrets.token_hex(16)}
        upsert = sqlite.insert(locks).values(
            name=bindparam("b_name"),
            owner=bindparam("b_owner"),
            expires=bindparam("now", type_=Double()) + LEASE_SECONDS,
        )
        self._take = upsert.on_conflict_do_update(
            index_elements=[locks.c.name],
            set_={"owner": upsert.excluded.owner, "expires": upsert.excluded.expires},
            where=(locks.c.expires < bindparam("now")) | (locks.c.owner == upsert.excluded.owner),
        )
        self._give_back = delete(locks).where(
            locks.c.name == bindparam("b_name"), locks.c.owner == bindparam("b_owner")
        )

    def acquire(self) -> bool:
        """Take the lease if it is free, expired, or already ours (which renews it)."""
        with self._db.write() as conn:
            return conn.execute(self._take, {**self._params, "now": cur_ts()}).rowcount == 1

    def release(self) -> None:
        with self._db.write() as conn:
            conn.execute(self._give_back, self._params)
