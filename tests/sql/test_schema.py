"""Schema creation, upgrade and removal through ``taskkit migrate`` (Alembic)."""

from __future__ import annotations

import threading
from collections.abc import Iterator

import pytest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import Column, Integer, MetaData, inspect, text
from taskkit_core.errors import StorageNotReady
from taskkit_core.opening import connect, drop, migrate
from taskkit_core.testing import make_task
from taskkit_core.url import mask_url
from taskkit_sql.migrations import HEAD, migrate_command
from taskkit_sql.options import OPTION_NAMES
from taskkit_sql.schema import build_tables
from taskkit_sql.urls import parse_sql_url

from .support import ON_EVERY_DATABASE, ON_SERVERS, plain_engine

TABLES = (
    "tasks",
    "workers",
    "scheduler_states",
    "locks",
    "events",
    "unique_keys",
    "cancel_requests",
    "alembic_version",
)


def namespace_tables(url: str, namespace: str) -> set[str]:
    with plain_engine(url) as engine:
        existing = set(inspect(engine).get_table_names())
    return existing & {f"{namespace}_{name}" for name in TABLES}


@pytest.fixture
def fresh(taskkit_url: str, taskkit_namespace: str) -> Iterator[str]:
    """A namespace with no tables yet; dropped after the test."""
    yield taskkit_namespace
    drop(taskkit_url, namespace=taskkit_namespace)


@ON_EVERY_DATABASE
def test_migrate_creates_every_table_then_has_nothing_to_do(taskkit_url: str, fresh: str) -> None:
    assert namespace_tables(taskkit_url, fresh) == set()
    report = migrate(taskkit_url, namespace=fresh)
    assert report is not None and f"from nothing to schema revision {HEAD}" in report
    assert namespace_tables(taskkit_url, fresh) == {f"{fresh}_{name}" for name in TABLES}
    assert "up to date" in (migrate(taskkit_url, namespace=fresh) or "")
    connect(taskkit_url, namespace=fresh).close()


def _schema_differences(url: str, namespace: str, metadata: MetaData) -> list[object]:
    ours = {table.name for table in metadata.tables.values()}
    with plain_engine(url) as engine, engine.connect() as conn:
        context = MigrationContext.configure(
            conn,
            opts={
                "compare_type": True,
                "include_name": lambda name, kind, parent: kind != "table" or name in ours,
            },
        )
        return list(compare_metadata(context, metadata))


@ON_EVERY_DATABASE
def test_the_migrated_database_matches_the_schema_module(taskkit_url: str, fresh: str) -> None:
    migrate(taskkit_url, namespace=fresh)
    tables = build_tables(fresh)
    assert _schema_differences(taskkit_url, fresh, tables.metadata) == []
    # The comparison does notice a difference:
    changed = MetaData()
    for table in tables.all():
        table.to_metadata(changed)
    changed.tables[f"{fresh}_workers"].append_column(Column("extra", Integer))
    assert _schema_differences(taskkit_url, fresh, changed) != []


@ON_SERVERS
def test_every_column_has_a_comment(taskkit_url: str, fresh: str) -> None:
    migrate(taskkit_url, namespace=fresh)
    with plain_engine(taskkit_url) as engine:
        inspector = inspect(engine)
        for table in build_tables(fresh).all():
            uncommented = [c["name"] for c in inspector.get_columns(table.name) if not c["comment"]]
            assert uncommented == [], table.name


@ON_EVERY_DATABASE
def test_opening_a_missing_schema_says_which_command_to_run(taskkit_url: str, fresh: str) -> None:
    with pytest.raises(StorageNotReady) as info:
        connect(taskkit_url, namespace=fresh)
    message = str(info.value)
    assert f"taskkit migrate --url '{mask_url(taskkit_url)}' --namespace {fresh}" in message
    assert namespace_tables(taskkit_url, fresh) == set(), "opening created nothing"


@ON_EVERY_DATABASE
def test_the_default_namespace_needs_no_namespace_flag(taskkit_url: str) -> None:
    url = parse_sql_url(taskkit_url, OPTION_NAMES)
    assert migrate_command(url, "taskkit") == f"taskkit migrate --url '{url.masked()}'"


@ON_EVERY_DATABASE
def test_a_schema_revision_from_a_newer_release_is_refused(taskkit_url: str, fresh: str) -> None:
    migrate(taskkit_url, namespace=fresh)
    with plain_engine(taskkit_url) as engine, engine.begin() as conn:
        version = build_tables(fresh).version_table
        conn.execute(text(f"UPDATE {version} SET version_num = '9999'"))  # noqa: S608
    with pytest.raises(StorageNotReady, match="upgrade taskkit-sql"):
        connect(taskkit_url, namespace=fresh)


@ON_EVERY_DATABASE
def test_offline_sql_gives_the_ddl_without_touching_the_database(
    taskkit_url: str, fresh: str
) -> None:
    ddl = migrate(taskkit_url, sql_only=True, namespace=fresh)
    assert ddl is not None
    for name in TABLES:
        assert f"CREATE TABLE {fresh}_{name}" in ddl
    # Each revision in turn: the first inserts its version row, the others update it.
    assert f"INSERT INTO {fresh}_alembic_version (version_num) VALUES ('0001')" in ddl  # noqa: S608
    last_step = f"SET version_num='{HEAD}' WHERE {fresh}_alembic_version.version_num = '0001';"
    assert last_step in ddl.rstrip().removesuffix("COMMIT;").rstrip().splitlines()[-1]
    assert namespace_tables(taskkit_url, fresh) == set()
    family = parse_sql_url(taskkit_url, OPTION_NAMES).family.name
    expected = {
        "sqlite": ["data BLOB NOT NULL", "WHERE state = 1"],
        "postgresql": ['COLLATE "C"', "data BYTEA NOT NULL", "COMMENT ON COLUMN", "BEGIN;"],
        "mysql": ["VARBINARY(1600)", "LONGBLOB", "COMMENT 'the task''s group'"],
    }[family]
    for fragment in expected:
        assert fragment in ddl


@ON_EVERY_DATABASE
def test_offline_sql_needs_no_server(taskkit_url: str) -> None:
    if taskkit_url.startswith("sqlite"):
        unreachable = "sqlite:////nonexistent-dir/never-created.db"
    else:
        scheme = taskkit_url.split("://", maxsplit=1)[0]
        unreachable = f"{scheme}://user:Pw-CANARY-zq7kx@127.0.0.1:1/nowhere"
    ddl = migrate(unreachable, sql_only=True, namespace="tk_offline")
    assert ddl is not None and "CREATE TABLE tk_offline_tasks" in ddl
    assert "CANARY" not in ddl


@ON_EVERY_DATABASE
def test_drop_removes_only_its_own_namespace(taskkit_url: str, fresh: str) -> None:
    other = f"{fresh}_b"
    migrate(taskkit_url, namespace=fresh)
    migrate(taskkit_url, namespace=other)
    try:
        kept = connect(taskkit_url, namespace=other)
        task = make_task()
        kept.backend.put_tasks(task)
        drop(taskkit_url, namespace=fresh)
        assert namespace_tables(taskkit_url, fresh) == set()
        assert kept.backend.lookup_tasks(task.id)[task.id] == task
        kept.close()
    finally:
        drop(taskkit_url, namespace=other)


@ON_EVERY_DATABASE
def test_processes_migrating_at_once_both_succeed(taskkit_url: str, fresh: str) -> None:
    errors: list[BaseException] = []

    def run() -> None:
        try:
            migrate(taskkit_url, namespace=fresh)
        except BaseException as exc:
            errors.append(exc)

    threads = [threading.Thread(target=run) for _ in range(3)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(60)
    assert errors == []
    connect(taskkit_url, namespace=fresh).close()


def test_every_name_fits_postgresql_with_the_longest_namespace() -> None:
    # PostgreSQL cuts identifiers at 63 bytes; its primary keys are named <table>_pkey.
    tables = build_tables("n" * 41)
    names = [name for table in tables.all() for name in (table.name, f"{table.name}_pkey")]
    names += [index.name for table in tables.all() for index in table.indexes if index.name]
    too_long = [name for name in names if len(name) > 63]
    assert too_long == []
