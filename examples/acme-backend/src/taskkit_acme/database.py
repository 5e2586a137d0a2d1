"""One SQLite connection per opened URL, shared by the threads of a process.

A ``threading.Lock`` lets one thread at a time use the connection; SQLite's
own file locking (with a busy timeout) orders the processes. Every write
runs in ``BEGIN IMMEDIATE``, which takes the database's write lock before
the first read, so a read-then-write step (a claim, a compare-and-set) is
atomic across processes. In WAL mode readers never wait for that writer.
"""

from __future__ import annotations

import sqlite3
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from urllib.parse import quote

from taskkit_core import StorageNotReady
from taskkit_core.url import mask_url

from .config import AcmeConfig
from .schema import Tables, check_case, exists


class Database:
    """The connection, the lock that guards it, and the namespace's table names."""

    def __init__(self, url: str, config: AcmeConfig) -> None:
        self.namespace = config.namespace
        self.tables = Tables.of(config.namespace)
        self._lock = threading.Lock()
        self._connection = _connect_existing(url, config)
        self._closed = False

    @contextmanager
    def write(self) -> Iterator[sqlite3.Connection]:
        """A write transaction: committed when the block ends, rolled back if it raises."""
        with self._lock, self._transaction("BEGIN IMMEDIATE") as connection:
            yield connection

    @contextmanager
    def read(self) -> Iterator[sqlite3.Connection]:
        """A read transaction: every query in the block sees the same snapshot."""
        with self._lock, self._transaction("BEGIN") as connection:
            yield connection

    @contextmanager
    def _transaction(self, begin: str) -> Iterator[sqlite3.Connection]:
        self._connection.execute(begin)
        try:
            yield self._connection
            self._connection.execute("COMMIT")
        except BaseException:
            self._connection.execute("ROLLBACK")
            raise

    def close(self) -> None:
        """Close the connection (the backend and the bridge both call this; once is enough)."""
        with self._lock:
            if not self._closed:
                self._closed = True
                self._connection.close()


def _connect_existing(url: str, config: AcmeConfig) -> sqlite3.Connection:
    """Open the file without creating it; StorageNotReady when it or its tables are missing."""
    where = mask_url(url)
    if not Path(config.path).is_file():
        raise StorageNotReady(
            f"{where!r}: the database file does not exist; create it with "
            f"`taskkit migrate --url {where}` or taskkit_core.migrate(url)"
        )
    connection = sqlite3.connect(
        f"file:{quote(config.path)}?mode=rw",
        uri=True,
        timeout=config.timeout,
        isolation_level=None,  # no implicit transactions: Database says when they begin
        check_same_thread=False,  # threads take turns through Database._lock
    )
    try:
        check_case(connection, config.namespace)
        if exists(connection, config.namespace):
            return connection
    except BaseException:
        connection.close()
        raise
    connection.close()
    raise StorageNotReady(
        f"{where!r} has no tables for namespace {config.namespace!r}; create them with "
        f"`taskkit migrate --url {where} --namespace {config.namespace}` "
        "or taskkit_core.migrate(url, namespace=...)"
    )
