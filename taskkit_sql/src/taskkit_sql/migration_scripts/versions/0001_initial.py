"""The first schema: tasks, workers, scheduler states, locks and events.

Revision ID: 0001
Revises:
Create Date: 2026-11-28

Written out in full (not generated from ``taskkit_sql.schema``), so this
revision keeps meaning what it meant when later ones change the schema;
tests/sql checks that the migrated database matches ``schema``.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import context, op
from taskkit_sql.columns import EventId, Message, Name, Payload, Timestamp
from taskkit_sql.databases import family_of_dialect, options_of_every_family
from taskkit_sql.databases.base import Index

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None


def _prefix() -> str:
    return f"{context.config.attributes['namespace']}_"


def upgrade() -> None:
    p = _prefix()
    op.create_table(
        f"{p}tasks",
        sa.Column("id", Name(64), primary_key=True, comment="task id (32 hex digits)"),
        sa.Column("group_name", Name(400), nullable=False, comment="the task's group"),
        sa.Column("name", Name(400), nullable=False, comment="the task's name"),
        sa.Column("data", Payload(), nullable=False, comment="encoded payload (opaque bytes)"),
        sa.Column("due", Timestamp(), nullable=False, comment="not to start before (epoch s)"),
        sa.Column("created", Timestamp(), nullable=False, comment="when it was made (epoch s)"),
        sa.Column("scheduled", Timestamp(), comment="schedule point, when a scheduler made it"),
        sa.Column(
            "retry_count", sa.Integer, nullable=False, comment="retries asked for by the handler"
        ),
        sa.Column("ttl", Timestamp(), nullable=False, comment="seconds the finished task is kept"),
        sa.Column("state", sa.SmallInteger, nullable=False, comment="0 queued, 1 staged, 2 done"),
        sa.Column("worker_id", Name(400), comment="worker holding (or that finished) it"),
        sa.Column(
            "attempt", sa.Integer, nullable=False, comment="claims so far; fences settle writes"
        ),
        sa.Column("began", Timestamp(), comment="when the current claim was made (epoch s)"),
        sa.Column("result", Payload(), comment="encoded result, when it succeeded"),
        sa.Column("error", Message(), comment="error message (traceback), when it failed"),
        sa.Column("done_at", Timestamp(), comment="when it finished (epoch s)"),
        sa.Column("expires_at", Timestamp(), comment="done_at + ttl: disposable after this"),
        comment="taskkit tasks: queued, staged to a worker, or done with a result",
    )
    _create_indexes(
        f"{p}tasks",
        (f"{p}tasks_claim", ["group_name", "state", "due", "id"], None),
        # Partial on PostgreSQL and SQLite: only rows in that state.
        (f"{p}tasks_staged", ["state", "began"], "state = 1"),
        (f"{p}tasks_done", ["state", "done_at"], "state = 2"),
        (f"{p}tasks_expires", ["state", "expires_at"], "state = 2"),
    )
    op.create_table(
        f"{p}workers",
        sa.Column("id", Name(400), primary_key=True, comment="worker id"),
        sa.Column(
            "expires", Timestamp(), nullable=False, comment="lease end (epoch s): dead after"
        ),
        comment="taskkit workers and their leases (heartbeats)",
    )
    _create_indexes(f"{p}workers", (f"{p}workers_expires", ["expires"], None))
    op.create_table(
        f"{p}scheduler_states",
        sa.Column("name", Name(400), primary_key=True, comment="scheduler name"),
        sa.Column("data", Payload(), nullable=False, comment="encoded scheduler state"),
        comment="taskkit scheduler states, compare-and-set with the tasks they make",
    )
    op.create_table(
        f"{p}locks",
        sa.Column("name", Name(400), primary_key=True, comment="lock name"),
        sa.Column("owner", sa.String(64), nullable=False, comment="random token of the holder"),
        sa.Column(
            "expires", Timestamp(), nullable=False, comment="lease end (epoch s): free after"
        ),
        comment="taskkit lease locks (SQLite only; other databases use session locks)",
    )
    op.create_table(
        f"{p}events",
        sa.Column(
            "id",
            EventId(),
            primary_key=True,
            autoincrement=True,
            comment="increasing event number; receivers read past their last one",
        ),
        sa.Column("sent", Timestamp(), nullable=False, comment="when it was sent (epoch s)"),
        sa.Column("data", Payload(), nullable=False, comment="encoded control event (JSON)"),
        comment="taskkit control events (shutdown, pause, resume); old ones are deleted",
        **options_of_every_family(lambda family: family.autoincrement_options()),
    )


def _create_indexes(table: str, *indexes: Index) -> None:
    """CREATE INDEX each, as the database's family does it (partial where it can)."""
    family_of_dialect(op.get_context().dialect.name).create_indexes(op, table, indexes)


def downgrade() -> None:
    p = _prefix()
    for table in ("events", "locks", "scheduler_states", "workers", "tasks"):
        op.drop_table(f"{p}{table}")
