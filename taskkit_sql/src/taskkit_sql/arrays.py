"""PostgreSQL: a whole batch in one statement, its rows bound as arrays.

``unnest(%(ids)b::varchar[], ...)`` turns parallel arrays into rows, so a
put of one task or of a thousand, and a settle of any number of outcomes
of one kind, is a single statement: one round trip, atomic in autocommit,
and the same text every time (psycopg prepares it once per connection).
Arrays travel in the binary format (``%(name)b``): psycopg dumps a list
of strings or floats five times cheaper so (0.3 against 1.5 us an element),
but refuses a list mixing ints and floats, hence the ``float()`` of every
float column's values.

- A put inserts the rows (``ON CONFLICT (id) DO NOTHING``: puts are
  idempotent) and, in the same statement, NOTIFYs the task channel once
  per group of the rows it inserted; the notification goes out when the
  statement commits. A put of several tasks also returns the ids it did
  not insert (those that existed: usually none); a put of one task needs
  no more than its one notification (a row if the task was inserted), and
  binds plain values, not arrays of one (psycopg dumps an array for 100 us
  of client CPU where values take 50, and the server's statement is
  cheaper: a single put's round trip 375 -> 270 us), and needs no anti-join
  (it costs a single put 20% more server time). A put whose tasks all leave
  the job-control fields at their defaults binds only the original nine
  columns.
The SQL is text built once from constants and the tasks table's name
(quoted by the dialect, from a namespace of letters, digits and ``_``);
values only ever travel as parameters.

- A settle updates (or deletes) the rows whose id, staged state, worker
  and attempt match an outcome's claim (fencing) and returns their ids.
  A settle of one outcome binds plain values too.
  Outcomes that requeue a task (retried, released) also NOTIFY its group,
  so an idle worker anywhere picks a released task up at once.

- A heartbeat refreshes the leases of its workers and, in the same
  statement, returns the pending cancel requests of their staged tasks.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

from sqlalchemy.engine import Dialect
from taskkit_core.backend import Outcome, OutcomeKind
from taskkit_core.task import Task

from .schema import Tables
from .statements import UNIQUE_STATES, headers_json, task_values, uses_job_control
from .states import CANCELLED, FAILED, QUEUED, STAGED, SUCCEEDED

FENCE_ARRAYS = "%(ids)b::varchar[], %(workers)b::varchar[], %(attempts)b::integer[]"
FENCE_VALUES = "%(id)s::varchar, %(worker)s::varchar, %(attempt)s::integer"
FENCE = (
    f"t.id = v.id AND t.state = {STAGED} AND t.worker_id = v.worker_id AND t.attempt = v.attempt"
)
REQUEUE = f"state = {QUEUED}, worker_id = NULL, began = NULL"


def _message(outcome: Outcome) -> bytes:
    return outcome.message.encode("utf-8", "surrogatepass")


EXTRA: dict[OutcomeKind, Callable[[Outcome], Any]] = {
    OutcomeKind.SUCCEEDED: lambda outcome: bytes(outcome.result),
    OutcomeKind.FAILED: _message,
    OutcomeKind.CANCELLED: _message,
    OutcomeKind.RETRIED: lambda outcome: float(outcome.delay),
}
"""The ``extra`` value a settle of each kind binds (SETTLE_SQL), from its outcome."""
DONE_NOW = "done_at = {now}, expires_at = {now} + t.ttl"

SETTLE_SQL: dict[OutcomeKind, tuple[str, str, str]] = {
    # kind: (extra array, its column, what the matched rows become)
    OutcomeKind.SUCCEEDED: (
        ", %(extra)b::bytea[]",
        ", extra",
        f"SET result = v.extra, error = NULL, state = {SUCCEEDED}, {DONE_NOW}",
    ),
    OutcomeKind.FAILED: (
        ", %(extra)b::bytea[]",
        ", extra",
        f"SET error = v.extra, result = NULL, state = {FAILED}, {DONE_NOW}",
    ),
    OutcomeKind.CANCELLED: (
        ", %(extra)b::bytea[]",
        ", extra",
        f"SET error = v.extra, result = NULL, state = {CANCELLED}, {DONE_NOW}",
    ),
    OutcomeKind.RETRIED: (
        ", %(extra)b::float8[]",
        ", extra",
        f"SET due = {{now}} + v.extra, retry_count = t.retry_count + 1, {REQUEUE}",
    ),
    OutcomeKind.RELEASED: ("", "", f"SET attempt = t.attempt - 1, {REQUEUE}"),
    OutcomeKind.DISCARDED: ("", "", ""),
}

TASK_ARRAYS = (
    "%(ids)b::varchar[], %(groups)b::varchar[], %(names)b::varchar[], %(datas)b::bytea[], "
    "%(dues)b::float8[], %(createds)b::float8[], %(scheduleds)b::float8[], "
    "%(retries)b::integer[], %(ttls)b::float8[]"
)
TASK_COLUMNS = "id, group_name, name, data, due, created, scheduled, retry_count, ttl"
JOB_ARRAYS = (
    ", %(neg_priorities)b::smallint[], %(unique_keys)b::varchar[], %(unique_periods)b::float8[], "
    "%(unique_states)b::smallint[], %(timeouts)b::float8[], %(headers)b::text[]"
)
JOB_COLUMNS = ", neg_priority, unique_key, unique_period, unique_states, timeout, headers"
TASK_VALUES = (  # the keys of statements.task_values (and job_values)
    "%(id)s, %(group_name)s, %(name)s, %(data)b, %(due)s, %(created)s, %(scheduled)s, "
    "%(retry_count)s, %(ttl)s"
)
JOB_VALUES = (
    ", %(neg_priority)s, %(unique_key)s, %(unique_period)s, %(unique_states)s, "
    "%(timeout)s, %(headers)s"
)


class ArrayStatements:
    """The put and settle statements of one namespace's tasks table."""

    def __init__(self, tables: Tables, dialect: Dialect, now: str, channel: str) -> None:
        quote = dialect.identifier_preparer.format_table
        table = quote(tables.tasks)
        self.channel = channel
        self._puts = {
            (job, single): _put_sql(table, JOB_COLUMNS if job else "", single)
            for job in (False, True)
            for single in (False, True)
        }
        self._settles = {
            (kind, single): _settle_sql(kind, table, now, single)
            for kind in SETTLE_SQL
            for single in (False, True)
        }
        self.heartbeat = _heartbeat_sql(
            quote(tables.workers), quote(tables.cancel_requests), table, now
        )

    def put(self, tasks: Sequence[Task]) -> tuple[str, dict[str, Any]]:
        """The put statement of ``tasks`` and its parameters (see :meth:`existed`)."""
        job = any(uses_job_control(task) for task in tasks)
        if len(tasks) == 1:
            return self._puts[(job, True)], {**task_values(tasks[0], job), "channel": self.channel}
        params = self._task_arrays(tasks)
        if job:
            params.update(_job_arrays(tasks))
        return self._puts[(job, False)], params

    @staticmethod
    def existed(tasks: Sequence[Task], rows: Sequence[Sequence[Any]]) -> set[str]:
        """The ids among ``tasks`` that existed, from the rows their put returned.

        One task: a row (its group, woken) means it was inserted. Several: a
        row per id that existed, and a row of NULL per group woken.
        """
        if len(tasks) == 1:
            return set() if rows else {tasks[0].id}
        return {task_id for (task_id,) in rows if task_id is not None}

    def _task_arrays(self, tasks: Sequence[Task]) -> dict[str, Any]:
        return {
            "ids": [t.id for t in tasks],
            "groups": [t.group for t in tasks],
            "names": [t.name for t in tasks],
            "datas": [t.data for t in tasks],
            "dues": [float(t.due) for t in tasks],
            "createds": [float(t.created) for t in tasks],
            "scheduleds": [_float_or_none(t.scheduled) for t in tasks],
            "retries": [t.retry_count for t in tasks],
            "ttls": [float(t.ttl) for t in tasks],
            "channel": self.channel,
        }

    def settle(self, kind: OutcomeKind, outcomes: Sequence[Outcome]) -> tuple[str, dict[str, Any]]:
        """The settle statement of ``outcomes`` (all of ``kind``, distinct task ids) and its
        parameters: plain values for one outcome, arrays for more."""
        if len(outcomes) == 1:
            return self._settles[(kind, True)], self._settle_values(kind, outcomes[0])
        return self._settles[(kind, False)], self._settle_arrays(kind, outcomes)

    def _settle_values(self, kind: OutcomeKind, outcome: Outcome) -> dict[str, Any]:
        claim = outcome.claim
        params: dict[str, Any] = {
            "id": claim.task.id,
            "worker": claim.worker_id,
            "attempt": claim.attempt,
            "channel": self.channel,
        }
        extra = EXTRA.get(kind)
        if extra is not None:
            params["extra"] = extra(outcome)
        return params

    def _settle_arrays(self, kind: OutcomeKind, outcomes: Sequence[Outcome]) -> dict[str, Any]:
        params: dict[str, Any] = {
            "ids": [o.claim.task.id for o in outcomes],
            "workers": [o.claim.worker_id for o in outcomes],
            "attempts": [o.claim.attempt for o in outcomes],
            "channel": self.channel,
        }
        extra = EXTRA.get(kind)
        if extra is not None:
            params["extra"] = [extra(o) for o in outcomes]
        return params


def _float_or_none(value: float | None) -> float | None:
    return None if value is None else float(value)


def _job_arrays(tasks: Sequence[Task]) -> dict[str, Any]:
    uniques = [t.unique for t in tasks]
    return {
        "neg_priorities": [-t.priority for t in tasks],
        "unique_keys": [None if u is None else u.key for u in uniques],
        "unique_periods": [None if u is None else _float_or_none(u.period) for u in uniques],
        "unique_states": [None if u is None else UNIQUE_STATES.index(u.states) for u in uniques],
        "timeouts": [_float_or_none(t.timeout) for t in tasks],
        "headers": [headers_json(t.headers) for t in tasks],
    }


def _put_sql(table: str, job_columns: str, single: bool) -> str:
    columns = TASK_COLUMNS + job_columns
    if single:
        values = TASK_VALUES + (JOB_VALUES if job_columns else "")
        rows = f"VALUES ({values}, {QUEUED}, 0)"
    else:
        arrays = TASK_ARRAYS + (JOB_ARRAYS if job_columns else "")
        rows = f"SELECT v.*, {QUEUED}, 0 FROM unnest({arrays}) AS v({columns})"  # noqa: S608
    insert = (
        f"WITH new AS (INSERT INTO {table} ({columns}, state, attempt) {rows} "
        "ON CONFLICT (id) DO NOTHING RETURNING id, group_name) "
    )
    notify = (
        "SELECT pg_notify(%(channel)s, g.group_name) "
        "FROM (SELECT DISTINCT group_name FROM new) AS g"
    )
    if single:
        return insert + notify
    return (
        f"{insert}SELECT v.id FROM unnest(%(ids)b::varchar[]) AS v(id) "  # noqa: S608
        "WHERE NOT EXISTS (SELECT FROM new WHERE new.id = v.id) "
        f"UNION ALL SELECT NULL FROM ({notify}) AS woken"
    )


def _heartbeat_sql(workers: str, requests: str, tasks: str, now: str) -> str:
    return (
        f"WITH leases AS (INSERT INTO {workers} (id, expires) "  # noqa: S608
        f"SELECT w.id, {now} + %(ttl)s FROM unnest(%(workers)b::varchar[]) AS w(id) "
        "ON CONFLICT (id) DO UPDATE SET expires = EXCLUDED.expires) "
        f"SELECT r.task_id FROM {requests} AS r WHERE r.worker_id = ANY(%(workers)b::varchar[]) "
        f"AND EXISTS (SELECT FROM {tasks} AS t WHERE t.id = r.task_id AND t.state = {STAGED} "
        "AND t.worker_id = r.worker_id AND t.attempt = r.attempt)"
    )


def _settle_sql(kind: OutcomeKind, table: str, now: str, single: bool) -> str:
    array, column, change = SETTLE_SQL[kind]
    if single:  # the same statement over one row of values
        values = f"(VALUES ({FENCE_VALUES}{array.replace('[]', '')}))"
    else:
        values = f"unnest({FENCE_ARRAYS}{array})"
    rows = f"{values} AS v(id, worker_id, attempt{column})"
    if kind is OutcomeKind.DISCARDED:
        return f"DELETE FROM {table} AS t USING {rows} WHERE {FENCE} RETURNING t.id"  # noqa: S608
    update = f"UPDATE {table} AS t {change.format(now=now)} FROM {rows} WHERE {FENCE}"
    if kind not in (OutcomeKind.RETRIED, OutcomeKind.RELEASED):
        return f"{update} RETURNING t.id"
    # Requeued: wake the group's idle workers (rows of NULL are dropped by the caller).
    return (
        f"WITH done AS ({update} RETURNING t.id, t.group_name) SELECT id FROM done "  # noqa: S608
        "UNION ALL "
        "SELECT NULL FROM (SELECT pg_notify(%(channel)s, g.group_name) "
        "FROM (SELECT DISTINCT group_name FROM done) AS g) AS woken"
    )
