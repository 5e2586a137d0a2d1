"""The storage layout: five tables per namespace, created by ``migrate``, removed by ``drop``.

Every table name starts with the namespace, so namespaces sharing one
database file never see each other's rows. Times are float seconds since
the epoch, read from taskkit's settable clock (``taskkit_core.cur_ts``).
Text is compared with SQLite's BINARY collation, i.e. byte for byte, as the
contract asks for group and task names.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from .config import parse_config

TABLES = ("tasks", "leases", "scheduler", "locks", "events")


@dataclass(frozen=True)
class Tables:
    """The quoted names of one namespace's tables, ready to put into SQL."""

    tasks: str
    leases: str
    scheduler: str
    locks: str
    events: str

    @classmethod
    def of(cls, namespace: str) -> Tables:
        """Names for ``namespace``, which ``check_namespace`` has made safe to quote."""
        return cls(*(f'"{namespace}_{table}"' for table in TABLES))


def ddl(namespace: str) -> list[str]:
    """The statements that create the tables of ``namespace`` (safe to run twice)."""
    t = Tables.of(namespace)
    return [
        f"""CREATE TABLE IF NOT EXISTS {t.tasks} (
    id          TEXT PRIMARY KEY,   -- Task.id
    grp         TEXT NOT NULL,      -- Task.group
    name        TEXT NOT NULL,      -- Task.name
    data        BLOB NOT NULL,      -- Task.data, opaque bytes encoded by the application
    due         REAL NOT NULL,      -- not claimed before this time
    created     REAL NOT NULL,
    scheduled   REAL,               -- the schedule point, for tasks a Scheduler made
    retry_count INTEGER NOT NULL,
    ttl         REAL NOT NULL,      -- seconds a finished task is kept
    priority    INTEGER NOT NULL DEFAULT 0,  -- Task.priority: higher is claimed first
    unique_key  TEXT,               -- Task.unique.key (NULL without one), scoped to grp
    unique_period REAL,             -- Task.unique.period (NULL: no time limit)
    unique_states TEXT,             -- Task.unique.states: 'queued' or 'active'
    timeout     REAL,               -- Task.timeout, seconds per attempt (NULL: none)
    headers     TEXT NOT NULL DEFAULT '{{}}',  -- Task.headers as a JSON object
    state       TEXT NOT NULL,      -- a TaskState: queued, staged (to worker_id), succeeded,
                                    -- failed, cancelled
    worker_id   TEXT,               -- the worker holding a staged task (with attempt: the fence)
    attempt     INTEGER NOT NULL DEFAULT 0,  -- claims so far (a release gives one back)
    began       REAL,               -- when the current (or last) claim was made
    result      BLOB,               -- set when the task succeeded
    error       TEXT,               -- set when the task failed or was cancelled; kept by a retry
    done_at     REAL,               -- when it finished
    cancel_requested INTEGER NOT NULL DEFAULT 0  -- 1: staged, its worker is to stop it
)""",
        # claim_tasks reads the most urgent queued task of a group from this index.
        f'CREATE INDEX IF NOT EXISTS "{namespace}_tasks_queue" '
        f"ON {t.tasks} (grp, priority DESC, due, id) WHERE state = 'queued'",
        f'CREATE INDEX IF NOT EXISTS "{namespace}_tasks_done" '
        f"ON {t.tasks} (done_at) WHERE done_at IS NOT NULL",
        # list_tasks pages through one state (of one group) newest first.
        f'CREATE INDEX IF NOT EXISTS "{namespace}_tasks_list" ON {t.tasks} (state, grp, id)',
        # put_tasks looks up the holder of a unique key here.
        f'CREATE INDEX IF NOT EXISTS "{namespace}_tasks_unique" '
        f"ON {t.tasks} (grp, unique_key) WHERE unique_key IS NOT NULL",
        # refresh_leases finds the cancel requests of its workers here.
        f'CREATE INDEX IF NOT EXISTS "{namespace}_tasks_cancel" '
        f"ON {t.tasks} (worker_id) WHERE cancel_requested = 1",
        f"""CREATE TABLE IF NOT EXISTS {t.leases} (
    id          TEXT PRIMARY KEY,   -- worker id (host:pid:random)
    expires     REAL NOT NULL       -- the lease ends (the worker is dead) after this time
)""",
        f"""CREATE TABLE IF NOT EXISTS {t.scheduler} (
    name        TEXT PRIMARY KEY,   -- the schedule's name
    data        BLOB NOT NULL       -- its state, opaque bytes (compare-and-set)
)""",
        f"""CREATE TABLE IF NOT EXISTS {t.locks} (
    name        TEXT PRIMARY KEY,   -- what the lock protects
    owner       TEXT NOT NULL,      -- the token of the Lock object holding it
    expires     REAL NOT NULL       -- free for anyone after this time
)""",
        f"""CREATE TABLE IF NOT EXISTS {t.events} (
    id          INTEGER PRIMARY KEY AUTOINCREMENT,  -- never reused, so receivers keep a cursor
    body        BLOB NOT NULL       -- an encoded control event
)""",
    ]


def exists(connection: sqlite3.Connection, namespace: str) -> bool:
    """Whether the tables of ``namespace`` have been created."""
    row = connection.execute(
        "SELECT count(*) FROM sqlite_master WHERE type = 'table' AND name IN (?, ?, ?, ?, ?)",
        [f"{namespace}_{table}" for table in TABLES],
    ).fetchone()
    return bool(row[0] == len(TABLES))


def migrate(url: str, options: Mapping[str, Any], sql_only: bool) -> str | None:
    """Create the database file and the namespace's tables; with ``sql_only``, return the SQL."""
    config = parse_config(url, options)
    statements = ddl(config.namespace)
    if sql_only:
        return ";\n\n".join(statements) + ";\n"
    connection = sqlite3.connect(config.path, timeout=config.timeout, isolation_level=None)
    try:
        connection.execute("PRAGMA journal_mode = WAL")  # readers never wait for the writer
        connection.execute("BEGIN IMMEDIATE")
        for statement in statements:
            connection.execute(statement)
        connection.execute("COMMIT")
    finally:
        connection.close()
    return f"created the tables of namespace {config.namespace!r} in {config.path}"


def drop(url: str, options: Mapping[str, Any]) -> None:
    """Remove the namespace's tables (and nothing else); a missing file is left missing."""
    config = parse_config(url, options)
    if not Path(config.path).exists():
        return
    connection = sqlite3.connect(config.path, timeout=config.timeout, isolation_level=None)
    try:
        connection.execute("BEGIN IMMEDIATE")
        for table in TABLES:
            connection.execute(f'DROP TABLE IF EXISTS "{config.namespace}_{table}"')
        connection.execute("COMMIT")
    finally:
        connection.close()
