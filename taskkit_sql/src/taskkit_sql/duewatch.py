"""Wake-ups without LISTEN/NOTIFY (MySQL, MariaDB): one thread that looks for due tasks.

The server has no way to push a change to a client, so one thread per
backend asks, in one small query (a *look*):

- which of the groups this process is waiting on have a due queued task,
  where *waiting on* means the group's last claim here came back with fewer
  tasks than asked (``claimed``): nothing due was left then, so a due task
  found now is new (put, due at last, retried, released or restored);
- a signature of the stored control events (the sum of their ids), so
  event bridges read their table only when it changed.

A look is one range probe of the claim index per waiting group; nothing is
written by puts for it, so puts cost what they did and need no extra table.

How often: the pace adapts to activity (:class:`Pace`). Right after tasks
were claimed here the thread looks every FAST seconds; as the quiet goes on
the gap grows with it (BACKOFF of the time since the last activity), up to
SLOW seconds. A task put after a quiet spell therefore waits at most about
BACKOFF of that spell (and never more than SLOW), while an idle process
settles at one look per SLOW seconds. Groups that are busy (their claims
come back full) are not looked for at all: their claimers are claiming;
with no group waiting, only events are looked for, every SLOW seconds.

Tasks put by this very process wake its own watchers at once, with no query
(``tasks_put``); a put inside the application's transaction only quickens
the pace, since it is not visible until the application commits.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable, Iterable

from sqlalchemy import bindparam, func, null, select, union_all
from sqlalchemy.engine import Dialect

from .changes import WatchedSource, tell_watchers
from .databases.base import Family
from .driver import Prepared, fetch
from .engine import Database
from .schema import Tables
from .statements import now_expression, state_is
from .states import QUEUED

logger = logging.getLogger("taskkit.sql.listener")

FAST = 0.01
"""Seconds between looks right after activity (the added latency of a wake-up, at most)."""

BACKOFF = 0.05
"""The gap between looks as a fraction of the time since the last activity."""

SLOW = 1.0
"""The longest gap between looks (an idle process's pace)."""

FAILED_WAIT = 1.0
"""Seconds before the next look after a look failed (the database is down or busy)."""

Clock = Callable[[], float]


class Pace:
    """How long to wait before the next look, from the time of the last activity."""

    def __init__(self, clock: Clock = time.monotonic) -> None:
        self._clock = clock
        self._last = clock()

    def active(self) -> None:
        """Tasks were claimed or put just now: look often again."""
        self._last = self._clock()

    def gap(self) -> float:
        """FAST right after activity, growing with the quiet up to SLOW."""
        quiet = self._clock() - self._last
        return min(SLOW, max(FAST, quiet * BACKOFF))


def look_query(tables: Tables, family: Family, dialect: Dialect, groups: int) -> Prepared:
    """The waiting groups (bound as g0, g1, ...) with a due task, and the events' signature.

    Rows: ``(group_name, None)`` for each of those groups that has a due
    queued task, then ``(None, top)`` with the sum of the stored event ids
    (None when there is no event). The sum changes with every event
    committed, also one whose id is below a newer one committed first, and
    when the table is made anew; the events table is small (an hour's events).
    With ``groups`` 0, only the event row.
    """
    t, e = tables.tasks, tables.events
    newest = select(null().label("group_name"), func.sum(e.c.id).label("top"))
    if not groups:
        return Prepared.of(newest, dialect, newest.selected_columns)
    names = [bindparam(f"g{k}", type_=t.c.group_name.type) for k in range(groups)]
    due = (
        select(t.c.group_name, null().label("top"))
        .where(
            t.c.group_name.in_(names),
            state_is(t.c.state, QUEUED),
            t.c.due <= now_expression(family),
        )
        .distinct()
    )
    # The group column first: a union's columns (and their types) are its first part's.
    query = union_all(due, newest)
    return Prepared.of(query, dialect, query.selected_columns)


class DueWatcher(WatchedSource):
    """Calls task watchers with groups that have new due tasks; wakes waiters on new events."""

    def __init__(self, db: Database, tables: Tables, pace: Pace | None = None) -> None:
        super().__init__()
        self._db = db
        self._tables = tables
        self._pace = pace or Pace()
        self._queries: dict[int, Prepared] = {}
        self._waiting: set[str] = set()
        self._top: int | None = None
        self._stop = threading.Event()
        self._nudge = threading.Event()
        self._thread: threading.Thread | None = None
        self._ok = False

    @property
    def listening(self) -> bool:
        """True while the thread looks and its last look worked (bridges then poll slowly)."""
        thread = self._thread
        return self._ok and thread is not None and thread.is_alive() and not self._stop.is_set()

    def claimed(self, group: str, took: int, asked: int) -> None:
        """A claim of ``group`` here took ``took`` of ``asked`` tasks."""
        with self._lock:
            newly = took < asked and group not in self._waiting
            if took < asked:
                self._waiting.add(group)
            else:
                self._waiting.discard(group)
        if took:
            self._pace.active()
        if newly:
            self._nudge.set()  # the thread may be in a long wait for events only

    def tasks_put(self, groups: Iterable[str], *, committed: bool = True) -> None:
        """This process put (or queued again) tasks of ``groups``: wake its own watchers."""
        watchers = self._current_watchers()
        if not watchers:
            return  # nothing here waits for tasks (a process that only puts)
        self._pace.active()
        self._nudge.set()  # the thread waits the new, short gap
        if committed:
            for group in sorted(set(groups)):
                tell_watchers(watchers, group)

    def close(self) -> None:
        """Stop the thread (at once: its wait is cut short)."""
        self._stop.set()
        self._nudge.set()
        thread = self._thread
        if thread is not None and thread is not threading.current_thread():
            thread.join(FAILED_WAIT)

    def _start(self) -> None:
        with self._lock:
            if self._thread is not None or self._stop.is_set():
                return
            self._thread = threading.Thread(target=self._run, name="taskkit-sql-due", daemon=True)
            self._thread.start()

    def _run(self) -> None:
        while not self._stop.is_set():
            gap = self._gap() if self._look_safely() else FAILED_WAIT
            self._nudge.wait(gap)
            self._nudge.clear()

    def _gap(self) -> float:
        """The pace's gap while a group waits; SLOW when only events are looked for."""
        with self._lock:
            waiting = bool(self._waiting) and bool(self._watchers)
        return self._pace.gap() if waiting else SLOW

    def _look_safely(self) -> bool:
        try:
            self._look()
        except Exception:  # the database is down or busy: receivers poll meanwhile
            logger.debug("could not look for due tasks", exc_info=True)
            self._ok = False
            return False
        return True

    def _look(self) -> None:
        watchers = self._current_watchers()
        with self._lock:
            groups = sorted(self._waiting) if watchers else []
        query = self._query(len(groups))
        values = {f"g{k}": group for k, group in enumerate(groups)}
        rows = self._db.call(lambda cursor: fetch(cursor, query, values))
        self._events_seen(next((r.top for r in rows if r.group_name is None), None))
        for row in rows:
            if row.group_name is not None:
                tell_watchers(watchers, row.group_name)

    def _events_seen(self, top: int | None) -> None:
        top = -1 if top is None else int(top)
        # The first look (and the first after a failure) wakes the waiters too: an
        # event may have been sent before anything looked. Any change of the
        # signature (an event committed, old ones deleted, the table made anew)
        # wakes them.
        if not self._ok or self._top is None or top != self._top:
            self._wake_waiters()
        self._top, self._ok = top, True

    def _query(self, groups: int) -> Prepared:
        query = self._queries.get(groups)
        if query is None:
            db = self._db
            query = self._queries[groups] = look_query(self._tables, db.family, db.dialect, groups)
        return query
