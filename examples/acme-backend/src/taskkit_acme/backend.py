"""The Backend protocol on the standard library's sqlite3, for every process on one host.

Read it next to taskkit_core/backend.py, whose docstrings are the contract.
A task is one row of the ``tasks`` table (see schema.py) whose ``state``
(a ``taskkit_core.TaskState`` value) moves queued -> staged -> succeeded,
failed or cancelled. Claims and outcomes are fenced: a write
after a claim matches on (id, state 'staged', worker_id, attempt), so a
worker that lost its claim changes nothing and learns it from the row count.
Job control (cancel, retry, purge, read-back, listing) is in control.py.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Callable, Collection, Mapping
from typing import Any

from taskkit_core import (
    Cancelled,
    Claim,
    ConfigurationError,
    Connection,
    Failed,
    GroupStats,
    NoResult,
    NotFound,
    Outcome,
    OutcomeKind,
    PutResult,
    StageInfo,
    Task,
    TaskState,
    cur_ts,
)
from taskkit_core.backend import NoSubscription
from taskkit_core.url import mask_url

from .config import parse_config
from .control import JobControl
from .database import Database
from .events import AcmeEventBridge
from .locks import AcmeLock
from .plugin import CAPABILITIES
from .rows import PLACEHOLDERS, TASK_COLUMNS, params_of, task_of

FENCE = "WHERE id = ? AND state = 'staged' AND worker_id = ? AND attempt = ?"
"""Matches a task only while the claim that wants to write still holds it."""

HOLDER = (
    "SELECT id FROM {tasks} WHERE grp = ? AND unique_key = ? "
    "AND (state = 'queued' OR (state = 'staged' AND unique_states = 'active')) "
    "AND (unique_period IS NULL OR created + unique_period > ?) LIMIT 1"
)
"""The task that holds a unique key in a group, if one still counts (see taskkit_core.Unique)."""


def open_connection(url: str, options: Mapping[str, Any]) -> Connection:
    """The opener taskkit calls for ``acme://`` URLs (registered in plugin.py)."""
    db = Database(url, parse_config(url, options))
    try:
        return Connection(backend=AcmeBackend(url, db), bridge=AcmeEventBridge(db))
    except BaseException:
        db.close()
        raise


def _finished(result: bytes | None) -> str:
    """The state of a task that finished with ``result`` (None: it failed)."""
    return (TaskState.SUCCEEDED if result is not None else TaskState.FAILED).value


class AcmeBackend(JobControl):
    """Tasks, leases, scheduler state and locks in one SQLite file.

    Each method keeps the contract of the same method of taskkit_core.Backend,
    whose docstring says what it must do; comments here say how.
    """

    capabilities = CAPABILITIES

    def __init__(self, url: str, db: Database) -> None:
        self.url = url
        self.namespace = db.namespace
        self._db = db
        self._t = db.tables

    def __repr__(self) -> str:
        return f"AcmeBackend({mask_url(self.url)!r}, namespace={self.namespace!r})"

    # -- leases ------------------------------------------------------------

    def refresh_leases(self, worker_ids: Collection[str], ttl: float) -> list[str]:
        expires = cur_ts() + ttl
        ids = list(worker_ids)
        with self._db.write() as c:
            c.executemany(
                f"INSERT OR REPLACE INTO {self._t.leases} (id, expires) VALUES (?, ?)",
                [(worker_id, expires) for worker_id in ids],
            )
            # Cancel requests of these workers, read from the small cancel index.
            rows = c.execute(
                f"SELECT id FROM {self._t.tasks} WHERE cancel_requested = 1 "
                f"AND worker_id IN ({', '.join('?' * len(ids))}) ORDER BY id",
                ids,
            ).fetchall()
        return [task_id for (task_id,) in rows]

    def get_leases(self) -> list[tuple[str, float]]:
        with self._db.read() as c:
            rows = c.execute(f"SELECT id, expires FROM {self._t.leases} ORDER BY expires, id")
            return [(worker_id, expires) for worker_id, expires in rows]

    def drop_leases(self, worker_ids: Collection[str]) -> None:
        with self._db.write() as c:
            c.executemany(f"DELETE FROM {self._t.leases} WHERE id = ?", [(w,) for w in worker_ids])

    def purge_expired_leases(self) -> list[str]:
        now = cur_ts()
        with self._db.write() as c:
            rows = c.execute(f"SELECT id FROM {self._t.leases} WHERE expires < ?", (now,))
            dead = [worker_id for (worker_id,) in rows]
            c.execute(f"DELETE FROM {self._t.leases} WHERE expires < ?", (now,))
        return dead

    # -- putting tasks in --------------------------------------------------

    def put_tasks(self, *tasks: Task, connection: Any = None) -> list[PutResult]:
        if connection is not None:
            raise ConfigurationError("acme:// cannot join an application transaction")
        with self._db.write() as c:  # BEGIN IMMEDIATE: one writer, so check-then-insert is atomic
            return self._insert(c, tasks)

    def _insert(self, c: sqlite3.Connection, tasks: Collection[Task]) -> list[PutResult]:
        now = cur_ts()
        return [self._insert_one(c, task, now) for task in tasks]

    def _insert_one(self, c: sqlite3.Connection, task: Task, now: float) -> PutResult:
        if task.unique is not None and not self._exists(c, task.id):
            holder = c.execute(
                HOLDER.format(tasks=self._t.tasks), (task.group, task.unique.key, now)
            ).fetchone()
            if holder is not None and holder[0] != task.id:
                return PutResult(holder[0], False)
        cursor = c.execute(
            f"INSERT OR IGNORE INTO {self._t.tasks} ({TASK_COLUMNS}, state) "
            f"VALUES ({PLACEHOLDERS}, 'queued')",
            params_of(task),
        )
        return PutResult(task.id, cursor.rowcount == 1)

    def _exists(self, c: sqlite3.Connection, task_id: str) -> bool:
        return (
            c.execute(f"SELECT 1 FROM {self._t.tasks} WHERE id = ?", (task_id,)).fetchone()
            is not None
        )

    def put_done_task(
        self, task: Task, *, result: bytes | None = None, error: str | None = None
    ) -> None:
        now = cur_ts()
        with self._db.write() as c:
            c.execute(
                f"INSERT OR REPLACE INTO {self._t.tasks} ({TASK_COLUMNS}, "
                "state, began, result, error, done_at) "
                f"VALUES ({PLACEHOLDERS}, ?, ?, ?, ?, ?)",
                (*params_of(task), _finished(result), now, result, error, now),
            )

    # -- claiming and settling ------------------------------------------------

    def claim_tasks(self, group: str, worker_id: str, limit: int = 1) -> list[Claim]:
        if limit < 1:
            return []
        now = cur_ts()
        with self._db.write() as c:  # BEGIN IMMEDIATE: no other process claims meanwhile
            rows = c.execute(
                f"SELECT {TASK_COLUMNS}, attempt FROM {self._t.tasks} "
                "WHERE state = 'queued' AND grp = ? AND due <= ? "
                "ORDER BY priority DESC, due, id LIMIT ?",
                (group, now, limit),
            ).fetchall()
            c.executemany(
                f"UPDATE {self._t.tasks} SET state = 'staged', worker_id = ?, began = ?, "
                "attempt = attempt + 1 WHERE id = ?",
                [(worker_id, now, row[0]) for row in rows],
            )
        return [Claim(task_of(row), worker_id, row[-1] + 1, now) for row in rows]

    def settle(self, *outcomes: Outcome) -> list[bool]:
        now = cur_ts()
        with self._db.write() as c:  # one transaction: every outcome or none
            return [self._settle_one(c, outcome, now) for outcome in outcomes]

    def _settle_one(self, c: sqlite3.Connection, outcome: Outcome, now: float) -> bool:
        claim = outcome.claim
        change, params = self._change(outcome, now)
        cursor = c.execute(
            f"{change} {FENCE}", (*params, claim.task.id, claim.worker_id, claim.attempt)
        )
        return bool(cursor.rowcount == 1)

    def _change(self, outcome: Outcome, now: float) -> tuple[str, tuple[Any, ...]]:
        """The statement (before its fence) that applies ``outcome``, and its parameters.

        Every change clears a cancel request: whatever settles first stands.
        """
        tasks = f"{self._t.tasks} SET cancel_requested = 0,"
        requeue = "state = 'queued', worker_id = NULL, began = NULL"
        match outcome.kind:
            case OutcomeKind.SUCCEEDED:
                sql = f"UPDATE {tasks} state = 'succeeded', result = ?, error = NULL, done_at = ?"
                return sql, (outcome.result, now)
            case OutcomeKind.FAILED | OutcomeKind.CANCELLED:
                sql = f"UPDATE {tasks} state = ?, error = ?, done_at = ?"
                return sql, (outcome.kind.value, outcome.message, now)
            case OutcomeKind.RETRIED:
                sql = f"UPDATE {tasks} {requeue}, due = ?, retry_count = retry_count + 1"
                return sql, (now + outcome.delay,)
            case OutcomeKind.RELEASED:  # never started: the attempt is given back
                return f"UPDATE {tasks} {requeue}, attempt = attempt - 1", ()
            case OutcomeKind.DISCARDED:
                return f"DELETE FROM {self._t.tasks}", ()

    def restore_abandoned(self, limit: int) -> list[StageInfo]:
        now = cur_ts()
        with self._db.write() as c:  # a heartbeat cannot slip in between select and update
            rows = c.execute(
                f"SELECT worker_id, id, began, attempt FROM {self._t.tasks} "
                f"WHERE state = 'staged' AND worker_id NOT IN "
                f"(SELECT id FROM {self._t.leases} WHERE expires >= ?) "
                "ORDER BY began, id LIMIT ?",
                (now, max(limit, 0)),
            ).fetchall()
            # A task whose cancellation was requested is cancelled, not queued again.
            c.executemany(
                f"UPDATE {self._t.tasks} SET state = 'queued', worker_id = NULL, began = NULL "
                "WHERE id = ? AND cancel_requested = 0",
                [(row[1],) for row in rows],
            )
            c.executemany(
                f"UPDATE {self._t.tasks} SET state = 'cancelled', cancel_requested = 0, "
                "error = 'cancelled: its worker died before it stopped', done_at = ? "
                "WHERE id = ? AND cancel_requested = 1",
                [(now, row[1]) for row in rows],
            )
        return [StageInfo(*row) for row in rows]

    # -- reading -------------------------------------------------------------

    def lookup_tasks(self, *task_ids: str) -> dict[str, Task | None]:
        sql = f"SELECT {TASK_COLUMNS} FROM {self._t.tasks} WHERE id = ?"
        with self._db.read() as c:
            rows = {task_id: c.execute(sql, (task_id,)).fetchone() for task_id in task_ids}
        return {task_id: task_of(row) if row else None for task_id, row in rows.items()}

    def get_queued_tasks(self, group: str, limit: int) -> list[Task]:
        with self._db.read() as c:
            rows = c.execute(
                f"SELECT {TASK_COLUMNS} FROM {self._t.tasks} "
                "WHERE state = 'queued' AND grp = ? ORDER BY priority DESC, due, id LIMIT ?",
                (group, max(limit, 0)),
            ).fetchall()
        return [task_of(row) for row in rows]

    def get_result(self, task_id: str) -> tuple[Task, bytes]:
        with self._db.read() as c:
            row = c.execute(
                f"SELECT {TASK_COLUMNS}, state, result, error FROM {self._t.tasks} WHERE id = ?",
                (task_id,),
            ).fetchone()
        if row is None:
            raise NotFound(f"no task with id {task_id!r}")
        task, (state, result, error) = task_of(row), row[-3:]
        if TaskState(state) is TaskState.FAILED:
            raise Failed(task, error or "")
        if TaskState(state) is TaskState.CANCELLED:
            raise Cancelled(task, error or "cancelled")
        if TaskState(state) is not TaskState.SUCCEEDED:
            raise NoResult(task)
        return task, result

    def get_done_task_ids(self, since: float | None, until: float | None, limit: int) -> list[str]:
        low = since if since is not None else float("-inf")
        high = until if until is not None else cur_ts()
        return self._ids(
            "done_at IS NOT NULL AND done_at BETWEEN ? AND ? ORDER BY done_at, id",
            (low, high),
            limit,
        )

    def get_disposable_task_ids(self, limit: int) -> list[str]:
        return self._ids(
            "done_at IS NOT NULL AND done_at + ttl < ? ORDER BY done_at + ttl, id",
            (cur_ts(),),
            limit,
        )

    def _ids(self, where: str, params: tuple[Any, ...], limit: int) -> list[str]:
        with self._db.read() as c:
            rows = c.execute(
                f"SELECT id FROM {self._t.tasks} WHERE {where} LIMIT ?", (*params, max(limit, 0))
            )
            return [task_id for (task_id,) in rows]

    def get_stage_info(self, limit: int) -> list[StageInfo]:
        with self._db.read() as c:
            rows = c.execute(
                f"SELECT worker_id, id, began, attempt FROM {self._t.tasks} "
                "WHERE state = 'staged' ORDER BY began, id LIMIT ?",
                (max(limit, 0),),
            ).fetchall()
        return [StageInfo(*row) for row in rows]

    def group_stats(self, since: float) -> list[GroupStats]:
        with self._db.read() as c:
            rows = c.execute(
                "SELECT grp, sum(state = 'queued'), sum(state = 'queued' AND due <= :now), "
                "sum(state = 'staged'), "
                "sum(state = 'succeeded' AND done_at >= :since), "
                "sum(state = 'failed' AND done_at >= :since), "
                "min(CASE WHEN state = 'queued' AND due <= :now THEN due END), "
                "sum(state = 'cancelled' AND done_at >= :since) "
                f"FROM {self._t.tasks} GROUP BY grp ORDER BY grp",
                {"now": cur_ts(), "since": since},
            ).fetchall()
        return [GroupStats(*row) for row in rows]

    # -- removing --------------------------------------------------------------

    def discard_tasks(self, *task_ids: str) -> None:
        with self._db.write() as c:
            c.executemany(f"DELETE FROM {self._t.tasks} WHERE id = ?", [(i,) for i in task_ids])

    # -- scheduler -------------------------------------------------------------

    def persist_scheduler_state_and_put_tasks(
        self, name: str, data: bytes, *tasks: Task, expected: bytes | None = None
    ) -> bool:
        with self._db.write() as c:
            row = c.execute(
                f"SELECT data FROM {self._t.scheduler} WHERE name = ?", (name,)
            ).fetchone()
            if (row[0] if row else None) != expected:
                return False  # another scheduler got there first: change nothing
            c.execute(
                f"INSERT OR REPLACE INTO {self._t.scheduler} (name, data) VALUES (?, ?)",
                (name, data),
            )
            self._insert(c, tasks)
            return True

    def get_scheduler_state(self, name: str) -> bytes | None:
        with self._db.read() as c:
            row = c.execute(
                f"SELECT data FROM {self._t.scheduler} WHERE name = ?", (name,)
            ).fetchone()
        return row[0] if row else None

    # -- coordination -----------------------------------------------------------

    def get_lock(self, target: str) -> AcmeLock:
        return AcmeLock(self._db, target)

    def watch_tasks(self, callback: Callable[[str], None]) -> NoSubscription:
        return NoSubscription()  # no push_wakeups: workers find new tasks by polling

    # -- lifecycle ----------------------------------------------------------------

    def destroy_all(self) -> None:
        with self._db.write() as c:
            t = self._t
            for table in (t.tasks, t.leases, t.scheduler, t.locks, t.events):
                c.execute(f"DELETE FROM {table}")

    def close(self) -> None:
        self._db.close()
