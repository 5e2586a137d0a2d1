"""PostgreSQL: a whole batch in one statement, its rows bound as arrays.

``unnest(%(ids)s::varchar[], ...)`` turns parallel arrays into rows, so a
put of one task or of a thousand, and a settle of any number of outcomes
of one kind, is a single statement: one round trip, atomic in autocommit,
and the same text every time (psycopg prepares it once per connection).

- A put inserts the rows (``ON CONFLICT (id) DO NOTHING``: puts are
  idempotent) and, in the same statement, NOTIFYs the task channel once
  per group of the rows it inserted; the notification goes out when the
  statement commits.
The SQL is text built once from constants and the tasks table's name
(quoted by the dialect, from a namespace of letters, digits and ``_``);
values only ever travel as parameters.

- A settle updates (or deletes) the rows whose id, staged state, worker
  and attempt match an outcome's claim (fencing) and returns their ids.
  Outcomes that requeue a task (retried, released) also NOTIFY its group,
  so an idle worker anywhere picks a released task up at once.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from sqlalchemy import Table
from sqlalchemy.engine import Dialect
from taskkit_core.backend import Outcome, OutcomeKind
from taskkit_core.task import Task

from .states import DONE, QUEUED, STAGED

FENCE_ARRAYS = "%(ids)s::varchar[], %(workers)s::varchar[], %(attempts)s::integer[]"
FENCE = (
    f"t.id = v.id AND t.state = {STAGED} AND t.worker_id = v.worker_id AND t.attempt = v.attempt"
)
REQUEUE = f"state = {QUEUED}, worker_id = NULL, began = NULL"
DONE_NOW = f"state = {DONE}, done_at = {{now}}, expires_at = {{now}} + t.ttl"

SETTLE_SQL: dict[OutcomeKind, tuple[str, str, str]] = {
    # kind: (extra array, its column, what the matched rows become)
    OutcomeKind.SUCCEEDED: (
        ", %(extra)b::bytea[]",
        ", extra",
        f"SET result = v.extra, error = NULL, {DONE_NOW}",
    ),
    OutcomeKind.FAILED: (
        ", %(extra)b::bytea[]",
        ", extra",
        f"SET error = v.extra, result = NULL, {DONE_NOW}",
    ),
    OutcomeKind.RETRIED: (
        ", %(extra)s::float8[]",
        ", extra",
        f"SET due = {{now}} + v.extra, retry_count = t.retry_count + 1, {REQUEUE}",
    ),
    OutcomeKind.RELEASED: ("", "", f"SET attempt = t.attempt - 1, {REQUEUE}"),
    OutcomeKind.DISCARDED: ("", "", ""),
}

TASK_ARRAYS = (
    "%(ids)s::varchar[], %(groups)s::varchar[], %(names)s::varchar[], %(datas)b::bytea[], "
    "%(dues)s::float8[], %(createds)s::float8[], %(scheduleds)s::float8[], "
    "%(retries)s::integer[], %(ttls)s::float8[]"
)
TASK_COLUMNS = "id, group_name, name, data, due, created, scheduled, retry_count, ttl"


class ArrayStatements:
    """The put and settle statements of one namespace's tasks table."""

    def __init__(self, tasks: Table, dialect: Dialect, now: str, channel: str) -> None:
        table = dialect.identifier_preparer.format_table(tasks)
        self.channel = channel
        self.put = (
            f"WITH new AS (INSERT INTO {table} ({TASK_COLUMNS}, state, attempt) "  # noqa: S608
            f"SELECT v.*, {QUEUED}, 0 FROM unnest({TASK_ARRAYS}) AS v({TASK_COLUMNS}) "
            "ON CONFLICT (id) DO NOTHING RETURNING group_name) "
            "SELECT pg_notify(%(channel)s, g.group_name) "
            "FROM (SELECT DISTINCT group_name FROM new) AS g"
        )
        self.settle = {kind: _settle_sql(kind, table, now) for kind in SETTLE_SQL}

    def put_parameters(self, tasks: Sequence[Task]) -> dict[str, Any]:
        """The arrays of ``tasks`` for :attr:`put`."""
        return {
            "ids": [t.id for t in tasks],
            "groups": [t.group for t in tasks],
            "names": [t.name for t in tasks],
            "datas": [t.data for t in tasks],
            "dues": [t.due for t in tasks],
            "createds": [t.created for t in tasks],
            "scheduleds": [t.scheduled for t in tasks],
            "retries": [t.retry_count for t in tasks],
            "ttls": [t.ttl for t in tasks],
            "channel": self.channel,
        }

    def settle_parameters(self, kind: OutcomeKind, outcomes: Sequence[Outcome]) -> dict[str, Any]:
        """The arrays of ``outcomes`` (all of ``kind``, distinct task ids) for :attr:`settle`."""
        params: dict[str, Any] = {
            "ids": [o.claim.task.id for o in outcomes],
            "workers": [o.claim.worker_id for o in outcomes],
            "attempts": [o.claim.attempt for o in outcomes],
            "channel": self.channel,
        }
        if kind is OutcomeKind.SUCCEEDED:
            params["extra"] = [bytes(o.result) for o in outcomes]
        elif kind is OutcomeKind.FAILED:
            params["extra"] = [o.message.encode("utf-8", "surrogatepass") for o in outcomes]
        elif kind is OutcomeKind.RETRIED:
            params["extra"] = [float(o.delay) for o in outcomes]
        return params


def _settle_sql(kind: OutcomeKind, table: str, now: str) -> str:
    array, column, change = SETTLE_SQL[kind]
    rows = f"unnest({FENCE_ARRAYS}{array}) AS v(id, worker_id, attempt{column})"
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
