"""The Backend protocol on SQLAlchemy Core, for SQLite, PostgreSQL and MySQL/MariaDB.

Every method runs its statements in one short transaction (or one
autocommit statement) and returns; none keeps a transaction open.
Statements are built once per backend (``statements``, ``claims``).

A claim whose answer was lost leaves a forgotten claim; the next claim of
the same worker and group adopts it (see ``forgotten``).

Job control (cancel, retry, purge, read-back, listing) is in ``control``;
the heartbeat and the cancel requests it hands back in ``heartbeat``;
unique keys in ``uniques``.
"""

from __future__ import annotations

from collections.abc import Callable, Collection, Iterator, Sequence
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.engine import Connection
from taskkit_core.backend import (
    FINISHED_STATES,
    CancelResult,
    Capabilities,
    Claim,
    GroupStats,
    Lock,
    NoSubscription,
    Outcome,
    OutcomeKind,
    PutResult,
    RetryResult,
    StageInfo,
    Subscription,
    TaskInfo,
)
from taskkit_core.clock import cur_ts
from taskkit_core.errors import Cancelled, ConfigurationError, Failed, NoResult, NotFound
from taskkit_core.task import Task

from taskkit_core import TaskState

from .changes import ChangeSource
from .control import JobControl
from .driver import Prepared
from .engine import Database
from .forgotten import ForgottenClaims
from .heartbeat import Heartbeat
from .namespaces import RECORD
from .puts import TaskWriter
from .schema import WORKER_ID_LENGTH, Tables
from .settling import ArrayOutcomeWriter, OutcomeWriter, RowOutcomeWriter
from .statements import Statements, task_from_row
from .states import task_state

LOOKUP_CHUNK = 500
"""Ids per ``IN (...)`` list when looking up or deleting many tasks."""


class _Watch:
    """A ``watch_tasks`` registration on the change source (see ``changes``)."""

    def __init__(self, source: ChangeSource, callback: Callable[[str], None]) -> None:
        self._source, self._callback = source, callback
        source.add_watcher(callback)

    def close(self) -> None:
        self._source.remove_watcher(self._callback)


class SqlBackend:
    """Tasks, workers, scheduler states and locks in the tables of one namespace."""

    def __init__(
        self,
        url: str,
        masked_url: str,
        db: Database,
        tables: Tables,
        changes: ChangeSource | None,
    ) -> None:
        self.url = url
        self.namespace = tables.namespace
        self.capabilities: Capabilities = db.family.capabilities
        self._masked = masked_url
        self._db = db
        self._tables = tables
        self._changes = changes
        self._sql = Statements(tables, db.family)
        self._claims = db.family.claims(db, tables, self._sql)
        arrays = db.family.array_statements(db, tables)
        self._heartbeat = Heartbeat(db, tables, self._sql, arrays)
        self._writer = TaskWriter(db, tables, self._sql, arrays)
        self._control = JobControl(db, tables, self._sql)
        self._outcomes: OutcomeWriter = (
            RowOutcomeWriter(db, self._sql.settle)
            if arrays is None
            else ArrayOutcomeWriter(db, arrays)
        )
        self._forgotten = ForgottenClaims()

    def __repr__(self) -> str:
        return f"SqlBackend({self._masked!r}, namespace={self.namespace!r})"

    def _now(self) -> dict[str, float]:
        return {"now": cur_ts()}

    # -- leases -------------------------------------------------------------

    def refresh_leases(self, worker_ids: Collection[str], ttl: float) -> list[str]:
        for worker_id in worker_ids:
            check_worker_id(worker_id)
        # Few round trips (one on PostgreSQL), as each may wait for the GIL behind
        # a busy task (see engine). An upsert and a read: safe to repeat.
        return self._heartbeat.beat(worker_ids, ttl)

    def get_leases(self) -> list[tuple[str, float]]:
        return self._db.run(
            lambda conn: [(r.id, float(r.expires)) for r in conn.execute(self._sql.leases)]
        )

    def drop_leases(self, worker_ids: Collection[str]) -> None:
        if not worker_ids:
            return
        ids = sorted(worker_ids)

        def work(conn: Connection) -> None:
            conn.execute(self._sql.delete_leases, {"b_ids": ids})
            self._heartbeat.forget(conn, ids)

        self._db.run(work, transaction=True)

    def purge_expired_leases(self) -> list[str]:
        if not self._any_expired_lease():
            return []

        def work(conn: Connection) -> list[str]:
            dead = list(conn.execute(self._sql.expired_leases, self._now()).scalars())
            if dead:
                conn.execute(self._sql.delete_expired_leases, {"b_ids": dead, **self._now()})
                self._heartbeat.forget(conn, dead)
            return dead

        return sorted(self._db.run(work, transaction=True))

    def _any_expired_lease(self) -> bool:
        """One plain read, so that the usual round finds nothing without locking rows."""
        statement = self._sql.any_expired_lease
        return self._db.run(lambda conn: conn.execute(statement, self._now()).first()) is not None

    # -- putting tasks in --------------------------------------------------

    def put_tasks(self, *tasks: Task, connection: Any = None) -> Sequence[PutResult]:
        results = self._writer.put(tasks, connection)
        if self._changes is not None:
            self._changes.tasks_put((t.group for t in tasks), committed=connection is None)
        return results

    def put_done_task(
        self, task: Task, *, result: bytes | None = None, error: str | None = None
    ) -> None:
        self._writer.put_done(task, result, error)

    # -- claims ----------------------------------------------------------------

    def claim_tasks(self, group: str, worker_id: str, limit: int = 1) -> list[Claim]:
        if limit < 1:
            return []
        check_worker_id(worker_id)
        try:
            claims = self._forgotten.adopt(
                group, worker_id, limit, lambda: self._staged_to(group, worker_id)
            )
            if len(claims) < limit:
                claims += self._claims.claim(group, worker_id, limit - len(claims))
        except BaseException:
            self._forgotten.claim_failed(group, worker_id)
            raise
        self._forgotten.handed_out(group, claims)
        if self._changes is not None:
            self._changes.claimed(group, len(claims), limit)
        return claims

    def _staged_to(self, group: str, worker_id: str) -> Sequence[Any]:
        params = {"b_worker": worker_id, "b_group": group}
        return self._db.run(lambda conn: conn.execute(self._sql.staged_to_worker, params).all())

    def settle(self, *outcomes: Outcome) -> list[bool]:
        if not outcomes:
            return []
        answers = self._outcomes.settle(outcomes)
        self._forgotten.settled(outcomes)
        cancelled = [
            o.claim.task.id
            for o, accepted in zip(outcomes, answers, strict=True)
            if accepted and o.kind is OutcomeKind.CANCELLED
        ]
        if cancelled:  # the requests are answered (rare: only after a cancel)
            self._db.run(lambda conn: conn.execute(self._sql.delete_requests, {"b_ids": cancelled}))
        return answers

    def restore_abandoned(self, limit: int) -> list[StageInfo]:
        restored = self._claims.restore(limit) if limit > 0 else []
        self._writer.wake({r.group for r in restored})
        if self._changes is not None and restored:
            self._changes.tasks_put(r.group for r in restored)
        return [r.info for r in restored]

    # -- reading -------------------------------------------------------------

    def lookup_tasks(self, *task_ids: str) -> dict[str, Task | None]:
        def work(conn: Connection) -> dict[str, Task]:
            found: dict[str, Task] = {}
            for chunk in _chunks(list(dict.fromkeys(task_ids))):
                for row in conn.execute(self._sql.lookup, {"b_ids": chunk}):
                    found[row.id] = task_from_row(row)
            return found

        found = self._db.run(work)
        return {task_id: found.get(task_id) for task_id in task_ids}

    def get_queued_tasks(self, group: str, limit: int) -> list[Task]:
        params = {"b_group": group, "b_limit": limit}
        rows = self._db.run(lambda conn: conn.execute(self._sql.queued, params).all())
        return [task_from_row(row) for row in rows]

    def get_result(self, task_id: str) -> tuple[Task, bytes]:
        row = self._db.run(lambda conn: conn.execute(self._sql.result, {"b_id": task_id}).first())
        if row is None:
            raise NotFound(f"no task with id {task_id!r}")
        task = task_from_row(row)
        state = task_state(row.state)
        if state not in FINISHED_STATES:
            raise NoResult(task)
        if state is TaskState.FAILED:
            raise Failed(task, row.error or "")
        if state is TaskState.CANCELLED:
            raise Cancelled(task, row.error or "cancelled")
        return task, bytes(row.result)

    def get_done_task_ids(self, since: float | None, until: float | None, limit: int) -> list[str]:
        low = since if since is not None else float("-1e300")
        params = {"b_since": low, "b_until": until, "b_limit": limit, **self._now()}
        statement = self._sql.done_ids if until is not None else self._sql.done_ids_until_now
        return self._db.run(lambda conn: list(conn.execute(statement, params).scalars()))

    def get_disposable_task_ids(self, limit: int) -> list[str]:
        params = {"b_limit": limit, **self._now()}
        return self._db.run(
            lambda conn: list(conn.execute(self._sql.disposable_ids, params).scalars())
        )

    def get_stage_info(self, limit: int) -> list[StageInfo]:
        params = {"b_limit": limit}
        rows = self._db.run(lambda conn: conn.execute(self._sql.stage_info, params).all())
        return [StageInfo(r.worker_id, r.id, float(r.began), int(r.attempt)) for r in rows]

    def server_warnings(self) -> list[str]:
        """What in the server's settings can lose tasks or slow workers (worker start logs it)."""
        return self._db.family.server_warnings(self._db, self._masked, self._tables)

    def group_stats(self, since: float) -> list[GroupStats]:
        params = {"b_since": since, **self._now()}
        rows = self._db.run(lambda conn: conn.execute(self._sql.group_stats, params).all())
        stats = [
            GroupStats(
                group=r.group_name,
                queued=int(r.queued),
                due=int(r.due),
                staged=int(r.staged),
                done=int(r.done),
                failed=int(r.failed),
                oldest_due=None if r.oldest_due is None else float(r.oldest_due),
                cancelled=int(r.cancelled),
            )
            for r in rows
        ]
        return sorted(stats, key=lambda s: s.group)

    # -- removing --------------------------------------------------------------

    def discard_tasks(self, *task_ids: str) -> None:
        ids = list(dict.fromkeys(task_ids))

        def work(conn: Connection) -> None:
            for chunk in _chunks(ids):
                conn.execute(self._sql.delete_tasks, {"b_ids": chunk})
                conn.execute(self._sql.delete_unique_keys, {"b_ids": chunk})

        if ids:
            self._db.run(work, transaction=True)  # deleting by id: safe to repeat

    # -- job control -------------------------------------------------------------

    def read_task(self, task_id: str) -> TaskInfo | None:
        return self._control.read_task(task_id)

    def list_tasks(
        self,
        state: TaskState,
        group: str | None = None,
        limit: int = 50,
        before: str | None = None,
    ) -> list[TaskInfo]:
        return self._control.list_tasks(state, group, limit, before)

    def cancel_tasks(self, *task_ids: str) -> dict[str, CancelResult]:
        return self._control.cancel_tasks(task_ids)

    def retry_tasks(self, *task_ids: str) -> dict[str, RetryResult]:
        answers, groups = self._control.retry_tasks(task_ids)
        self._writer.wake(groups)
        return answers

    def purge_tasks(self, group: str, states: Collection[TaskState] = FINISHED_STATES) -> int:
        return self._control.purge_tasks(group, states)

    # -- scheduler -------------------------------------------------------------

    def persist_scheduler_state_and_put_tasks(
        self, name: str, data: bytes, *tasks: Task, expected: bytes | None = None
    ) -> bool:
        return self._writer.put_with_scheduler_state(name, data, tasks, expected)

    def get_scheduler_state(self, name: str) -> bytes | None:
        params = {"b_name": name}
        data = self._db.run(lambda conn: conn.execute(self._sql.scheduler_state, params).scalar())
        return None if data is None else bytes(data)

    # -- coordination -----------------------------------------------------------

    def get_lock(self, target: str) -> Lock:
        return self._db.family.lock(self._db, self._tables, target)

    def watch_tasks(self, callback: Callable[[str], None]) -> Subscription:
        if self._changes is None:
            return NoSubscription()
        return _Watch(self._changes, callback)

    # -- lifecycle ----------------------------------------------------------------

    def destroy_all(self) -> None:
        locks = self._tables.locks
        # Every row, but the record of the namespace's exact name (see ``namespaces``).
        deletes = [
            locks.delete().where(locks.c.name != RECORD) if table is locks else table.delete()
            for table in self._tables.all()
        ]

        def work(conn: Connection) -> None:
            for delete_rows in deletes:
                conn.execute(delete_rows)

        self._db.run(work, transaction=True)

    def close(self) -> None:
        if self._changes is not None:
            self._changes.close()
        self._db.close()

    def count_tasks(self) -> int:
        """How many tasks the namespace holds in any state (for operators and tests)."""
        statement = select(func.count()).select_from(self._tables.tasks)
        count = self._db.run(lambda conn: conn.execute(statement).scalar())
        return int(count or 0)

    @property
    def database(self) -> Database:
        """The engine and transaction helpers (for tests and tools in this package)."""
        return self._db

    def explainable(self, state: TaskState = TaskState.FAILED) -> dict[str, Prepared]:
        """The statements whose plans matter with many tasks, compiled (for tests).

        ``claim`` picks due tasks; ``list_group`` and ``list`` are list_tasks
        of ``state`` with and without a group; ``cancel_requests``
        is the heartbeat's lookup for one worker (PostgreSQL's heartbeat
        statement runs the same join for an array of workers).
        """
        control, dialect = self._control, self._db.dialect
        statements = {
            "claim": self._claims.selection,
            "list": Prepared.of(control.list_statement(state, False), dialect),
            "list_group": Prepared.of(control.list_statement(state, True), dialect),
            "cancel_requests": self._heartbeat.pending,
        }
        return statements


def check_worker_id(worker_id: object) -> str:
    """``worker_id`` if it fits the schema (1-400 characters), else ConfigurationError."""
    if not isinstance(worker_id, str) or not 0 < len(worker_id) <= WORKER_ID_LENGTH:
        raise ConfigurationError(
            f"a worker id must be 1-{WORKER_ID_LENGTH} characters, got {worker_id!r:.80}"
        )
    return worker_id


def _chunks(items: list[str]) -> Iterator[list[str]]:
    for start in range(0, len(items), LOOKUP_CHUNK):
        yield items[start : start + LOOKUP_CHUNK]
