"""MySQL/MariaDB wake-ups: the look for due tasks, its pace, and wake-ups within a process."""

from __future__ import annotations

import time

from sqlalchemy import create_engine
from taskkit_core.backend import Backend
from taskkit_core.testing import make_task, wait_until
from taskkit_sql.duewatch import BACKOFF, FAST, SLOW, Pace, look_query
from taskkit_sql.schema import build_tables

from .support import ON_MARIADB, as_sql, plain_engine


class FakeClock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def test_the_pace_is_fast_after_activity_and_slows_with_the_quiet() -> None:
    clock = FakeClock()
    pace = Pace(clock)
    assert pace.gap() == FAST
    clock.now += 1.0
    assert pace.gap() == 1.0 * BACKOFF  # a task put now waits at most 5% of the quiet
    clock.now += 3600
    assert pace.gap() == SLOW  # an idle process looks once a second
    pace.active()
    assert pace.gap() == FAST


@ON_MARIADB
def test_a_put_through_another_connection_wakes_a_group_whose_claim_came_back_short(
    backend: Backend, taskkit_open: object
) -> None:
    assert callable(taskkit_open)
    producer = taskkit_open().backend
    heard: list[tuple[str, float]] = []
    subscription = backend.watch_tasks(lambda group: heard.append((group, time.monotonic())))
    try:
        assert backend.claim_tasks("waiting", "w1", 8) == []  # came back short: waiting
        assert backend.claim_tasks("busy", "w1", 8) == []
        producer.put_tasks(make_task(group="busy"), make_task(group="busy"))
        assert len(backend.claim_tasks("busy", "w1", 2)) == 2  # came back full: busy
        time.sleep(0.5)
        heard.clear()
        put_at = time.monotonic()
        producer.put_tasks(make_task(group="waiting"), make_task(group="busy"))
        wait_until(lambda: any(group == "waiting" for group, _ in heard), timeout=5)
        # Busy groups are not looked for: their claimers are claiming anyway.
        assert "busy" not in {group for group, _ in heard}
        woken_at = min(at for group, at in heard if group == "waiting")
        assert woken_at - put_at < SLOW + 1.0  # generous: the machine may be loaded
    finally:
        subscription.close()


@ON_MARIADB
def test_a_put_in_this_process_wakes_its_watchers_before_it_returns(backend: Backend) -> None:
    heard: list[str] = []
    subscription = backend.watch_tasks(heard.append)
    try:
        backend.put_tasks(make_task(group="here"))
        assert heard == ["here"]
    finally:
        subscription.close()


@ON_MARIADB
def test_a_put_in_the_applications_transaction_wakes_only_once_committed(
    backend: Backend, taskkit_url: str
) -> None:
    heard: list[str] = []
    subscription = backend.watch_tasks(heard.append)
    engine = create_engine(as_sql(backend).database.engine.url)
    try:
        backend.claim_tasks("orders", "w1", 1)
        with engine.begin() as conn:
            backend.put_tasks(make_task(group="orders"), connection=conn)
            time.sleep(0.2)
            assert heard == []  # not committed: nothing to claim yet
        wait_until(lambda: "orders" in heard, timeout=5)
    finally:
        subscription.close()
        engine.dispose()


@ON_MARIADB
def test_the_look_reads_the_claim_index_of_the_waiting_groups_only(
    backend: Backend, taskkit_url: str, taskkit_namespace: str
) -> None:
    backend.put_tasks(*[make_task(group=f"g{i % 3}") for i in range(30)])
    family = as_sql(backend).database.family
    with plain_engine(taskkit_url) as engine:
        query = look_query(build_tables(taskkit_namespace), family, engine.dialect, 2)
        values = {"g0": b"g1", "g1": b"nobody"}
        with engine.connect() as conn:
            plan = conn.exec_driver_sql(f"EXPLAIN {query.sql}", values).mappings().all()
            rows = conn.exec_driver_sql(query.sql, values).all()
    tasks = [step for step in plan if str(step["table"]).endswith("_tasks")]
    assert [(step["type"], step["key"]) for step in tasks] == [
        ("range", f"{taskkit_namespace}_tasks_claim")
    ], plan
    assert sorted(row[0] for row in rows if row[0] is not None) == [b"g1"]
