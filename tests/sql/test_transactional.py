"""Transactional enqueue: a task put through the application's transaction lives or dies with it."""

from __future__ import annotations

import time

import pytest
from sqlalchemy import Column, Integer, MetaData, Table, create_engine, func, select
from taskkit_core.backend import Backend
from taskkit_core.errors import ConfigurationError
from taskkit_core.kit import Kit
from taskkit_core.testing import make_task, wait_until

from .support import ON_EVERY_DATABASE, ON_POSTGRESQL, plain_engine


def _orders(namespace: str) -> Table:
    return Table(f"{namespace}_app_orders", MetaData(), Column("id", Integer, primary_key=True))


@ON_EVERY_DATABASE
def test_a_committed_enqueue_runs_with_the_applications_data(
    kit: Kit, taskkit_url: str, taskkit_namespace: str, start_threads: object
) -> None:
    orders = _orders(taskkit_namespace)
    with plain_engine(taskkit_url) as engine:
        orders.create(engine)
        try:
            with engine.begin() as conn:
                conn.execute(orders.insert().values(id=1))
                result = kit.initiate_task("g", "echo", {"order": 1}, connection=conn)
                pending = kit.backend.lookup_tasks(result.task_id)[result.task_id]
                assert pending is None, "visible before the application committed"
            start_threads()  # type: ignore[operator]
            assert result.get(timeout=15) == {"order": 1}
            with engine.connect() as conn:
                assert conn.execute(select(func.count()).select_from(orders)).scalar() == 1
        finally:
            orders.drop(engine)


@ON_EVERY_DATABASE
def test_a_rolled_back_enqueue_never_existed(
    kit: Kit, taskkit_url: str, taskkit_namespace: str
) -> None:
    orders = _orders(taskkit_namespace)
    with plain_engine(taskkit_url) as engine:
        orders.create(engine)
        try:
            with engine.connect() as conn:
                conn.execute(orders.insert().values(id=1))
                results = kit.initiate_tasks(
                    {"group": "g", "name": "echo", "data": 1},
                    {"group": "g", "name": "echo", "data": 2},
                    connection=conn,
                )
                conn.rollback()
            ids = [r.task_id for r in results]
            assert set(kit.backend.lookup_tasks(*ids).values()) == {None}
            assert kit.backend.group_stats(0) == []
            with engine.connect() as conn:
                assert conn.execute(select(func.count()).select_from(orders)).scalar() == 0
        finally:
            orders.drop(engine)


@ON_EVERY_DATABASE
def test_only_a_sqlalchemy_connection_of_the_same_database_is_accepted(
    backend: Backend, taskkit_url: str
) -> None:
    with pytest.raises(ConfigurationError, match="SQLAlchemy Connection"):
        backend.put_tasks(make_task(), connection=object())
    if not taskkit_url.startswith("sqlite"):
        with (
            create_engine("sqlite:///:memory:").connect() as conn,
            pytest.raises(ConfigurationError, match="stores its tasks in"),
        ):
            backend.put_tasks(make_task(), connection=conn)
    assert backend.group_stats(0) == []


@ON_POSTGRESQL
def test_workers_are_woken_when_the_application_commits_not_before(
    backend: Backend, taskkit_url: str
) -> None:
    heard: list[str] = []
    subscription = backend.watch_tasks(heard.append)
    try:
        with plain_engine(taskkit_url) as engine:
            with engine.connect() as conn:
                backend.put_tasks(make_task(group="rolled back"), connection=conn)
                conn.rollback()
            with engine.begin() as conn:
                backend.put_tasks(make_task(group="committed"), connection=conn)
                time.sleep(0.3)
                assert heard == [], "woken before the commit"
        wait_until(lambda: "committed" in heard, timeout=5)
        assert "rolled back" not in heard
    finally:
        subscription.close()
