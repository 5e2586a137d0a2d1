"""The SQL of the backend, built once per backend as SQLAlchemy Core statements.

Values always travel as bound parameters (named ``b_*``); the only SQL
text is fixed (the server clock of the family, ``Family.now_sql``). The state constants are
rendered as literals so PostgreSQL can match its partial indexes even with
prepared (generic) plans.

``now`` is the server's clock on PostgreSQL and MySQL/MariaDB and the bound
parameter ``now`` (the core's settable clock) on SQLite; every execution
passes ``now=cur_ts()`` and the server-clock databases ignore it.
"""

from __future__ import annotations

from typing import Any, TypeAlias

from sqlalchemy import (
    ColumnElement,
    Delete,
    Double,
    Insert,
    Integer,
    Select,
    SmallInteger,
    Update,
    bindparam,
    case,
    delete,
    func,
    literal_column,
    select,
    update,
)
from sqlalchemy.engine import Row
from taskkit_core.task import Task

from .blobs import Appender
from .databases.base import Family
from .schema import Tables
from .states import DONE, QUEUED, STAGED

AnyRow: TypeAlias = Row[*tuple[Any, ...]]
"""A result row of any shape."""

TASK_FIELDS = [
    "id",
    "group_name",
    "name",
    "data",
    "due",
    "created",
    "scheduled",
    "retry_count",
    "ttl",
]
"""The columns a Task is read from."""


def state_is(column: ColumnElement[int], state: int) -> ColumnElement[bool]:
    """``column = <state>`` with the state as a literal (partial indexes need that)."""
    return column == literal_column(str(int(state)), SmallInteger())


def now_expression(family: Family) -> ColumnElement[float]:
    """The clock of leases and due times, as SQL."""
    if family.now_sql is None:
        return bindparam("now", type_=Double())
    return literal_column(family.now_sql, Double())


def task_from_row(row: Any) -> Task:
    """A Task from a row holding the TASK_FIELDS columns, read by name.

    ``row``: a SQLAlchemy Row, or a named driver row (see ``driver``).
    """
    scheduled = row.scheduled
    return Task(
        id=row.id,
        group=row.group_name,
        name=row.name,
        data=bytes(row.data),
        due=float(row.due),
        created=float(row.created),
        scheduled=None if scheduled is None else float(scheduled),
        retry_count=int(row.retry_count),
        ttl=float(row.ttl),
    )


def task_values(task: Task) -> dict[str, Any]:
    """The row of a newly queued task."""
    return {
        "id": task.id,
        "group_name": task.group,
        "name": task.name,
        "data": task.data,
        "due": task.due,
        "created": task.created,
        "scheduled": task.scheduled,
        "retry_count": task.retry_count,
        "ttl": task.ttl,
        "state": QUEUED,
        "attempt": 0,
    }


def upsert_leases(tables: Tables, family: Family, now: ColumnElement[float]) -> Insert:
    """Create or refresh worker leases: ``expires = now + b_ttl``."""
    w = tables.workers
    values = {"id": bindparam("b_id", type_=w.c.id.type), "expires": now + bindparam("b_ttl")}
    return family.upsert(w, values, ["expires"])


class Statements:
    """Every statement one backend runs, other than claims (see ``claims``)."""

    def __init__(self, tables: Tables, family: Family) -> None:
        t, w, s = tables.tasks, tables.workers, tables.scheduler_states
        self.tables = tables
        self.now = now = now_expression(family)
        self.task_columns = [t.c[name] for name in TASK_FIELDS]
        self.insert_tasks = family.insert_ignoring_duplicates(t)
        self.upsert_leases = upsert_leases(tables, family, now)
        ids = bindparam("b_ids", expanding=True, type_=t.c.id.type)
        limit = bindparam("b_limit", type_=Integer())
        self.lookup = select(*self.task_columns).where(t.c.id.in_(ids))
        self.result = select(*self.task_columns, t.c.state, t.c.result, t.c.error).where(
            t.c.id == bindparam("b_id")
        )
        self.queued = (
            select(*self.task_columns)
            .where(t.c.group_name == bindparam("b_group"), state_is(t.c.state, QUEUED))
            .order_by(t.c.due, t.c.id)
            .limit(limit)
        )
        self.done_ids = (
            select(t.c.id)
            .where(
                state_is(t.c.state, DONE),
                t.c.done_at >= bindparam("b_since", type_=Double()),
                t.c.done_at <= bindparam("b_until", type_=Double()),
            )
            .order_by(t.c.done_at, t.c.id)
            .limit(limit)
        )
        self.done_ids_until_now = (
            select(t.c.id)
            .where(
                state_is(t.c.state, DONE),
                t.c.done_at >= bindparam("b_since", type_=Double()),
                t.c.done_at <= now,
            )
            .order_by(t.c.done_at, t.c.id)
            .limit(limit)
        )
        self.disposable_ids = (
            select(t.c.id)
            .where(state_is(t.c.state, DONE), t.c.expires_at < now)
            .order_by(t.c.expires_at, t.c.id)
            .limit(limit)
        )
        self.stage_info = (
            select(t.c.worker_id, t.c.id, t.c.began, t.c.attempt)
            .where(state_is(t.c.state, STAGED))
            .order_by(t.c.began, t.c.id)
            .limit(limit)
        )
        self.staged_to_worker = select(*self.task_columns, t.c.attempt, t.c.began).where(
            state_is(t.c.state, STAGED),
            t.c.worker_id == bindparam("b_worker"),
            t.c.group_name == bindparam("b_group"),
        )
        self.delete_tasks = delete(t).where(t.c.id.in_(ids))
        self.delete_done_task = delete(t).where(t.c.id == bindparam("b_id"))
        self.insert_done_task = t.insert()
        self.leases = select(w.c.id, w.c.expires).order_by(w.c.expires, w.c.id)
        worker_ids = bindparam("b_ids", expanding=True, type_=w.c.id.type)
        self.delete_leases = delete(w).where(w.c.id.in_(worker_ids))
        self.any_expired_lease = select(w.c.id).where(w.c.expires < now).limit(1)
        self.expired_leases = select(w.c.id).where(w.c.expires < now).with_for_update()
        self.delete_expired_leases = delete(w).where(w.c.id.in_(worker_ids), w.c.expires < now)
        self.scheduler_state = select(s.c.data).where(s.c.name == bindparam("b_name"))
        self.insert_scheduler_state = s.insert()
        self.replace_scheduler_state = (
            update(s)
            .where(
                s.c.name == bindparam("b_name"),
                s.c.data == bindparam("b_expected", type_=s.c.data.type),
            )
            .values(data=bindparam("b_data", type_=s.c.data.type))
        )
        self.group_stats = self._group_stats(tables, now)
        self.appender = Appender(t, "data", "result")
        self.settle = SettleStatements(tables, family, now, self.appender)

    @staticmethod
    def _group_stats(tables: Tables, now: ColumnElement[float]) -> Select[Any]:
        t = tables.tasks
        since: ColumnElement[float] = bindparam("b_since", type_=Double())
        queued = state_is(t.c.state, QUEUED)
        due = queued & (t.c.due <= now)
        finished = state_is(t.c.state, DONE) & (t.c.done_at >= since)

        def count(condition: ColumnElement[bool]) -> ColumnElement[int]:
            return func.coalesce(func.sum(func_case(condition)), 0)

        return select(
            t.c.group_name,
            count(queued).label("queued"),
            count(due).label("due"),
            count(state_is(t.c.state, STAGED)).label("staged"),
            count(finished & t.c.result.is_not(None)).label("done"),
            count(finished & t.c.result.is_(None)).label("failed"),
            func.min(func_case(due, t.c.due)).label("oldest_due"),
        ).group_by(t.c.group_name)


def func_case(condition: ColumnElement[bool], value: Any = 1) -> ColumnElement[Any]:
    """``CASE WHEN condition THEN value END`` (NULL otherwise)."""
    return case((condition, value))


class SettleStatements:
    """The fenced writes of ``settle``: each matches id, staged state, worker and attempt."""

    def __init__(
        self, tables: Tables, family: Family, now: ColumnElement[float], appender: Appender
    ) -> None:
        t = tables.tasks
        self.family = family
        self.appender = appender
        fence = (
            (t.c.id == bindparam("b_id"))
            & state_is(t.c.state, STAGED)
            & (t.c.worker_id == bindparam("b_worker"))
            & (t.c.attempt == bindparam("b_attempt", type_=Integer()))
        )
        requeue = {"state": QUEUED, "worker_id": None, "began": None}
        done = {"state": DONE, "done_at": now, "expires_at": now + t.c.ttl}
        self.succeeded: Update = (
            update(t)
            .where(fence)
            .values(result=bindparam("b_result", type_=t.c.result.type), error=None, **done)
        )
        self.failed: Update = (
            update(t)
            .where(fence)
            .values(error=bindparam("b_error", type_=t.c.error.type), result=None, **done)
        )
        self.retried: Update = (
            update(t)
            .where(fence)
            .values(
                due=now + bindparam("b_delay", type_=Double()),
                retry_count=t.c.retry_count + 1,
                **requeue,
            )
        )
        # A release gives its attempt back (the task never started).
        self.released: Update = update(t).where(fence).values(attempt=t.c.attempt - 1, **requeue)
        self.discarded: Delete = delete(t).where(fence)
