"""Every table of a namespace, with a comment on each column.

Tables are named ``<namespace>_<table>`` (namespace ``taskkit`` by default:
``taskkit_tasks``, ``taskkit_workers``, ``taskkit_scheduler_states``,
``taskkit_locks``, ``taskkit_events``, ``taskkit_unique_keys``,
``taskkit_cancel_requests``, and Alembic's ``taskkit_alembic_version``).
They are created and upgraded only by ``taskkit migrate`` (see
``migrations``), never when a backend is opened.

A task lives in one row of ``tasks`` for its whole life; ``state`` says
where it is (``states`` converts it to and from the core's TaskState)::

    QUEUED (0) --claim--> STAGED (1) --settle--> SUCCEEDED (2) / CANCELLED (3) / FAILED (4)
       |  ^                  |                              |
       |  +-- retry / release / restore of a dead worker's  +--ttl or purge--> deleted
       |      task                          retry_tasks --> QUEUED
       +-- cancel_tasks --> CANCELLED (3)

Indexes on ``tasks``, and why each is there:

- ``tasks_claim (group_name, state, neg_priority, due, id)``: a claim reads
  the due tasks of a group straight off it, in claim order (highest
  priority, then earliest due, then id). The priority is stored negated so
  that every column ascends: MariaDB before 10.8 parses ``DESC`` in an
  index but ignores it, and a mixed ``ORDER BY priority DESC, due`` would
  then sort every due task of the group at each claim.
- ``tasks_staged (state, began)``: staged tasks, longest held first.
- ``tasks_done (done_at, id)`` and ``tasks_expires (expires_at, id)``:
  finished tasks by finish time and by expiry (disposal).
- ``tasks_list (state, group_name, id)``: ``list_tasks`` of a finished
  state and a group, newest first, reads a page off it however many tasks
  are kept. Without a group the database either walks the newest ids (a
  common state) or sorts the tasks in that state, which it finds on this
  index. A second index on ``(state, id)`` would make that a page read too,
  but costs every claim and settle 4-5% more server time (measured on
  PostgreSQL and MariaDB): not worth it for an operator's occasional look.

On PostgreSQL and SQLite every index but the claim index is partial (only
rows staged, or only finished rows: ``state >= 2``), so a put writes two
index entries (the key and the claim index) and a claim three. MySQL has
no partial indexes; there the leading ``state`` (or a NULL ``done_at``)
keeps the rows apart.

Two small tables serve job control: ``unique_keys`` (which task holds
each (group, unique key); a put locks the key's row, so concurrent puts of
one key queue behind each other) and ``cancel_requests`` (cancel requests
for staged tasks, read by their workers' heartbeats; empty almost always).
"""

from __future__ import annotations

import functools
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from sqlalchemy import (
    Column,
    ColumnElement,
    Index,
    Integer,
    MetaData,
    SmallInteger,
    String,
    Table,
    literal_column,
    text,
)

from .columns import EventId, JsonText, Message, Name, Payload, Timestamp
from .databases import every_family, options_of
from .states import FINISHED_FROM, STAGED

if TYPE_CHECKING:
    from .databases.base import Family

ID_LENGTH = 64
"""The longest task id (taskkit makes 32 hex digits)."""

NAME_LENGTH = 400
"""The longest group, task or scheduler name (taskkit_core.task.MAX_NAME_LENGTH)."""

WORKER_ID_LENGTH = 400
"""The longest worker id (taskkit makes host:pid:random; host names reach 253)."""

UNIQUE_KEY_LENGTH = 200
"""The longest unique key (taskkit_core.task.MAX_UNIQUE_KEY_LENGTH)."""


@dataclass(frozen=True)
class Tables:
    """The tables of one namespace, on their own MetaData."""

    namespace: str
    metadata: MetaData
    tasks: Table
    workers: Table
    scheduler_states: Table
    locks: Table
    events: Table
    unique_keys: Table
    cancel_requests: Table

    @property
    def version_table(self) -> str:
        """Alembic's version table of this namespace (its own, beside the application's)."""
        return f"{self.namespace}_alembic_version"

    def all(self) -> list[Table]:
        return [
            self.tasks,
            self.workers,
            self.scheduler_states,
            self.locks,
            self.events,
            self.unique_keys,
            self.cancel_requests,
        ]


@functools.cache
def build_tables(namespace: str, family: Family | None = None) -> Tables:
    """The tables of ``namespace`` (a name checked by ``check_namespace``).

    With ``family``, they carry that database's schema keywords only, so
    SQLAlchemy loads no other dialect to check them (tens of milliseconds
    of a worker's start-up); without, every family's (migrations, tests).
    """
    families = every_family() if family is None else [family]
    metadata = MetaData()
    p = f"{namespace}_"
    tasks = Table(
        f"{p}tasks",
        metadata,
        Column("id", Name(ID_LENGTH), primary_key=True, comment="task id (32 hex digits)"),
        Column("group_name", Name(NAME_LENGTH), nullable=False, comment="the task's group"),
        Column("name", Name(NAME_LENGTH), nullable=False, comment="the task's name"),
        Column("data", Payload(), nullable=False, comment="encoded payload (opaque bytes)"),
        Column("due", Timestamp(), nullable=False, comment="not to start before (epoch s)"),
        Column("created", Timestamp(), nullable=False, comment="when it was made (epoch s)"),
        Column("scheduled", Timestamp(), comment="schedule point, when a scheduler made it"),
        Column("retry_count", Integer, nullable=False, comment="retries asked for by the handler"),
        Column("ttl", Timestamp(), nullable=False, comment="seconds the finished task is kept"),
        Column(
            "state",
            SmallInteger,
            nullable=False,
            comment="0 queued, 1 staged, 2 succeeded, 3 cancelled, 4 failed",
        ),
        Column("worker_id", Name(WORKER_ID_LENGTH), comment="worker holding (or that finished) it"),
        Column("attempt", Integer, nullable=False, comment="claims so far; fences settle writes"),
        Column("began", Timestamp(), comment="when the current claim was made (epoch s)"),
        Column("result", Payload(), comment="encoded result, when it succeeded"),
        Column(
            "error",
            Message(),
            comment="error message (traceback) of the last failure; kept while retried",
        ),
        Column("done_at", Timestamp(), comment="when it finished (epoch s)"),
        Column("expires_at", Timestamp(), comment="done_at + ttl: disposable after this"),
        Column(
            "neg_priority",
            SmallInteger,
            nullable=False,
            server_default=text("0"),
            comment="minus the task's priority (-100..100): claims take the smallest first",
        ),
        Column("unique_key", Name(UNIQUE_KEY_LENGTH), comment="its unique key in its group"),
        Column("unique_period", Timestamp(), comment="s after created the key holds (NULL: ever)"),
        Column(
            "unique_states", SmallInteger, comment="the key holds while 0 queued, 1 also staged"
        ),
        Column("timeout", Timestamp(), comment="seconds an attempt may run (NULL: no limit)"),
        Column("headers", JsonText(), comment="header map as a JSON object (NULL: none)"),
        comment="taskkit tasks: queued, staged to a worker, or finished",
    )
    c = tasks.c
    Index(f"{p}tasks_claim", c.group_name, c.state, c.neg_priority, c.due, c.id)
    _partial_index(families, f"{p}tasks_staged", c.state == STAGED, c.state, c.began)
    finished = finished_only(c.state)
    _partial_index(families, f"{p}tasks_done", finished, c.done_at, c.id)
    _partial_index(families, f"{p}tasks_expires", finished, c.expires_at, c.id)
    _partial_index(families, f"{p}tasks_list", finished, c.state, c.group_name, c.id)
    workers = Table(
        f"{p}workers",
        metadata,
        Column("id", Name(WORKER_ID_LENGTH), primary_key=True, comment="worker id"),
        Column("expires", Timestamp(), nullable=False, comment="lease end (epoch s): dead after"),
        comment="taskkit workers and their leases (heartbeats)",
    )
    Index(f"{p}workers_expires", workers.c.expires)
    scheduler_states = Table(
        f"{p}scheduler_states",
        metadata,
        Column("name", Name(NAME_LENGTH), primary_key=True, comment="scheduler name"),
        Column("data", Payload(), nullable=False, comment="encoded scheduler state"),
        comment="taskkit scheduler states, compare-and-set with the tasks they make",
    )
    locks = Table(
        f"{p}locks",
        metadata,
        Column("name", Name(NAME_LENGTH), primary_key=True, comment="lock name"),
        Column("owner", String(64), nullable=False, comment="random token of the holder"),
        Column("expires", Timestamp(), nullable=False, comment="lease end (epoch s): free after"),
        comment="taskkit lease locks (SQLite only; other databases use session locks)",
    )
    events = Table(
        f"{p}events",
        metadata,
        Column(
            "id",
            EventId(),
            primary_key=True,
            autoincrement=True,
            comment="increasing event number; receivers read past their last one",
        ),
        Column("sent", Timestamp(), nullable=False, comment="when it was sent (epoch s)"),
        Column("data", Payload(), nullable=False, comment="encoded control event (JSON)"),
        comment="taskkit control events (shutdown, pause, resume); old ones are deleted",
        # Never reuse an id, or a receiver could miss events.
        **options_of(families, lambda family: family.autoincrement_options()),
    )
    unique_keys = Table(
        f"{p}unique_keys",
        metadata,
        Column("group_name", Name(NAME_LENGTH), primary_key=True, comment="the key's group"),
        Column("unique_key", Name(UNIQUE_KEY_LENGTH), primary_key=True, comment="the key"),
        Column("task_id", Name(ID_LENGTH), nullable=False, comment="its holder: the task put last"),
        comment="taskkit unique keys and their holders; a put locks the key's row",
    )
    Index(f"{p}unique_keys_task", unique_keys.c.task_id)
    cancel_requests = Table(
        f"{p}cancel_requests",
        metadata,
        Column("task_id", Name(ID_LENGTH), primary_key=True, comment="the staged task to stop"),
        Column("worker_id", Name(WORKER_ID_LENGTH), nullable=False, comment="its worker"),
        Column("attempt", Integer, nullable=False, comment="the attempt to stop (no later one)"),
        comment="taskkit cancel requests for staged tasks, read by their workers' heartbeats",
    )
    Index(f"{p}cancel_worker", cancel_requests.c.worker_id)
    return Tables(
        namespace,
        metadata,
        tasks,
        workers,
        scheduler_states,
        locks,
        events,
        unique_keys,
        cancel_requests,
    )


def finished_only(state: ColumnElement[int]) -> ColumnElement[bool]:
    """``state >= 2``, the condition of the partial indexes on finished tasks.

    Statements that read those indexes repeat it word for word (a literal,
    not a parameter), as SQLite uses a partial index only then.
    """
    return state >= literal_column(str(FINISHED_FROM), SmallInteger())


def _partial_index(
    families: list[Family], name: str, where: ColumnElement[bool], *columns: Column[Any]
) -> Index:
    # Partial where the family can (Family.partial_index_options); elsewhere (MySQL)
    # the leading state column (or a NULL time) keeps the rows apart.
    options = options_of(families, lambda family: family.partial_index_options(where))
    return Index(name, *columns, **options)
