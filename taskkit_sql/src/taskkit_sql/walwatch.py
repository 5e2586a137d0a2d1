"""SQLite wake-ups without queries: a thread that watches the WAL file.

Every commit that changes an SQLite database in WAL mode appends to (or,
after a checkpoint, rewrites the start of) ``<database>-wal``, which
changes the file's size or modification time. One thread per backend
checks them with ``os.stat`` every CHECK_EVERY seconds, a system call and
no database work. On a change it

- wakes the event bridge's waiters (they read the events table once), and
- if anyone watches tasks, runs one query for the groups of the rows put
  since the last look (rows past the largest ``rowid`` seen; a put is an
  INSERT, so new tasks are always new rowids) and calls back with each.

Between changes, an idle worker sends nothing at all. What this misses (a
commit within the file system's timestamp granularity that leaves the size
unchanged, a task requeued rather than put) is found by the workers' own
polling, as the ``watch_tasks`` contract allows. Only processes on the
host that holds the file see it change, which is all SQLite serves.
"""

from __future__ import annotations

import logging
import os
import threading

from sqlalchemy import Integer, bindparam, func, literal_column, null, select, union_all
from sqlalchemy.engine import Dialect

from .changes import WatchedSource, tell_watchers
from .driver import Prepared, fetch
from .engine import Database
from .schema import Tables

logger = logging.getLogger("taskkit.sql.listener")

CHECK_EVERY = 0.003
"""Seconds between two looks at the WAL file (the added latency of a wake-up, at most)."""

BUSY_CHECK_EVERY = 0.025
"""Seconds between looks while every look finds a change (the database is busy: its
workers are awake anyway, and each look costs the worker process a thread switch)."""

MAX_ROWID = 2**63 - 1
"""The largest rowid SQLite gives a row."""

Signature = tuple[int, int, int] | None


def wal_path(database: str) -> str | None:
    """The WAL file of an SQLite database file name (None for URI names, which vary)."""
    if not database or database.startswith("file:") or database == ":memory:":
        return None
    return f"{os.path.abspath(database)}-wal"


def _signature(path: str) -> Signature:
    try:
        st = os.stat(path)
    except OSError:
        return None
    return (st.st_ino, st.st_size, st.st_mtime_ns)


def new_groups_query(tables: Tables, dialect: Dialect) -> Prepared:
    """One query: the newest rowid, then each group with rows past ``b_last``, the last seen.

    ``GROUP BY +group_name``: the unary plus keeps SQLite's planner from reading
    the claim index (it starts with group_name) in full to spare a sort. Without
    statistics it did, and with 1.1 M rows a look took 64 ms instead of 0.03 ms.
    """
    t = tables.tasks
    row_id = literal_column("rowid", Integer())
    newest = select(null().label("group_name"), func.max(row_id).label("top")).select_from(t)
    new_groups = (
        select(t.c.group_name, func.max(row_id).label("top"))
        .where(row_id > bindparam("b_last", type_=Integer()))
        .group_by(literal_column(f"+{t.c.group_name.name}"))
    )
    query = union_all(newest, new_groups)
    return Prepared.of(query, dialect, query.selected_columns)


class WalWatcher(WatchedSource):
    """Calls task watchers with the groups of new tasks; wakes event waiters on any commit."""

    def __init__(self, db: Database, tables: Tables, path: str) -> None:
        super().__init__()
        self._query = new_groups_query(tables, db.dialect)
        self._db = db
        self._path = path
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self._last: int | None = None

    @property
    def listening(self) -> bool:
        """True while the thread watches (event bridges then read only on a change)."""
        thread = self._thread
        return thread is not None and thread.is_alive() and not self._stop.is_set()

    def close(self) -> None:
        """Stop the thread (within CHECK_EVERY seconds)."""
        self._stop.set()
        thread = self._thread
        if thread is not None and thread is not threading.current_thread():
            thread.join(1.0)

    def _start(self) -> None:
        with self._lock:
            if self._thread is not None or self._stop.is_set():
                return
            self._thread = threading.Thread(target=self._run, name="taskkit-sql-wal", daemon=True)
        self._new_groups()  # the rowid to start from, before the first change is seen
        self._thread.start()

    def _run(self) -> None:
        seen = _signature(self._path)
        changed_before = False
        while not self._stop.wait(BUSY_CHECK_EVERY if changed_before else CHECK_EVERY):
            now = _signature(self._path)
            changed = now != seen
            if changed:
                seen = now
                self._changed()
            # Two looks in a row found a change: busy, look less often until one finds none.
            changed_before = changed

    def _changed(self) -> None:
        self._wake_waiters()
        watchers = self._current_watchers()
        if not watchers:
            return
        try:
            groups = self._new_groups()
        except Exception:  # a busy or broken database: the workers' polling covers it
            logger.debug("could not read the groups of new tasks", exc_info=True)
            return
        for group in groups:
            tell_watchers(watchers, group)

    def _new_groups(self) -> list[str]:
        """Groups of the rows put since the last call; advances the rowid mark."""
        # The first look only learns the newest rowid: no row is past the largest one.
        last = self._last if self._last is not None else MAX_ROWID
        rows = self._db.call(lambda cursor: fetch(cursor, self._query, {"b_last": last}))
        top = max((int(r.top) for r in rows if r.top is not None), default=-1)
        first = self._last is None
        self._last = top  # also lower than before if the newest rows were deleted
        if first:
            return []
        return sorted({r.group_name for r in rows if r.group_name is not None})
