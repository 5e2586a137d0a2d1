"""Writing tasks in: bulk puts, eager results, and scheduler compare-and-set.

Tasks are checked before anything is written (a bad task fails the whole
put with InvalidTaskError). Rows go in batches of at most BATCH_ROWS rows
and BATCH_BYTES payload bytes (MySQL refuses statements over its
``max_allowed_packet``); several batches share one transaction, and a put
of one batch is one autocommit statement (PostgreSQL: one INSERT of
arrays that also NOTIFYs ``<namespace>_tasks`` once per group, see
``arrays``; elsewhere one row, or one ``executemany`` in a transaction).
Puts run on the driver's cursor and, being idempotent, are retried once
on a fresh connection when the first one turns out dead.

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
from taskkit_core.clock import cur_ts
from taskkit_core.errors import ConfigurationError, InvalidTaskError
from taskkit_core.task import Task, check_name, check_payload, check_ttl

from .arrays import ArrayStatements
from .blobs import PIECE, head, in_pieces
from .changes import channel_names
from .driver import Prepared
from .engine import Database
from .schema import ID_LENGTH, Tables
from .statements import TASK_FIELDS, Statements, task_values
from .states import DONE

logger = logging.getLogger("taskkit.sql")

BATCH_ROWS = 1000
BATCH_BYTES = PIECE

ROW_KEYS = [*TASK_FIELDS, "state", "attempt"]
"""The columns a newly queued task's row sets (the keys of ``task_values``)."""


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
    return task


def _batches(tasks: Sequence[Task]) -> Iterator[list[Task]]:
    batch: list[Task] = []
    size = 0
    for task in tasks:
        if batch and (len(batch) >= BATCH_ROWS or size + len(task.data) > BATCH_BYTES):
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
        self._insert_row = Prepared.of(sql.insert_tasks, db.dialect, column_keys=ROW_KEYS)
        tasks_channel, _ = channel_names(tables.namespace)
        self._notify = db.family.wake_statement(tasks_channel, bindparam("b_group"))
        self._insert_one = t.insert()
        self._insert_done = t.insert().values(
            began=sql.now, done_at=sql.now, expires_at=sql.now + bindparam("b_ttl", type_=Double())
        )

    def put(self, tasks: Sequence[Task], connection: Any) -> None:
        """Queue ``tasks`` all or none; existing ids are left alone."""
        unique = list({check_task(task).id: task for task in tasks}.values())
        if connection is not None:
            self._write(self._application_connection(connection), unique)
        elif not unique:
            return
        elif self._arrays is not None:
            self._put_arrays(self._arrays, unique)
        elif not any(in_pieces(self._db.family, task.data) for task in unique):
            self._put_rows(unique)
        else:
            with self._db.write() as conn:
                self._write(conn, unique)

    def _put_arrays(self, arrays: ArrayStatements, tasks: Sequence[Task]) -> None:
        batches = [arrays.put_parameters(batch) for batch in _batches(tasks)]

        def work(cursor: Any) -> None:
            for params in batches:
                cursor.execute(arrays.put, params)

        self._db.call(work, transaction=len(batches) > 1, idempotent=True)

    def _put_rows(self, tasks: Sequence[Task]) -> None:
        prepared = self._insert_row
        batches = [
            [prepared.parameters(task_values(task)) for task in batch] for batch in _batches(tasks)
        ]

        def work(cursor: Any) -> None:
            for rows in batches:
                if len(rows) == 1:
                    cursor.execute(prepared.sql, rows[0])
                else:
                    cursor.executemany(prepared.sql, rows)

        self._db.call(work, transaction=len(tasks) > 1, idempotent=True)

    def put_done(self, task: Task, result: bytes | None, error: str | None) -> None:
        """Store a task that ran eagerly, as done now (replacing any row with its id)."""
        check_task(task)
        family = self._db.family
        result = None if result is None else check_payload(result, "result")
        # A large result follows its payload piece by piece (one piece per statement).
        result_later = result is not None and in_pieces(family, task.data, result)
        row = {
            **task_values(task),
            "data": head(family, task.data),
            "state": DONE,
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
        unique = list({check_task(task).id: task for task in tasks}.values())
        try:
            with self._db.write() as conn:
                self._swap_state(conn, name, bytes(data), expected)
                self._write(conn, unique)
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

    def _write(self, conn: Connection, tasks: Sequence[Task]) -> None:
        """Queue ``tasks`` through a SQLAlchemy connection (in its transaction)."""
        if self._arrays is not None:
            for batch in _batches(tasks):
                conn.exec_driver_sql(self._arrays.put, self._arrays.put_parameters(batch))
            return
        family = self._db.family
        for batch in _batches([task for task in tasks if not in_pieces(family, task.data)]):
            conn.execute(self._sql.insert_tasks, [task_values(task) for task in batch])
        for task in tasks:
            if in_pieces(family, task.data):
                self._write_in_pieces(conn, task)

    def _write_in_pieces(self, conn: Connection, task: Task) -> None:
        row = {**task_values(task), "data": head(self._db.family, task.data)}
        try:
            with conn.begin_nested():
                conn.execute(self._insert_one, row)
        except IntegrityError:
            return  # the task exists already: puts are idempotent
        self._sql.appender.rest(conn, "data", task.id, task.data)

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
