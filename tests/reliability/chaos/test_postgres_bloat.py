"""R20: a foreign long transaction on PostgreSQL while 50,000 tasks pass.

A REPEATABLE READ transaction of another application holds its snapshot
for the whole run, so no dead row of the tasks table can be vacuumed.
taskkit's own sessions must still never sit idle in a transaction (they
run in autocommit and open short transactions only), every task must be
done, and the claim latency is measured as the dead rows pile up.
"""

from __future__ import annotations

import time
from typing import Any

import psycopg
import pytest
from taskkit_core.backend import Outcome
from taskkit_core.testing.support import task_args

from .conftest import MakeChaos
from .measure import Sampler, percentile

pytestmark = pytest.mark.chaos

TASKS = 50_000
SESSIONS = """
    SELECT state,
           extract(epoch FROM now() - state_change),
           coalesce(extract(epoch FROM now() - xact_start), 0)
    FROM pg_stat_activity WHERE application_name = 'taskkit'
"""


@pytest.mark.timeout(1800)
def test_r20_postgresql_a_foreign_long_transaction_leaves_our_sessions_short(
    chaos: MakeChaos,
) -> None:
    run = chaos("postgresql")
    load = run.workload
    ids = [i for start in range(0, TASKS, 2000) for i in load.enqueue(2000, start)]
    url = run.url
    foreign = psycopg.connect(url, application_name="foreign")
    monitor = psycopg.connect(url, autocommit=True, application_name="monitor")
    sampler = Sampler(lambda: monitor.execute(SESSIONS).fetchall(), 0.2)
    probe = ClaimProbe(run)
    try:
        foreign.execute("BEGIN ISOLATION LEVEL REPEATABLE READ")
        held = f"SELECT count(*) FROM {run.namespace}_tasks"  # noqa: S608 - a checked namespace
        foreign.execute(held.encode()).fetchall()
        sampler.start()
        probe.start()
        began = time.monotonic()
        load.start(2, 4)
        load.drain(ids, timeout=900)
        took = time.monotonic() - began
        samples = sampler.stop()
        latencies = probe.stop()
        stats = _table_stats(monitor, run.namespace)
    finally:
        sampler.stop()
        probe.stop()
        foreign.close()
        monitor.close()
    rows = [row for _, rows in samples for row in rows]
    idle_in_tx = [float(r[1]) for r in rows if r[0] == "idle in transaction"]
    tx_ages = [float(r[2]) for r in rows]
    report = load.check(ids)
    first, last = _halves(latencies)
    run.record(
        report=report.summary(),
        tasks=TASKS,
        seconds=round(took, 1),
        samples=len(samples),
        longest_idle_in_transaction_s=round(max(idle_in_tx, default=0.0), 3),
        oldest_transaction_s=round(max(tx_ages, default=0.0), 3),
        claim_p99_ms_first_tenth=round(percentile(first, 0.99) * 1000, 1),
        claim_p99_ms_last_tenth=round(percentile(last, 0.99) * 1000, 1),
        claim_p50_ms_last_tenth=round(percentile(last, 0.5) * 1000, 1),
        probes=len(latencies),
        **stats,
        exposed_as_metrics="no: taskkit has no health output for n_dead_tup or xmin age",
    )
    report.assert_clean()
    assert report.done == TASKS
    assert max(idle_in_tx, default=0.0) <= 1.0, "a taskkit session sat idle in a transaction"
    assert max(tx_ages, default=0.0) <= 5.0, "a taskkit transaction ran for more than 5 s"


def _halves(latencies: list[float]) -> tuple[list[float], list[float]]:
    tenth = max(1, len(latencies) // 10)
    return latencies[:tenth], latencies[-tenth:]


def _table_stats(monitor: psycopg.Connection[Any], namespace: str) -> dict[str, Any]:
    (dead, live) = monitor.execute(
        "SELECT n_dead_tup, n_live_tup FROM pg_stat_user_tables WHERE relname = %s",
        [f"{namespace}_tasks"],
    ).fetchone() or (None, None)
    (xmin_age,) = monitor.execute(
        "SELECT max(age(backend_xmin)) FROM pg_stat_activity"
    ).fetchone() or (None,)
    return {"n_dead_tup": dead, "n_live_tup": live, "oldest_backend_xmin_age": xmin_age}


class ClaimProbe(Sampler):
    """Every 0.2 s puts one task in group "probe", times its claim, and settles it."""

    def __init__(self, run: Any) -> None:
        super().__init__(self._once, 0.2)
        self.kit = run.kit
        self.worker = "probe:1:claims"
        self.latencies: list[float] = []

    def _once(self) -> None:
        backend = self.kit.backend
        backend.refresh_leases([self.worker], 30.0)
        self.kit.initiate_tasks(*task_args("probe", [{"seq": 0}], group="probe"))
        began = time.perf_counter()
        claims = backend.claim_tasks("probe", self.worker, 1)
        self.latencies.append(time.perf_counter() - began)
        backend.settle(*(Outcome.succeeded(claim, b"{}") for claim in claims))

    def stop(self) -> list[float]:  # type: ignore[override]
        super().stop()
        return self.latencies
