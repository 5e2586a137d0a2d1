"""A worker on a PostgreSQL server that does not autovacuum logs one warning at start.

Without VACUUM every claimed task leaves dead entries in the claim index, and
claims slow down as finished tasks accumulate (12x with 1,000,000 of them).
The test starts a private server, since it changes the server's settings.
Opening the URL alone (as `taskkit status` or an application does) stays quiet.
"""

from __future__ import annotations

import logging

import pytest
from harness.availability import unavailable
from harness.servers import PrivatePostgres, can_run_private_servers
from taskkit_core.opening import connect, migrate
from taskkit_core.testing.support import RecordingHandler

from taskkit_core import Kit

PASSWORD = "Pw/vacuum#7f:%"


def warnings_of(caplog: pytest.LogCaptureFixture) -> list[str]:
    return [
        r.getMessage()
        for r in caplog.records
        if r.name.startswith("taskkit") and r.levelno == logging.WARNING
    ]


def start_and_stop_a_worker(url: str) -> None:
    kit = Kit.from_url(url, RecordingHandler())
    try:
        kit.start_threads({"g": 1}).stop()
    finally:
        kit.close()


def test_a_server_without_autovacuum_gets_one_warning_line(
    caplog: pytest.LogCaptureFixture,
) -> None:
    reason = can_run_private_servers()
    if reason is not None:
        unavailable(f"cannot start a private server: {reason}")
    server = PrivatePostgres(PASSWORD)
    try:
        caplog.set_level(logging.WARNING)
        migrate(server.url)
        start_and_stop_a_worker(server.url)
        assert warnings_of(caplog) == [], "a server that autovacuums gets no warning"

        server.sql("ALTER SYSTEM SET autovacuum = off")
        server.sql("SELECT pg_reload_conf()")
        server.sql("CREATE DATABASE other")
        other = server.url_for("postgres", PASSWORD, "other")
        migrate(other)
        connect(other).close()
        assert warnings_of(caplog) == [], "opening the URL stays quiet"
        start_and_stop_a_worker(other)
        start_and_stop_a_worker(other)  # a second worker start in the process stays quiet
        (line,) = warnings_of(caplog)
        assert f"127.0.0.1:{server.port}/other: autovacuum is off" in line
        assert "VACUUM taskkit_tasks regularly" in line
        assert PASSWORD not in line
    finally:
        server.destroy()
