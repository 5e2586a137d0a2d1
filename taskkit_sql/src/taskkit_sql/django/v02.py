"""Moving the tasks of taskkit 0.2's Django backend into taskkit 0.4's tables.

taskkit 0.2 (``taskkit.contrib.django``) kept its tasks in the tables
``taskkit_task`` (one row per task; ``began`` set while a worker held it,
``done`` once finished), ``taskkit_task_queue`` (the due index of queued
tasks), ``taskkit_worker`` (a row per worker thread whose ``expires``, an
absolute time, each worker pushed 15 s ahead every 5 s) and
``taskkit_scheduler_state``.

What moves: every unfinished task (queued, scheduled for later, waiting for
a retry, and held by a worker that is gone, which 0.2 would have queued
again), with its id, group, name, payload, due and creation times, schedule
point, retry count and ttl; and each scheduler state 0.4 does not have yet.
Finished tasks and their results stay in 0.2's tables.

How it stays safe when interrupted or run twice: tasks move in batches; each
batch is put into taskkit's tables (puts ignore ids that exist) and deleted
from 0.2's in one transaction of the database, so a batch moves whole or not
at all, and a run started again carries on with what is left. Refused while
a 0.2 worker's lease has not expired (checked before and in every batch),
since a live 0.2 worker could run a task that is being moved.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

from django.db import connections, transaction
from taskkit_core.backend import Backend
from taskkit_core.errors import ConfigurationError, TaskkitError
from taskkit_core.opening import connect
from taskkit_core.task import Task
from taskkit_core.worker.crashpoints import crash_point

from ..schema import ID_LENGTH

TASKS, QUEUE, WORKERS, STATES = (
    "taskkit_task",
    "taskkit_task_queue",
    "taskkit_worker",
    "taskkit_scheduler_state",
)
# Every statement below is built from these constant table and column names, quoted
# by Django; values are always bound parameters (hence the S608 exemptions).
COLUMNS = ("id", "group", "name", "data", "due", "created", "scheduled", "retry_count", "ttl")
BATCH = 500


class WorkersAlive(TaskkitError):
    """taskkit 0.2 workers still hold leases on these tables (nothing was moved)."""


@dataclass
class Moved:
    """What a run moved: tasks, scheduler states, and the finished tasks left behind."""

    tasks: int = 0
    states: int = 0
    finished_left: int = 0


def new_id(old: str) -> str:
    """The 0.4 id of a 0.2 task: the same, unless too long (then its random hex part)."""
    return old if len(old) <= ID_LENGTH else old.rsplit("_", 1)[-1][:ID_LENGTH]


class Mover:
    """Moves 0.2's unfinished tasks of the database ``alias`` into its taskkit tables."""

    def __init__(self, alias: str, batch: int = BATCH, namespace: str | None = None) -> None:
        if batch < 1:
            raise ConfigurationError(f"the batch size must be at least 1, got {batch}")
        self.alias = alias
        self.batch = batch
        self.connection = connections[alias]
        self.options = {} if namespace is None else {"namespace": namespace}

    def _quote(self, name: str) -> str:
        return str(self.connection.ops.quote_name(name))

    def _rows(self, sql: str, params: Sequence[Any] = ()) -> list[tuple[Any, ...]]:
        with self.connection.cursor() as cursor:
            cursor.execute(sql, params)
            return list(cursor.fetchall())

    def check_tables(self) -> None:
        """ConfigurationError when the database holds no taskkit 0.2 tables."""
        tables = set(self.connection.introspection.table_names())
        missing = [t for t in (TASKS, WORKERS, STATES) if t not in tables]
        if missing:
            raise ConfigurationError(
                f"database {self.alias!r} holds no taskkit 0.2 tables ({', '.join(missing)} "
                "missing); give the alias 0.2 used with --database"
            )

    def check_no_live_workers(self) -> None:
        """WorkersAlive while a 0.2 worker lease has not expired."""
        sql = f"SELECT COUNT(*), MAX(expires) FROM {self._quote(WORKERS)} WHERE expires >= %s"  # noqa: S608
        ((alive, last),) = self._rows(sql, [time.time()])
        if alive:
            raise WorkersAlive(
                f"{alive} taskkit 0.2 worker(s) are alive in database {self.alias!r} (the last "
                f"lease expires in {max(0.0, float(last) - time.time()):.0f} s): stop every "
                "0.2 worker, then run this again; nothing was moved"
            )

    def run(self, progress: Callable[[str], None] = lambda _: None) -> Moved:
        """Move everything (see the module docstring); safe to run again after a failure."""
        self.check_tables()
        self.check_no_live_workers()
        taskkit = connect(f"django://{self.alias}", **self.options)
        try:
            moved = Moved(states=self._copy_states(taskkit.backend))
            while (count := self._move_batch(taskkit.backend, moved.tasks > 0)) > 0:
                moved.tasks += count
                progress(f"moved {moved.tasks} task(s)")
            moved.finished_left = self._count_finished()
            return moved
        finally:
            taskkit.backend.close()

    def _copy_states(self, backend: Backend) -> int:
        copied = 0
        for name, data in self._rows(f"SELECT id, data FROM {self._quote(STATES)} ORDER BY id"):  # noqa: S608
            if backend.get_scheduler_state(name) is None:
                copied += backend.persist_scheduler_state_and_put_tasks(name, bytes(data))
        return copied

    def _move_batch(self, backend: Backend, after_first: bool) -> int:
        with transaction.atomic(using=self.alias):
            self.check_no_live_workers()
            rows = self._unfinished()
            if not rows:
                return 0
            backend.put_tasks(*(self._task(row) for row in rows))
            if after_first:
                crash_point("django.v02.batch")  # tests: a run killed half-way
            self._delete([row[0] for row in rows])
        return len(rows)

    def _unfinished(self) -> list[tuple[Any, ...]]:
        columns = ", ".join(self._quote(c) for c in COLUMNS)
        sql = (
            f"SELECT {columns} FROM {self._quote(TASKS)} WHERE {self._quote('done')} IS NULL "  # noqa: S608
            f"ORDER BY {self._quote('id')}"
        )
        return self._rows(f"{sql} LIMIT %s", [self.batch])

    def _task(self, row: tuple[Any, ...]) -> Task:
        old_id, group, name, data, due, created, scheduled, retry_count, ttl = row
        return Task(
            id=new_id(old_id),
            group=group,
            name=name,
            data=bytes(data),
            due=float(due),
            created=float(created),
            scheduled=None if scheduled is None else float(scheduled),
            retry_count=int(retry_count),
            ttl=float(ttl),
        )

    def _delete(self, ids: list[str]) -> None:
        marks = ", ".join(["%s"] * len(ids))
        with self.connection.cursor() as cursor:
            for table in (QUEUE, TASKS):
                if table == QUEUE and QUEUE not in self.connection.introspection.table_names():
                    continue
                cursor.execute(f"DELETE FROM {self._quote(table)} WHERE id IN ({marks})", ids)  # noqa: S608

    def _count_finished(self) -> int:
        sql = f"SELECT COUNT(*) FROM {self._quote(TASKS)} WHERE {self._quote('done')} IS NOT NULL"  # noqa: S608
        return int(self._rows(sql)[0][0])
