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

import json
from collections.abc import Mapping
from types import MappingProxyType
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
    exists,
    func,
    literal_column,
    select,
    update,
)
from sqlalchemy.engine import Row
from taskkit_core.task import Task, Unique

from .blobs import Appender
from .databases.base import Family
from .schema import Tables, finished_only
from .states import CANCELLED, FAILED, QUEUED, STAGED, SUCCEEDED

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
    "neg_priority",
    "unique_key",
    "unique_period",
    "unique_states",
    "timeout",
    "headers",
]
"""The columns a Task is read from."""

JOB_FIELDS = TASK_FIELDS[-6:]
"""The columns of the job-control fields (issue 16): a put leaves them to their
defaults when no task of the batch sets any of them."""

UNIQUE_STATES: tuple[str, ...] = ("queued", "active")
"""``Unique.states`` by the number stored in ``tasks.unique_states``."""

NO_HEADERS: Mapping[str, str] = MappingProxyType({})


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
    scheduled, timeout, headers = row.scheduled, row.timeout, row.headers
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
        priority=-int(row.neg_priority),
        unique=None if row.unique_key is None else _unique_from(row),
        timeout=None if timeout is None else float(timeout),
        headers=NO_HEADERS if headers is None else json.loads(headers),
    )


def _unique_from(row: Any) -> Unique:
    period = row.unique_period
    return Unique(
        row.unique_key,
        None if period is None else float(period),
        UNIQUE_STATES[int(row.unique_states)],  # type: ignore[arg-type]
    )


def uses_job_control(task: Task) -> bool:
    """Whether any job-control field of ``task`` differs from its default."""
    return bool(task.priority or task.unique or task.timeout is not None or task.headers)


def task_values(task: Task, job_control: bool = True) -> dict[str, Any]:
    """The row of a newly queued task; without ``job_control``, only the 0001 columns."""
    values = {
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
    if job_control:
        values.update(job_values(task))
    return values


def job_values(task: Task) -> dict[str, Any]:
    """The job-control columns of ``task`` (priority stored negated, headers as JSON)."""
    unique = task.unique
    return {
        "neg_priority": -task.priority,
        "unique_key": None if unique is None else unique.key,
        "unique_period": None if unique is None else unique.period,
        "unique_states": None if unique is None else UNIQUE_STATES.index(unique.states),
        "timeout": task.timeout,
        "headers": headers_json(task.headers),
    }


def headers_json(headers: Mapping[str, str]) -> str | None:
    """The headers as stored: a compact JSON object, or None when there are none."""
    if not headers:
        return None
    return json.dumps(dict(headers), ensure_ascii=False, separators=(",", ":"))


def cancel_pending(tables: Tables) -> ColumnElement[bool]:
    """Whether a cancel request waits for a task's worker and attempt (see ``heartbeat``)."""
    t, r = tables.tasks, tables.cancel_requests
    return exists().where(
        r.c.task_id == t.c.id, r.c.worker_id == t.c.worker_id, r.c.attempt == t.c.attempt
    )


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
        self.insert_tasks = t.insert()
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
            .order_by(t.c.neg_priority, t.c.due, t.c.id)
            .limit(limit)
        )
        self.done_ids = (
            select(t.c.id)
            .where(
                finished_only(t.c.state),
                t.c.done_at >= bindparam("b_since", type_=Double()),
                t.c.done_at <= bindparam("b_until", type_=Double()),
            )
            .order_by(t.c.done_at, t.c.id)
            .limit(limit)
        )
        self.done_ids_until_now = (
            select(t.c.id)
            .where(
                finished_only(t.c.state),
                t.c.done_at >= bindparam("b_since", type_=Double()),
                t.c.done_at <= now,
            )
            .order_by(t.c.done_at, t.c.id)
            .limit(limit)
        )
        self.disposable_ids = (
            select(t.c.id)
            .where(finished_only(t.c.state), t.c.expires_at < now)
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
        u, r = tables.unique_keys, tables.cancel_requests
        self.delete_unique_keys = delete(u).where(u.c.task_id.in_(ids))
        self.delete_requests = delete(r).where(
            r.c.task_id.in_(bindparam("b_ids", expanding=True, type_=r.c.task_id.type))
        )
        self.existing_ids = select(t.c.id).where(t.c.id.in_(ids))
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
        recent = t.c.done_at >= since

        def count(condition: ColumnElement[bool]) -> ColumnElement[int]:
            return func.coalesce(func.sum(func_case(condition)), 0)

        return select(
            t.c.group_name,
            count(queued).label("queued"),
            count(due).label("due"),
            count(state_is(t.c.state, STAGED)).label("staged"),
            count(state_is(t.c.state, SUCCEEDED) & recent).label("done"),
            count(state_is(t.c.state, FAILED) & recent).label("failed"),
            count(state_is(t.c.state, CANCELLED) & recent).label("cancelled"),
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
        done = {"done_at": now, "expires_at": now + t.c.ttl}
        error = bindparam("b_error", type_=t.c.error.type)
        self.succeeded: Update = (
            update(t)
            .where(fence)
            .values(
                result=bindparam("b_result", type_=t.c.result.type),
                error=None,
                state=SUCCEEDED,
                **done,
            )
        )
        self.failed: Update = (
            update(t).where(fence).values(error=error, result=None, state=FAILED, **done)
        )
        self.cancelled: Update = (
            update(t).where(fence).values(error=error, result=None, state=CANCELLED, **done)
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
