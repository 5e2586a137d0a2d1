"""PostgreSQL behind PgBouncer in transaction pooling mode: detected at open, and nothing breaks.

A private PostgreSQL with a real ``pgbouncer`` (Debian's package) in front
of it, ``pool_mode = transaction`` and three server connections. Through
such a pooler a client's statements run in whichever server session is
free: LISTEN hears nothing, a session advisory lock is held by a session
other clients then use, and prepared statements vanish. taskkit-sql tells a
pooler by the process id it gives at login (see
``taskkit_sql.databases.postgresql``): pooled connections prepare nothing;
with ``direct_url`` LISTEN and session locks run on the server itself;
without it one warning says so, workers poll and locks are lease rows.
The whole conformance kit through the pooler is in the chaos tier
(``tests/reliability/chaos/test_pgbouncer.py``).
"""

from __future__ import annotations

import logging
import shutil
import threading
import time
from collections.abc import Iterator

import pytest
from harness.availability import unavailable
from harness.pgbouncer import PgBouncer
from harness.servers import PrivatePostgres, missing_tool
from sqlalchemy import create_engine
from sqlalchemy.pool import NullPool
from taskkit_core.backend import NoSubscription
from taskkit_core.errors import ConfigurationError
from taskkit_core.kit import Kit
from taskkit_core.opening import connect, drop, migrate
from taskkit_core.testing import FAST_SETTINGS, RecordingHandler, make_task, wait_until
from taskkit_core.testing.support import task_args

PASSWORD = "Pw/pool#4e:%"


@pytest.fixture(scope="module")
def bouncer() -> Iterator[PgBouncer]:
    """PgBouncer (transaction pooling, 3 server connections) before a private PostgreSQL."""
    reason = missing_tool("postgresql") or (
        None if shutil.which("pgbouncer") else "pgbouncer is not installed (apt install pgbouncer)"
    )
    if reason is not None:
        unavailable(f"cannot start PgBouncer before a private PostgreSQL: {reason}")
    server = PrivatePostgres(PASSWORD)
    try:
        with PgBouncer(server, pool_mode="transaction", pool_size=3) as pooler:
            migrate(pooler.url)  # migrations hold transaction locks only: fine through it
            yield pooler
    finally:
        server.destroy()


def pooler_warnings(caplog: pytest.LogCaptureFixture) -> list[str]:
    return [
        r.getMessage()
        for r in caplog.records
        if r.name == "taskkit.sql" and "connection pooler" in r.getMessage()
    ]


def test_a_pooler_is_detected_and_named_in_one_warning_line(
    bouncer: PgBouncer, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.WARNING, logger="taskkit.sql")
    for _ in range(2):
        connection = connect(bouncer.url)
        assert isinstance(connection.backend.watch_tasks(print), NoSubscription)
        connection.close()
    (line,) = pooler_warnings(caplog)
    assert f"127.0.0.1:{bouncer.port}/postgres" in line and "direct_url=" in line
    assert "\n" not in line and PASSWORD not in line
    connect(bouncer.server.url).close()  # the server itself: no warning
    assert len(pooler_warnings(caplog)) == 1


def test_without_direct_url_workers_poll_and_locks_are_leases(bouncer: PgBouncer) -> None:
    first, second = connect(bouncer.url), connect(bouncer.url)
    try:
        mine, theirs = first.backend.get_lock("job"), second.backend.get_lock("job")
        assert mine.acquire() and not theirs.acquire()  # a session lock would let both in
        mine.release()
        assert theirs.acquire()
        theirs.release()
        kit = Kit(first.backend, first.bridge, RecordingHandler(), settings=FAST_SETTINGS)
        results = kit.initiate_tasks(*task_args("echo", range(20)))
        with kit.start_threads({"g": 4}, polling_interval=0.2):
            assert [r.get(timeout=30) for r in results] == list(range(20))
    finally:
        first.backend.destroy_all()
        first.close()
        second.close()


def test_with_direct_url_wake_ups_and_locks_use_the_server_itself(bouncer: PgBouncer) -> None:
    first = connect(bouncer.url, direct_url=bouncer.server.url)
    second = connect(bouncer.url, direct_url=bouncer.server.url)
    try:
        heard: list[str] = []
        subscription = first.backend.watch_tasks(heard.append)
        time.sleep(0.5)
        second.backend.put_tasks(make_task(group="wake me"))
        wait_until(lambda: "wake me" in heard, timeout=10)
        subscription.close()
        mine, theirs = first.backend.get_lock("job"), second.backend.get_lock("job")
        assert mine.acquire() and not theirs.acquire()
        mine.release()
        assert bouncer.server.sql(
            "SELECT count(*) FROM pg_stat_activity WHERE application_name = 'taskkit' "
            "AND query LIKE 'LISTEN%%'"
        ) == [(1,)], "LISTEN runs in a session of the server itself"
    finally:
        first.backend.destroy_all()
        first.close()
        second.close()


def test_many_threads_through_three_server_connections_share_no_prepared_statement(
    bouncer: PgBouncer,
) -> None:
    connection = connect(bouncer.url, direct_url=bouncer.server.url, pool_size=6)
    errors: list[BaseException] = []

    def work() -> None:
        try:
            for _ in range(30):  # psycopg would prepare a statement on its 5th use
                connection.backend.put_tasks(make_task())
                connection.backend.claim_tasks("g", "w", 1)
        except BaseException as exc:
            errors.append(exc)

    threads = [threading.Thread(target=work) for _ in range(6)]
    try:
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(60)
        assert errors == []
    finally:
        connection.backend.destroy_all()
        connection.close()


def test_transactional_enqueue_through_the_pooler(bouncer: PgBouncer) -> None:
    connection = connect(bouncer.url, direct_url=bouncer.server.url)
    kit = Kit(connection.backend, connection.bridge, RecordingHandler(), settings=FAST_SETTINGS)
    # The application's own engine through the pooler prepares nothing either.
    engine = create_engine(
        bouncer.url.replace("postgresql://", "postgresql+psycopg://"),
        poolclass=NullPool,
        connect_args={"prepare_threshold": None},
    )
    try:
        with engine.begin() as conn:
            kept = kit.initiate_task("g", "echo", "kept", connection=conn)
        with engine.connect() as conn:
            dropped = kit.initiate_task("g", "echo", "dropped", connection=conn)
            conn.rollback()
        with kit.start_threads({"g": 1}, polling_interval=0.2):
            assert kept.get(timeout=30) == "kept"
        assert connection.backend.lookup_tasks(dropped.task_id) == {dropped.task_id: None}
    finally:
        engine.dispose()
        connection.backend.destroy_all()
        connection.close()


def test_direct_url_is_checked_in_one_line_without_its_password(bouncer: PgBouncer) -> None:
    other_database = bouncer.server.url.rpartition("/")[0] + "/template1"
    cases = {
        f"{bouncer.url}?direct_url=x": {},
        bouncer.url: {"direct_url": "mysql://root:secret@127.0.0.1/test"},
        "sqlite:///tasks.db": {"direct_url": bouncer.server.url},
        bouncer.url + "?": {"direct_url": other_database},
    }
    for url, options in cases.items():
        with pytest.raises(ConfigurationError) as refused:
            connect(url, **options)
        message = str(refused.value)
        assert "direct_url" in message and "\n" not in message
        assert PASSWORD not in message and "secret" not in message, message


def test_a_namespace_migrated_and_dropped_through_the_pooler(bouncer: PgBouncer) -> None:
    migrate(bouncer.url, namespace="pooled")
    connect(bouncer.url, namespace="pooled", direct_url=bouncer.server.url).close()
    drop(bouncer.url, namespace="pooled")
