"""Every table of a namespace, with a comment on each column.

Tables are named ``<namespace>_<table>`` (namespace ``taskkit`` by default:
``taskkit_tasks``, ``taskkit_workers``, ``taskkit_scheduler_states``,
``taskkit_locks``, ``taskkit_events``, and Alembic's
``taskkit_alembic_version``). They are created and upgraded only by
``taskkit migrate`` (see ``migrations``), never when a backend is opened.

A task lives in one row of ``tasks`` for its whole life; ``state`` says
where it is (``states`` converts it to and from the core's TaskState)::

    QUEUED (0) --claim--> STAGED (1) --settle--> DONE (2) --ttl--> deleted
       ^                     |
       +-- retry / release / restore of a dead worker's task

The claim index covers ``(group_name, state, due, id)``, the order of
claims. On PostgreSQL and SQLite the indexes on staged and done tasks are
partial (only rows in that state), so putting a task touches two indexes.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass

from sqlalchemy import Column, Index, Integer, MetaData, SmallInteger, String, Table

from .columns import EventId, Message, Name, Payload, Timestamp
from .databases import options_of_every_family
from .states import DONE, STAGED

ID_LENGTH = 64
"""The longest task id (taskkit makes 32 hex digits)."""

NAME_LENGTH = 400
"""The longest group, task or scheduler name (taskkit_core.task.MAX_NAME_LENGTH)."""

WORKER_ID_LENGTH = 400
"""The longest worker id (taskkit makes host:pid:random; host names reach 253)."""


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

    @property
    def version_table(self) -> str:
        """Alembic's version table of this namespace (its own, beside the application's)."""
        return f"{self.namespace}_alembic_version"

    def all(self) -> list[Table]:
        return [self.tasks, self.workers, self.scheduler_states, self.locks, self.events]


@functools.cache
def build_tables(namespace: str) -> Tables:
    """The tables of ``namespace`` (a name checked by ``check_namespace``)."""
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
        Column("state", SmallInteger, nullable=False, comment="0 queued, 1 staged, 2 done"),
        Column("worker_id", Name(WORKER_ID_LENGTH), comment="worker holding (or that finished) it"),
        Column("attempt", Integer, nullable=False, comment="claims so far; fences settle writes"),
        Column("began", Timestamp(), comment="when the current claim was made (epoch s)"),
        Column("result", Payload(), comment="encoded result, when it succeeded"),
        Column("error", Message(), comment="error message (traceback), when it failed"),
        Column("done_at", Timestamp(), comment="when it finished (epoch s)"),
        Column("expires_at", Timestamp(), comment="done_at + ttl: disposable after this"),
        comment="taskkit tasks: queued, staged to a worker, or done with a result",
    )
    Index(f"{p}tasks_claim", tasks.c.group_name, tasks.c.state, tasks.c.due, tasks.c.id)
    _partial_index(f"{p}tasks_staged", tasks, STAGED, tasks.c.began)
    _partial_index(f"{p}tasks_done", tasks, DONE, tasks.c.done_at)
    _partial_index(f"{p}tasks_expires", tasks, DONE, tasks.c.expires_at)
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
        **options_of_every_family(lambda family: family.autoincrement_options()),
    )
    return Tables(namespace, metadata, tasks, workers, scheduler_states, locks, events)


def _partial_index(name: str, tasks: Table, state: int, column: Column[float]) -> Index:
    # Partial where the family can (Family.partial_index_options); elsewhere (MySQL)
    # the leading state column does the filtering.
    where = tasks.c.state == state
    options = options_of_every_family(lambda family: family.partial_index_options(where))
    return Index(name, tasks.c.state, column, **options)
