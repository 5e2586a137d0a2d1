"""What the backend knows of one task, read for Django's ``TaskResult``.

TODO(merge): job control (issue 16) gives every backend ``read_task``;
this module then reads ``TaskInfo`` instead of the table.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from sqlalchemy import select

from ..schema import build_tables
from ..states import DONE, STAGED
from .atomic import DjangoBackend


@dataclass(frozen=True)
class TaskRecord:
    """A task's row: its call, where it is, and how it ended."""

    id: str
    group: str
    name: str
    data: bytes
    created: float
    state: int
    worker_id: str | None
    attempt: int
    began: float | None
    done_at: float | None
    result: bytes | None
    error: str | None

    @property
    def staged(self) -> bool:
        return self.state == STAGED

    @property
    def done(self) -> bool:
        return self.state == DONE


def read_record(backend: DjangoBackend, task_id: str) -> TaskRecord | None:
    """The task ``task_id`` as stored now, or None when there is no such task."""
    tasks = build_tables(backend.namespace).tasks
    c = tasks.c
    columns = [c.id, c.group_name, c.name, c.data, c.created, c.state, c.worker_id]
    statement = select(*columns, c.attempt, c.began, c.done_at, c.result, c.error).where(
        c.id == task_id
    )
    database: Any = backend.sql_backend.database  # type: ignore[attr-defined]
    row = database.run(lambda conn: conn.execute(statement).first())
    if row is None:
        return None
    return TaskRecord(
        id=row.id,
        group=row.group_name,
        name=row.name,
        data=bytes(row.data),
        created=float(row.created),
        state=int(row.state),
        worker_id=row.worker_id,
        attempt=int(row.attempt),
        began=None if row.began is None else float(row.began),
        done_at=None if row.done_at is None else float(row.done_at),
        result=None if row.result is None else bytes(row.result),
        error=row.error,
    )
