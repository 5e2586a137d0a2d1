"""A namespace differing from an existing one only in case is refused, whatever the server folds.

SQLite compares table names without case even when quoted, so before this
check ``casea`` opened the tables of ``CaseA`` and its workers ran the other
namespace's tasks (issue 13); MariaDB and MySQL with
``lower_case_table_names=1`` do the same, shown here on a private MariaDB
started with that setting. PostgreSQL keeps the two apart, and refuses the
variant all the same, so a namespace means one thing on every backend.
"""

from __future__ import annotations

import secrets
from collections.abc import Iterator

import pytest
from harness.availability import unavailable
from harness.servers import PrivateMariaDB, missing_tool
from sqlalchemy import inspect
from taskkit_core.errors import ConfigurationError
from taskkit_core.opening import connect, drop, migrate
from taskkit_core.testing import NamespaceContract, make_task
from taskkit_sql.namespaces import RECORD
from taskkit_sql.schema import build_tables

from .support import ON_EVERY_DATABASE, plain_engine

PASSWORD = "Pw/fold#9c:%"


def collision(asked: str, existing: str) -> str:
    return (
        f"namespace {asked!r} collides with the existing namespace {existing!r} on this "
        "server: namespaces are compared without regard to case; choose another name"
    )


def tables_of(url: str, namespace: str) -> set[str]:
    """The tables whose names start with ``namespace`` in any case (other tests share servers)."""
    prefix = namespace.lower()
    with plain_engine(url) as engine:
        return {t for t in inspect(engine).get_table_names() if t.lower().startswith(prefix)}


def delete_record(url: str, namespace: str) -> None:
    """Make ``namespace`` look as taskkit-sql 0.4.0 left it: without the record of its name."""
    locks = build_tables(namespace).locks
    with plain_engine(url) as engine, engine.begin() as conn:
        assert conn.execute(locks.delete().where(locks.c.name == RECORD)).rowcount == 1


def refused_everywhere(url: str, variant: str, existing: str) -> None:
    """migrate, connect and drop of ``variant`` each raise the one-line collision error."""
    for step in (migrate, connect, drop):
        with pytest.raises(ConfigurationError) as refused:
            step(url, namespace=variant)
        assert str(refused.value) == collision(variant, existing), step.__name__


def check_refusals_change_nothing(url: str) -> None:
    name = f"Ns_{secrets.token_hex(4)}"
    migrate(url, namespace=name)
    connection = connect(url, namespace=name)
    try:
        task = make_task(data="secret")
        connection.backend.put_tasks(task)
        connection.backend.destroy_all()  # empties the namespace, keeps its recorded name
        connection.backend.put_tasks(task)
        before = tables_of(url, name)
        refused_everywhere(url, name.lower(), name)
        refused_everywhere(url, name.upper(), name)
        assert tables_of(url, name) == before
        assert connection.backend.lookup_tasks(task.id) == {task.id: task}
    finally:
        connection.close()
        drop(url, namespace=name)


@ON_EVERY_DATABASE
def test_a_case_variant_is_refused_and_changes_nothing(taskkit_url: str) -> None:
    check_refusals_change_nothing(taskkit_url)


@ON_EVERY_DATABASE
def test_a_namespace_made_before_the_record_gets_it_when_opened(taskkit_url: str) -> None:
    name = f"Old_{secrets.token_hex(4)}"
    migrate(taskkit_url, namespace=name)
    try:
        delete_record(taskkit_url, name)
        connect(taskkit_url, namespace=name).close()  # an upgraded worker opens it
        refused_everywhere(taskkit_url, name.lower(), name)
    finally:
        drop(taskkit_url, namespace=name)


@pytest.fixture(scope="module")
def folding_mariadb() -> Iterator[PrivateMariaDB]:
    """A private MariaDB that folds table names to lower case (the default on Windows)."""
    reason = missing_tool("mysql")
    if reason is not None:
        unavailable(f"cannot start a private MariaDB: {reason}")
    server = PrivateMariaDB(PASSWORD, ["--lower-case-table-names=1"])
    try:
        assert server.sql("SELECT @@lower_case_table_names") == ((1,),)
        yield server
    finally:
        server.destroy()


def test_mariadb_folding_table_names_refuses_a_case_variant(
    folding_mariadb: PrivateMariaDB,
) -> None:
    check_refusals_change_nothing(folding_mariadb.url)


def test_on_mariadb_folding_table_names_the_first_upgraded_opener_takes_an_old_namespace(
    folding_mariadb: PrivateMariaDB,
) -> None:
    url = folding_mariadb.url
    migrate(url, namespace="Legacy")
    try:
        # the catalog cannot tell Legacy from legacy
        assert "legacy_tasks" in tables_of(url, "legacy")
        delete_record(url, "legacy")
        connect(url, namespace="Legacy").close()
        refused_everywhere(url, "legacy", "Legacy")
    finally:
        drop(url, namespace="Legacy")


class TestKitNamespacesOnFoldingMariaDB(NamespaceContract):
    """The kit's namespace tests on the folding server."""

    @pytest.fixture
    def taskkit_url(self, folding_mariadb: PrivateMariaDB) -> str:
        return folding_mariadb.url
