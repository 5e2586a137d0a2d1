"""Job control (issue 16): priorities, unique keys, timeouts, headers, cancellation.

Revision ID: 0002
Revises: 0001
Create Date: 2026-12-05

- ``tasks`` gains ``neg_priority`` (0 for every existing task), the unique
  key columns, ``timeout`` and ``headers`` (NULL: none).
- States: failed tasks get a value of their own (4; 0001 stored them as
  done, 2, without a result) and cancelled tasks are 3, so that every
  finished state is ``state >= 2``.
- Indexes: the claim index orders by priority; the finished-task indexes
  cover every finished state; a listing index is new.
- Two new tables: ``unique_keys`` and ``cancel_requests``.

Written out in full, like 0001, so that it keeps meaning what it means now.
On a large table the index builds take a while (PostgreSQL blocks writes
meanwhile): migrate with the workers stopped.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import context, op
from taskkit_sql.columns import JsonText, Message, Name, Timestamp
from taskkit_sql.databases import family_of_dialect
from taskkit_sql.databases.base import Index

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None

FINISHED = "state >= 2"

NEW_INDEXES: tuple[Index, ...] = (
    ("tasks_claim", ["group_name", "state", "neg_priority", "due", "id"], None),
    ("tasks_done", ["done_at", "id"], FINISHED),
    ("tasks_expires", ["expires_at", "id"], FINISHED),
    ("tasks_list", ["state", "group_name", "id"], FINISHED),
)

OLD_INDEXES: tuple[Index, ...] = (
    ("tasks_claim", ["group_name", "state", "due", "id"], None),
    ("tasks_done", ["state", "done_at"], "state = 2"),
    ("tasks_expires", ["state", "expires_at"], "state = 2"),
)


def _prefix() -> str:
    return f"{context.config.attributes['namespace']}_"


def _new_columns() -> list[sa.Column[object]]:
    return [
        sa.Column(
            "neg_priority",
            sa.SmallInteger,
            nullable=False,
            server_default=sa.text("0"),
            comment="minus the task's priority (-100..100): claims take the smallest first",
        ),
        sa.Column("unique_key", Name(200), comment="its unique key in its group"),
        sa.Column(
            "unique_period", Timestamp(), comment="s after created the key holds (NULL: ever)"
        ),
        sa.Column(
            "unique_states", sa.SmallInteger, comment="the key holds while 0 queued, 1 also staged"
        ),
        sa.Column("timeout", Timestamp(), comment="seconds an attempt may run (NULL: no limit)"),
        sa.Column("headers", JsonText(), comment="header map as a JSON object (NULL: none)"),
    ]


def upgrade() -> None:
    p = _prefix()
    tasks = f"{p}tasks"
    state, result = sa.column("state", sa.SmallInteger), sa.column("result", sa.LargeBinary)
    _set_state(tasks, state == 2, result.is_(None), to=4)
    for column in _new_columns():
        op.add_column(tasks, column)
    for name, _columns, _where in OLD_INDEXES:
        op.drop_index(f"{p}{name}", table_name=tasks)
    _create_indexes(tasks, *((f"{p}{name}", c, w) for name, c, w in NEW_INDEXES))
    op.create_table(
        f"{p}unique_keys",
        sa.Column("group_name", Name(400), primary_key=True, comment="the key's group"),
        sa.Column("unique_key", Name(200), primary_key=True, comment="the key"),
        sa.Column("task_id", Name(64), nullable=False, comment="its holder: the task put last"),
        comment="taskkit unique keys and their holders; a put locks the key's row",
    )
    _create_indexes(f"{p}unique_keys", (f"{p}unique_keys_task", ["task_id"], None))
    op.create_table(
        f"{p}cancel_requests",
        sa.Column("task_id", Name(64), primary_key=True, comment="the staged task to stop"),
        sa.Column("worker_id", Name(400), nullable=False, comment="its worker"),
        sa.Column(
            "attempt", sa.Integer, nullable=False, comment="the attempt to stop (no later one)"
        ),
        comment="taskkit cancel requests for staged tasks, read by their workers' heartbeats",
    )
    _create_indexes(f"{p}cancel_requests", (f"{p}cancel_worker", ["worker_id"], None))
    _comment(
        tasks,
        "taskkit tasks: queued, staged to a worker, or finished",
        state="0 queued, 1 staged, 2 succeeded, 3 cancelled, 4 failed",
        error="error message (traceback) of the last failure; kept while retried",
    )


def downgrade() -> None:
    """Back to 0001: cancelled and failed tasks become done without a result."""
    p = _prefix()
    tasks = f"{p}tasks"
    op.drop_table(f"{p}cancel_requests")
    op.drop_table(f"{p}unique_keys")
    for name, _columns, _where in NEW_INDEXES:
        op.drop_index(f"{p}{name}", table_name=tasks)
    _create_indexes(tasks, *((f"{p}{name}", c, w) for name, c, w in OLD_INDEXES))
    for column in reversed(_new_columns()):
        op.drop_column(tasks, column.name)
    _set_state(tasks, sa.column("state", sa.SmallInteger) >= 3, to=2)
    _comment(
        tasks,
        "taskkit tasks: queued, staged to a worker, or done with a result",
        state="0 queued, 1 staged, 2 done",
        error="error message (traceback), when it failed",
    )


def _set_state(tasks: str, *where: sa.ColumnElement[bool], to: int) -> None:
    table = sa.table(tasks, sa.column("state", sa.SmallInteger))
    op.execute(table.update().where(*where).values(state=to))


def _comment(tasks: str, table: str, state: str, error: str) -> None:
    """New comments on the tasks table and two of its columns (where the database keeps them)."""
    if not op.get_context().dialect.supports_comments:
        return
    op.create_table_comment(tasks, table)
    op.alter_column(
        tasks, "state", existing_type=sa.SmallInteger, existing_nullable=False, comment=state
    )
    op.alter_column(tasks, "error", existing_type=Message(), existing_nullable=True, comment=error)


def _create_indexes(table: str, *indexes: Index) -> None:
    """CREATE INDEX each, as the database's family does it (partial where it can)."""
    family_of_dialect(op.get_context().dialect.name).create_indexes(op, table, indexes)
