"""R3 claim batches under stale statistics, R21 MariaDB isolation, R22 SQLite concurrency."""

from __future__ import annotations

import logging
import os
import sqlite3
import threading
import time
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

import pytest
from harness.app import ReliabilityHandler
from harness.history import HistoryWriter, read_history
from sql.support import ON_EVERY_DATABASE, ON_MARIADB, ON_SQLITE, as_sql, plain_engine
from sqlalchemy import event, func, select, text
from sqlalchemy.pool import Pool
from taskkit_core.backend import Backend
from taskkit_core.errors import ConfigurationError
from taskkit_core.opening import migrate
from taskkit_core.testing import OpenConnection, RecordingHandler, make_task, wait_until
from taskkit_sql.schema import build_tables
from taskkit_sql.states import STAGED

from taskkit_core import Kit, Task

from .conftest import Workload, need_processes


def report(request: pytest.FixtureRequest, **figures: Any) -> None:
    """Show measured figures in the test output (and keep them in the junit XML)."""
    for name, value in figures.items():
        request.node.user_properties.append((name, value))
    terminal = request.config.pluginmanager.get_plugin("terminalreporter")
    capture = request.config.pluginmanager.get_plugin("capturemanager")
    if terminal is not None and capture is not None:
        shown = ", ".join(f"{k}={v}" for k, v in figures.items())
        with capture.global_and_fixture_disabled():
            terminal.write_line(f"\n{request.node.name}: {shown}")


# -- R3: a claim never stages more than its batch, even when the planner is misled -----

ROWS = 50_000
CLAIMS = {1: 400, 5: 400, 50: 200}
"""Claims per batch size (1,000 in all), split between two claimers each."""


def mislead_the_planner(url: str, table: str) -> None:
    """Statistics that say the table is nearly empty, and no autovacuum to fix them."""
    with plain_engine(url) as engine, engine.begin() as conn:
        if url.startswith("postgresql"):
            conn.execute(text(f"ALTER TABLE {table} SET (autovacuum_enabled = false)"))
            conn.execute(text(f"ANALYZE {table}"))
        elif url.startswith("mysql"):
            conn.execute(text(f"ALTER TABLE {table} STATS_AUTO_RECALC = 0"))
            conn.execute(text(f"ANALYZE TABLE {table}"))
        else:
            conn.execute(text(f'ANALYZE "{table}"'))


def postgres_row_estimate(url: str, table: str) -> float:
    with plain_engine(url) as engine, engine.connect() as conn:
        query = text("SELECT reltuples FROM pg_class WHERE oid = CAST(:t AS regclass)")
        return float(conn.execute(query, {"t": table}).scalar_one())


@ON_EVERY_DATABASE
def test_r3_a_claim_stages_no_more_than_its_batch_under_stale_statistics(
    backend: Backend,
    taskkit_open: OpenConnection,
    taskkit_url: str,
    request: pytest.FixtureRequest,
) -> None:
    tasks = build_tables(backend.namespace).tasks
    backend.put_tasks(*(make_task(data=i) for i in range(10)))
    mislead_the_planner(taskkit_url, tasks.name)
    backend.put_tasks(*(make_task(data=i) for i in range(10, ROWS)))
    if taskkit_url.startswith("postgresql"):
        assert postgres_row_estimate(taskkit_url, tasks.name) < 100, "statistics are stale"
    claimers = [(n, as_sql(taskkit_open().backend)) for n in CLAIMS for _ in range(2)]
    staged = select(func.count()).where(tasks.c.state == STAGED)
    problems: list[str] = []
    claimed: list[tuple[str, int]] = []
    errors: list[BaseException] = []

    def claim(index: int) -> None:
        n, claimer = claimers[index]
        worker = f"w{index}-batch{n}"
        returned = 0
        try:
            with plain_engine(taskkit_url) as engine, engine.connect() as conn:
                conn.execution_options(isolation_level="AUTOCOMMIT")  # each count sees now
                for _ in range(CLAIMS[n] // 2):
                    batch = claimer.claim_tasks("g", worker, n)
                    returned += len(batch)
                    claimed.extend((c.task.id, c.attempt) for c in batch)
                    on_worker = conn.execute(staged.where(tasks.c.worker_id == worker)).scalar()
                    if len(batch) > n or on_worker != returned:
                        problems.append(
                            f"{worker}: {len(batch)} returned, {on_worker} staged of {returned}"
                        )
        except BaseException as exc:
            errors.append(exc)

    started = time.monotonic()
    threads = [threading.Thread(target=claim, args=(i,)) for i in range(len(claimers))]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(120)
    assert errors == []
    assert problems == [], problems[:5]
    expected = sum(n * count for n, count in CLAIMS.items())
    assert len(claimed) == expected, "every claim found a full batch"
    assert len({task_id for task_id, _ in claimed}) == expected, "a task was claimed twice"
    assert {attempt for _, attempt in claimed} == {1}
    with plain_engine(taskkit_url) as engine, engine.connect() as conn:
        assert conn.execute(staged).scalar() == expected, "rows staged beyond the claims"
    report(
        request,
        claims=sum(CLAIMS.values()),
        rows_claimed=expected,
        seconds=round(time.monotonic() - started, 1),
    )


# -- R21 and R22: the claim race of R2 with a restorer and a pruner --------------------

LOCK_ERRORS = ("(1213,", "(1205,", "database is locked", "database table is locked")
RETRY = "running the work again"


class LockErrorRecorder(logging.Handler):
    """Writes taskkit's log records about lock conflicts to a history."""

    def __init__(self, writer: HistoryWriter) -> None:
        super().__init__(logging.DEBUG)
        self.writer = writer

    def emit(self, record: logging.LogRecord) -> None:
        text = record.getMessage()
        if record.exc_info and record.exc_info[1] is not None:
            text += f" {record.exc_info[1]}"
        if RETRY in text or any(mark in text for mark in LOCK_ERRORS):
            self.writer.write(retried=RETRY in text, message=text[:200], pid=os.getpid())


def watch_lock_errors(history_dir: Path) -> LockErrorRecorder:
    """Record retries (taskkit.sql) and lock errors that reached a worker loop (taskkit.worker)."""
    recorder = LockErrorRecorder(HistoryWriter(history_dir, "lockerr"))
    for name in ("taskkit.sql", "taskkit.worker"):
        logging.getLogger(name).setLevel(logging.DEBUG)
        logging.getLogger(name).addHandler(recorder)
    return recorder


def force_repeatable_read(history_dir: Path) -> Callable[..., None]:
    """A pool checkout hook that moves each MySQL connection to REPEATABLE READ once."""
    writer = HistoryWriter(history_dir, "isolation")

    def checkout(dbapi_connection: Any, record: Any, proxy: Any) -> None:
        if record.info.get("forced_isolation") or not hasattr(dbapi_connection, "server_status"):
            return
        with dbapi_connection.cursor() as cursor:
            cursor.execute("SET SESSION TRANSACTION ISOLATION LEVEL REPEATABLE READ")
            cursor.execute("SELECT @@session.tx_isolation")
            (level,) = cursor.fetchone()
        record.info["forced_isolation"] = level
        writer.write(pid=os.getpid(), level=level)

    return checkout


class LockWatchingHandler(ReliabilityHandler):
    """The workload handler; in each worker process it also records lock conflicts
    and, with ``repeatable_read``, forces that isolation level on MySQL connections."""

    def __init__(self, history_dir: Path, repeatable_read: bool = False) -> None:
        super().__init__(history_dir)
        self.repeatable_read = repeatable_read

    def __getstate__(self) -> dict[str, Any]:
        return {"history_dir": self.history_dir, "repeatable_read": self.repeatable_read}

    def __setstate__(self, state: dict[str, Any]) -> None:
        self.__init__(state["history_dir"], state["repeatable_read"])  # type: ignore[misc]
        watch_lock_errors(self.history_dir)
        if self.repeatable_read:
            event.listen(Pool, "checkout", force_repeatable_read(self.history_dir))


@dataclass
class Race:
    """What the race put in: checked tasks, those of a dead worker, and pruned ones."""

    every: list[str]
    abandoned: list[str]
    disposable: list[str]
    seconds: float
    lock_errors: list[dict[str, Any]] = field(default_factory=list)


def run_race(
    workload: Workload,
    tasks: int,
    more: int,
    repeatable_read: bool = False,
    during: Callable[[list[str]], None] = lambda ids: None,
) -> Race:
    """R2's race (4 x 4 workers, a 5th thread enqueueing) with work for restorer and pruner.

    ``during(ids)`` runs while the workers race. Checks the invariants of R2,
    that the restorer and the pruner did their work, and that no lock error
    reached the enqueuer (user code) or a worker's loop unretried.
    """
    kit = workload.kit
    kit.handler = LockWatchingHandler(workload.history_dir, repeatable_read)
    kit.settings = replace(
        kit.settings, discard_interval=0.5, purge_interval=1.0, claim_batch=1, prefetch=0
    )
    backend = as_sql(kit.backend)
    recorder = watch_lock_errors(workload.history_dir)
    hook = force_repeatable_read(workload.history_dir)
    if repeatable_read:
        event.listen(Pool, "checkout", hook)
    try:
        ids = workload.enqueue(tasks)
        # A dead worker's tasks, for the restorer; expired leases, for the purger.
        abandoned = [c.task.id for c in backend.claim_tasks("r", "dead-worker", 40)]
        backend.refresh_leases({f"ghost-{i}" for i in range(20)}, 0.5)
        added: list[str] = []
        disposable: list[str] = []
        errors: list[BaseException] = []

        def enqueue_more() -> None:
            try:
                for start in range(tasks, tasks + more, 50):
                    added.extend(workload.enqueue(min(50, tasks + more - start), start=start))
                    for _ in range(10):  # finished tasks whose ttl runs out: the pruner's
                        task = Task.init("r", "work", b"{}", ttl=0.2)
                        backend.put_done_task(task, result=b"{}")
                        disposable.append(task.id)
            except BaseException as exc:
                errors.append(exc)

        adder = threading.Thread(target=enqueue_more)
        started = time.monotonic()
        workload.start(4, 4)
        adder.start()
        during(ids)
        adder.join(60)
        every = [*ids, *added]
        workload.drain(every, timeout=120)
        seconds = time.monotonic() - started
    finally:
        if repeatable_read:
            event.remove(Pool, "checkout", hook)
        for name in ("taskkit.sql", "taskkit.worker"):
            logging.getLogger(name).removeHandler(recorder)
    assert errors == [], "an enqueue failed in user code"
    checked = workload.check(every)
    checked.assert_clean()
    assert checked.executions_per_task == {1: len(every)}
    starts = [r for r in read_history(workload.history_dir, "exec") if r["event"] == "start"]
    attempts = {r["task_id"]: r["attempt"] for r in starts}
    assert {attempts[i] for i in abandoned} == {2}, "the restorer gave back the dead worker's tasks"
    assert {attempts[i] for i in every if i not in abandoned} == {1}, "each claimed exactly once"
    live = {w for w, expires in backend.get_leases() if expires > time.time()}
    assert [i for i in backend.get_stage_info(100) if i.worker_id not in live] == []
    wait_until(lambda: set(backend.lookup_tasks(*disposable).values()) == {None}, 30)
    wait_until(lambda: "ghost-0" not in {w for w, _ in backend.get_leases()}, 30)
    lock_errors = read_history(workload.history_dir, "lockerr")
    assert [r for r in lock_errors if not r["retried"]] == [], "a lock error was not retried"
    return Race(every, abandoned, disposable, seconds, lock_errors)


def retries_by_kind(race: Race) -> dict[str, int]:
    return dict(Counter(r["message"].split(";")[0] for r in race.lock_errors if r["retried"]))


def innodb_deadlocks(url: str) -> int:
    """The server's deadlock count (server-wide: other clients' deadlocks count too)."""
    with plain_engine(url) as engine, engine.connect() as conn:
        row = conn.execute(text("SHOW GLOBAL STATUS LIKE 'Innodb_deadlocks'")).first()
    return int(row[1]) if row else 0


@ON_MARIADB
@pytest.mark.parametrize("isolation", ["chosen", "repeatable_read"])
def test_r21_mariadb_deadlocks_are_retried_and_counted(
    workload: Workload, isolation: str, taskkit_url: str, request: pytest.FixtureRequest
) -> None:
    need_processes(workload)
    forced = isolation == "repeatable_read"
    before = innodb_deadlocks(taskkit_url)
    race = run_race(workload, 2000, 500, repeatable_read=forced)
    if forced:
        levels = read_history(workload.history_dir, "isolation")
        assert {r["level"] for r in levels} == {"REPEATABLE-READ"}
        assert {r["pid"] for r in levels} >= {p.pid for p in workload.processes}
    report(
        request,
        tasks=len(race.every),
        seconds=round(race.seconds, 1),
        retries=retries_by_kind(race),
        server_deadlocks=innodb_deadlocks(taskkit_url) - before,
    )


# -- R22: SQLite -----------------------------------------------------------------------

WAL_LIMIT = 64 * 1024 * 1024


def wal_size(url: str) -> int:
    path = Path(url.removeprefix("sqlite:///") + "-wal")
    return path.stat().st_size if path.exists() else 0


@ON_SQLITE
@pytest.mark.parametrize("reader", ["none", "held"])
def test_r22_sqlite_sixteen_workers_restorer_and_pruner_share_one_file(
    workload: Workload, reader: str, taskkit_url: str, request: pytest.FixtureRequest
) -> None:
    need_processes(workload)
    table = build_tables(workload.kit.backend.namespace).tasks.name
    held: list[float] = []
    peak_wal: list[int] = [0]

    def hold_a_reader(ids: list[str]) -> None:
        """A foreign connection keeps a read transaction (a snapshot) open for a while."""
        if reader != "held":
            return
        conn = sqlite3.connect(taskkit_url.removeprefix("sqlite:///"), isolation_level=None)
        backend = workload.kit.backend

        def two_thirds_done() -> bool:
            peak_wal.append(wal_size(taskkit_url))
            return len(backend.get_done_task_ids(None, None, len(ids))) >= len(ids) * 2 // 3

        try:
            conn.execute("BEGIN")
            conn.execute(f'SELECT count(*) FROM "{table}"').fetchone()  # noqa: S608
            since = time.monotonic()
            wait_until(two_thirds_done, 60, 0.1)
            held.append(time.monotonic() - since)
            conn.execute("COMMIT")
        finally:
            conn.close()

    race = run_race(workload, 3000, 500, during=hold_a_reader)
    wait_until(lambda: wal_size(taskkit_url) < WAL_LIMIT, 30, 0.2)
    report(
        request,
        tasks=len(race.every),
        seconds=round(race.seconds, 1),
        reader_held_seconds=round(held[0], 1) if held else 0,
        wal_bytes_while_held=max(peak_wal),
        wal_bytes=wal_size(taskkit_url),
        retries=retries_by_kind(race),
    )


IN_MEMORY = [
    "sqlite:///:memory:",
    "sqlite://",
    "sqlite:///file::memory:?uri=true",
    "sqlite:///file::memory:?cache=shared&uri=true",
    "sqlite:///file:tasks?mode=memory&cache=shared&uri=true",
]


@pytest.mark.parametrize("url", IN_MEMORY)
def test_r22_an_in_memory_sqlite_database_is_refused_with_the_reason(url: str) -> None:
    """Worker processes could never see its tasks: say so, before anything is created."""
    reason = "an in-memory SQLite database cannot be shared with worker processes"
    with pytest.raises(ConfigurationError, match=reason):
        migrate(url, namespace="tk_memory")
    with pytest.raises(ConfigurationError, match=reason):
        Kit.from_url(url, RecordingHandler(), namespace="tk_memory")
