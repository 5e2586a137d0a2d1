"""Writing tasks in: bulk puts, eager results, and scheduler compare-and-set.

Tasks are checked before anything is written (a bad task fails the whole
put with InvalidTaskError). Rows go in batches of at most BATCH_ROWS rows
(ARRAY_BATCH_ROWS on PostgreSQL, whose statement binds a batch as a few
arrays, not as a parameter per value) and BATCH_BYTES payload bytes (MySQL
refuses statements over its ``max_allowed_packet``); several batches share
one transaction, and a put of one batch is one autocommit statement
(PostgreSQL: one INSERT of arrays that also NOTIFYs ``<namespace>_tasks``
once per group, see ``arrays``; elsewhere one row, or one ``executemany``
in a transaction).
Puts run on the driver's cursor and, being idempotent, are retried once
on a fresh connection when the first one turns out dead.

Each put answers which tasks it created. PostgreSQL's statement returns
the ids that existed. Elsewhere the INSERT has no conflict clause: it
fails as a whole on an existing id (nothing written), and only then does
the put run again in a transaction that first reads which ids exist, so
the usual put costs what it did before.

Tasks with a unique key are written in one transaction that first
decides each key's holder (see ``uniques``).

With ``connection=`` (transactional enqueue) the rows are written through
the application's own SQLAlchemy Connection and nothing is committed: the
tasks exist only if the application commits.
"""

from __future__ import annotations

import logging
import math
from collections.abc import Iterator, Sequence
from typing import Any

from sqlalchemy import Double, bindparam
from sqlalchemy.engine import Connection
from sqlalchemy.exc import IntegrityError
from taskkit_core.backend import PutResult
from taskkit_core.clock import cur_ts
from taskkit_core.errors import ConfigurationError, InvalidTaskError
from taskkit_core.task import (
    Task,
    Unique,
    check_headers,
    check_name,
    check_payload,
    check_priority,
    check_ttl,
)

from .arrays import ArrayStatements
from .blobs import PIECE, head, in_pieces
from .changes import channel_names
from .driver import Prepared
from .engine import Database
from .putplan import PutPlan
from .schema import ID_LENGTH, Tables
from .statements import JOB_FIELDS, TASK_FIELDS, Statements, task_values, uses_job_control
from .states import FAILED, SUCCEEDED
from .uniques import Key, UniqueKeys, key_of

logger = logging.getLogger("taskkit.sql")

BATCH_ROWS = 1000
ARRAY_BATCH_ROWS = 20_000
BATCH_BYTES = PIECE

ROW_KEYS = [*TASK_FIELDS, "state", "attempt"]
"""The columns a newly queued task's row sets (the keys of ``task_values``)."""

PLAIN_ROW_KEYS = [key for key in ROW_KEYS if key not in JOB_FIELDS]
"""The same without the job-control columns (left to their defaults)."""

EXISTING_ATTEMPTS = 3
"""Times a transactional insert reads which ids exist and tries again (see ``_insert_rows``)."""


class _Conflict(Exception):
    """The scheduler state was not what the caller expected."""


def check_task(task: object) -> Task:
    """``task`` if it can be stored, else InvalidTaskError (nothing is written)."""
    if not isinstance(task, Task):
        raise InvalidTaskError(f"expected a Task, got {type(task).__name__}")
    if not isinstance(task.id, str) or not 0 < len(task.id) <= ID_LENGTH:
        raise InvalidTaskError(f"task id must be 1-{ID_LENGTH} characters, got {task.id!r}")
    check_name("group", task.group)
    check_name("task name", task.name)
    check_payload(task.data)
    check_ttl(task.ttl)
    for field in (task.due, task.created):
        if not math.isfinite(field):
            raise InvalidTaskError(f"task {task.id}: times must be finite, got {field!r}")
    if uses_job_control(task):
        _check_job_control(task)
    return task


def _check_job_control(task: Task) -> None:
    """The job-control fields of a task built without ``Task.init`` (which checks them)."""
    check_priority(task.priority)
    if task.unique is not None and not isinstance(task.unique, Unique):
        raise InvalidTaskError(f"unique must be a Unique, got {type(task.unique).__name__}")
    timeout = task.timeout
    if timeout is not None and (
        isinstance(timeout, bool)
        or not isinstance(timeout, int | float)
        or not 0 < timeout < math.inf
    ):
        raise InvalidTaskError(f"timeout must be a positive, finite number, got {timeout!r}")
    check_headers(task.headers)


def _batches(tasks: Sequence[Task], max_rows: int | None = None) -> Iterator[list[Task]]:
    """``tasks`` in batches of at most ``max_rows`` (default BATCH_ROWS) and BATCH_BYTES."""
    max_rows = max_rows or BATCH_ROWS
    batch: list[Task] = []
    size = 0
    for task in tasks:
        if batch and (len(batch) >= max_rows or size + len(task.data) > BATCH_BYTES):
            yield batch
            batch, size = [], 0
        batch.append(task)
        size += len(task.data)
    if batch:
        yield batch


class TaskWriter:
    """Puts tasks (optionally through the application's transaction)."""

    def __init__(
        self,
        db: Database,
        tables: Tables,
        sql: Statements,
        arrays: ArrayStatements | None,
    ) -> None:
        t = tables.tasks
        self._db = db
        self._sql = sql
        self._arrays = arrays
        self._uniques = UniqueKeys(tables, db.family)
        self._insert_rows = (
            Prepared.of(sql.insert_tasks, db.dialect, column_keys=PLAIN_ROW_KEYS),
            Prepared.of(sql.insert_tasks, db.dialect, column_keys=ROW_KEYS),
        )
        tasks_channel, _ = channel_names(tables.namespace)
        self._notify = db.family.wake_statement(tasks_channel, bindparam("b_group"))
        self._insert_one = t.insert()
        self._insert_done = t.insert().values(
            began=sql.now, done_at=sql.now, expires_at=sql.now + bindparam("b_ttl", type_=Double())
        )

    def put(self, tasks: Sequence[Task], connection: Any) -> Sequence[PutResult]:
        """Queue ``tasks`` all or none; existing ids are left alone (see the module docstring)."""
        if len(tasks) == 1 and connection is None and self._arrays is None:
            return [self._put_one(check_task(tasks[0]))]
        plan = PutPlan([check_task(task) for task in tasks])
        if connection is not None:
            app = self._application_connection(connection)
            return self._write(app, plan)
        if not plan.tasks:
            return []
        if plan.candidates or any(in_pieces(self._db.family, t.data) for t in plan.tasks):
            return self._db.run(lambda conn: self._write(conn, plan), transaction=True)
        if self._arrays is not None:
            inserted = self._put_arrays(self._arrays, plan.tasks)
        else:
            inserted = self._put_rows(plan.tasks)
        return plan.results(inserted, {})

    def _put_arrays(self, arrays: ArrayStatements, tasks: Sequence[Task]) -> set[str]:
        parts = list(_batches(tasks, ARRAY_BATCH_ROWS))
        batches = [arrays.put(batch) for batch in parts]

        def work(cursor: Any) -> set[str]:
            existed: set[str] = set()
            for batch, (sql, params) in zip(parts, batches, strict=True):
                cursor.execute(sql, params)
                existed.update(arrays.existed(batch, cursor.fetchall()))
            return existed

        existed = self._db.call(work, transaction=len(batches) > 1, idempotent=True)
        return {task.id for task in tasks} - existed

    def _put_one(self, task: Task) -> PutResult:
        """The usual single put: one autocommit INSERT, without a plan or its answers.

        Not ``_put_rows([task])``: its batches and id set cost a single put on
        SQLite 2.5 us of its 48 (benchmarks.enqueue_cpu, kit single).
        """
        if task.unique is not None or in_pieces(self._db.family, task.data):
            plan = PutPlan([task])
            (answer,) = self._db.run(lambda conn: self._write(conn, plan), transaction=True)
            return answer
        job_control = uses_job_control(task)
        prepared = self._insert_rows[job_control]
        row = prepared.parameters(task_values(task, job_control))
        try:
            self._db.call(lambda cursor: cursor.execute(prepared.sql, row), idempotent=True)
        except IntegrityError:  # the id exists: the exact way says so
            return PutResult(task.id, task.id in self._insert_exactly([task]))
        return PutResult(task.id, True)

    def _put_rows(self, tasks: Sequence[Task]) -> set[str]:
        """Plain INSERTs; an existing id fails them all, and then the exact way runs.

        Each row's parameters are made as the driver reads them, not all
        first: a bulk then holds one object per task fewer, which is what
        sets how often the garbage collector passes over the heap.
        """
        batches = [
            (batch, any(uses_job_control(task) for task in batch)) for batch in _batches(tasks)
        ]

        def work(cursor: Any) -> None:
            for batch, job_control in batches:
                prepared = self._insert_rows[job_control]
                rows = (prepared.parameters(task_values(task, job_control)) for task in batch)
                if len(batch) == 1:
                    cursor.execute(prepared.sql, next(rows))
                else:
                    cursor.executemany(prepared.sql, rows)

        try:
            self._db.call(work, transaction=len(tasks) > 1, idempotent=True)
        except IntegrityError:
            return self._insert_exactly(tasks)
        return {task.id for task in tasks}

    def _insert_exactly(self, tasks: Sequence[Task]) -> set[str]:
        """After a plain INSERT met an existing id: insert what is missing, in a transaction."""
        return self._db.run(lambda conn: self._insert(conn, tasks), transaction=True)

    def put_done(self, task: Task, result: bytes | None, error: str | None) -> None:
        """Store a task that ran eagerly, as finished now (replacing any row with its id)."""
        check_task(task)
        family = self._db.family
        result = None if result is None else check_payload(result, "result")
        # A large result follows its payload piece by piece (one piece per statement).
        result_later = result is not None and in_pieces(family, task.data, result)
        row = {
            **task_values(task),
            "data": head(family, task.data),
            "state": SUCCEEDED if result is not None else FAILED,
            "result": b"" if result_later else result,
            "error": error if result is None else None,
            "b_ttl": task.ttl,
            "now": cur_ts(),
        }
        with self._db.write() as conn:
            conn.execute(self._sql.delete_done_task, {"b_id": task.id})
            conn.execute(self._insert_done, row)
            if in_pieces(family, task.data):
                self._sql.appender.rest(conn, "data", task.id, task.data)
            if result_later:
                self._sql.appender.rest(conn, "result", task.id, result, start=0)

    def put_with_scheduler_state(
        self, name: str, data: bytes, tasks: Sequence[Task], expected: bytes | None
    ) -> bool:
        """Compare-and-set the scheduler state and queue ``tasks``, in one transaction."""
        check_name("scheduler name", name)
        plan = PutPlan([check_task(task) for task in tasks])
        try:
            with self._db.write() as conn:
                self._swap_state(conn, name, bytes(data), expected)
                self._write(conn, plan)
        except (_Conflict, IntegrityError):
            return False  # another scheduler stored its state first; nothing was written
        return True

    def wake(self, groups: set[str]) -> None:
        """Wake the workers of ``groups`` where the family can (best effort: errors are logged)."""
        if self._notify is None or not groups:
            return
        try:
            with self._db.single() as conn:
                for group in sorted(groups):
                    conn.execute(self._notify, {"b_group": group})
        except Exception:
            logger.debug("could not wake the workers of %s", sorted(groups), exc_info=True)

    def _swap_state(self, conn: Connection, name: str, data: bytes, expected: bytes | None) -> None:
        if expected is None:
            conn.execute(self._sql.insert_scheduler_state, {"name": name, "data": data})
            return
        params = {"b_name": name, "b_expected": bytes(expected), "b_data": data}
        if conn.execute(self._sql.replace_scheduler_state, params).rowcount != 1:
            raise _Conflict

    def _write(self, conn: Connection, plan: PutPlan) -> Sequence[PutResult]:
        """Resolve unique keys, then insert, through a SQLAlchemy connection (its transaction)."""
        holders: dict[Key, str] = {}
        if plan.candidates:
            # A task whose id exists is an idempotent repeat: its key is left alone.
            existing = self._existing_ids(conn, [task.id for task in plan.candidates])
            repeats = [task for task in plan.candidates if task.id in existing]
            holders = {key: task.id for task in repeats if (key := key_of(task))}
            new = [task for task in plan.candidates if task.id not in existing]
            if new:
                holders.update(self._uniques.resolve(conn, new))
        inserted = self._insert(conn, plan.writes(holders))
        return plan.results(inserted, holders)

    def _insert(self, conn: Connection, tasks: Sequence[Task]) -> set[str]:
        """Insert the tasks whose ids do not exist yet; the ids inserted."""
        family = self._db.family
        whole = [task for task in tasks if not in_pieces(family, task.data)]
        if self._arrays is not None:
            inserted = self._insert_arrays(conn, self._arrays, whole)
        else:
            inserted = self._insert_missing(conn, whole)
        for task in tasks:
            if in_pieces(family, task.data) and self._write_in_pieces(conn, task):
                inserted.add(task.id)
        return inserted

    def _insert_arrays(
        self, conn: Connection, arrays: ArrayStatements, tasks: Sequence[Task]
    ) -> set[str]:
        existed: set[str] = set()
        for batch in _batches(tasks):
            rows = conn.exec_driver_sql(*arrays.put(batch)).all()
            existed.update(arrays.existed(batch, rows))
        return {task.id for task in tasks} - existed

    def _insert_missing(self, conn: Connection, tasks: Sequence[Task]) -> set[str]:
        """Read which ids exist, insert the others; again if one appeared meanwhile.

        A failed INSERT is undone as a statement on MySQL and SQLite; the
        transaction goes on.
        """
        inserted: set[str] = set()
        pending = list(tasks)
        for attempt in range(EXISTING_ATTEMPTS):
            existing = self._existing_ids(conn, [task.id for task in pending])
            pending = [task for task in pending if task.id not in existing]
            try:
                for batch in _batches(pending):
                    job_control = any(uses_job_control(task) for task in batch)
                    rows = [task_values(task, job_control) for task in batch]
                    conn.execute(self._sql.insert_tasks, rows)
                    inserted.update(task.id for task in batch)
                return inserted
            except IntegrityError:
                if attempt + 1 == EXISTING_ATTEMPTS:
                    raise
                pending = [task for task in pending if task.id not in inserted]
        return inserted

    def _existing_ids(self, conn: Connection, ids: list[str]) -> set[str]:
        found: set[str] = set()
        for start in range(0, len(ids), BATCH_ROWS):
            chunk = ids[start : start + BATCH_ROWS]
            found.update(conn.execute(self._sql.existing_ids, {"b_ids": chunk}).scalars())
        return found

    def _write_in_pieces(self, conn: Connection, task: Task) -> bool:
        row = {**task_values(task), "data": head(self._db.family, task.data)}
        try:
            with conn.begin_nested():
                conn.execute(self._insert_one, row)
        except IntegrityError:
            return False  # the task exists already: puts are idempotent
        self._sql.appender.rest(conn, "data", task.id, task.data)
        return True

    def _application_connection(self, connection: Any) -> Connection:
        if not isinstance(connection, Connection):
            raise ConfigurationError(
                "connection= must be a SQLAlchemy Connection (from engine.connect() or "
                f"engine.begin()), got {type(connection).__name__}"
            )
        family = self._db.family
        if not family.serves(connection.dialect.name):
            raise ConfigurationError(
                f"connection= is a {connection.dialect.name} connection, but this backend "
                f"stores its tasks in {family.name}"
            )
        return connection
