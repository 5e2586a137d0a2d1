"""CPU per task of every peer's W2 drain, measured inside the peer harness.

``benchmarks.peers`` copies this file to ``<harness>/cost/runner.py`` (and
``cpu.py`` beside it); the harness's own files stay as they are:

- ``python cost/runner.py drive RUN_ARGS`` is the harness's ``run.py`` with
  two changes: its children run this file instead of its ``runner.py``, and
  its summary and table gain the cost columns.
- ``python cost/runner.py run ...`` (a child of run.py) is the harness's
  ``runner.py`` with its W2 drain measured: once the first task has been
  recorded, and again once all have, it reads the CPU time of the worker
  process group the adapter started (``/proc``: utime + stime of every
  process of the group, reaped children included), the CPU time of each
  private server's process tree, and the server's own statement timing
  where it keeps one (PostgreSQL ``pg_stat_statements.total_exec_time``,
  Redis ``INFO commandstats`` usec, MariaDB ``performance_schema`` when it
  is on). The differences, divided by the tasks recorded in between, are
  the per-task costs; start-up (launch to first task) is reported apart.

The servers are private to the run (``BENCH_COST_SERVER_PIDS``), so all their
CPU time in the window is the measured peer's, plus the recorder's
``HSET`` + ``INCR`` per task on Redis (the same for every peer; the Redis
CPU of runs of peers on other backends shows its size).
"""

from __future__ import annotations

import os
import statistics
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
HARNESS = HERE.parent
sys.path.insert(0, str(HARNESS))  # the harness's runner.py, not this file, is `runner`

from cpu import group_cpu, tree_cpu  # noqa: E402

FIRST_TASK_POLL = 0.002
COST_COLUMNS = ("W2 worker CPU us/task", "W2 server CPU us/task", "W2 server statements us/task")


def _server_pids() -> dict[str, int]:
    """``{"Redis": pid, ...}`` from ``BENCH_COST_SERVER_PIDS`` (``Redis:123,PostgreSQL:456``)."""
    raw = os.environ.get("BENCH_COST_SERVER_PIDS", "")
    pairs = (item.split(":") for item in raw.split(",") if item)
    return {name: int(pid) for name, pid in pairs}


class StatementClock:
    """Cumulative server time spent in statements (us), for one backend; None where unknown."""

    def __init__(self, backend: str) -> None:
        self.source = "n/a"
        self._read: Callable[[], float] | None = None
        try:
            opener = {"PostgreSQL": self._postgres, "Redis": self._redis, "MariaDB": self._mariadb}
            if backend in opener:
                opener[backend]()
        except Exception as exc:  # the cost columns are extras: never fail the run
            self.source = f"n/a ({type(exc).__name__}: {exc})"
            self._read = None

    def read(self) -> float | None:
        return None if self._read is None else self._read()

    def _postgres(self) -> None:
        import psycopg

        conn = psycopg.connect(os.environ["BENCH_COST_PG_DSN"], autocommit=True)
        query = "SELECT coalesce(sum(total_exec_time), 0) FROM pg_stat_statements"
        self._read = lambda: float(conn.execute(query).fetchone()[0]) * 1000.0
        self.source = "pg_stat_statements total_exec_time"

    def _redis(self) -> None:
        import common
        import redis

        client = redis.Redis(host=common.HOST, port=common.REDIS_PORT)
        stats = lambda: client.info("commandstats").values()  # noqa: E731
        self._read = lambda: float(sum(s["usec"] for s in stats()))
        self.source = "INFO commandstats usec (recorder included)"

    def _mariadb(self) -> None:
        import common
        import MySQLdb

        conn = MySQLdb.connect(host=common.HOST, port=common.MYSQL_PORT, user="root")
        conn.autocommit(True)
        if not _scalar(conn, "SELECT @@performance_schema"):
            self.source = "n/a (performance_schema is off)"
            return
        query = (
            "SELECT SUM(SUM_TIMER_WAIT) FROM "
            "performance_schema.events_statements_summary_global_by_event_name"
        )
        self._read = lambda: float(_scalar(conn, query) or 0) / 1e6  # picoseconds
        self.source = "performance_schema statement timers"


def _scalar(conn: Any, query: str) -> Any:
    cur = conn.cursor()
    cur.execute(query)
    return cur.fetchone()[0]


class Probe:
    """Two readings around a W2 drain: at the first recorded task and at the last."""

    def __init__(self, adapter: Any) -> None:
        self.adapter = adapter
        self.servers = _server_pids()
        self.statements = StatementClock(adapter.backend)
        self.readings: list[dict[str, Any]] = []

    def reading(self) -> dict[str, Any]:
        """Recorded tasks, worker CPU s, each server's CPU s, statement us, now."""
        groups = [p.pid for p in self.adapter._workers]
        return {
            "tasks": self.adapter.recorder.count(),
            "time": time.time(),
            "worker": sum(group_cpu(pgid) for pgid in groups),
            "servers": {name: tree_cpu(pid) for name, pid in self.servers.items()},
            "statements": self.statements.read(),
        }

    def wrap(self, wait: Callable[[int, float], bool]) -> Callable[[int, float], bool]:
        """``wait_until_done`` with a reading at the first task and one at the end."""

        def measured_wait(n: int, timeout: float) -> bool:
            deadline = time.time() + timeout
            while self.adapter.recorder.count() < 1 and time.time() < deadline:
                time.sleep(FIRST_TASK_POLL)
            self.readings.append(self.reading())
            ok = wait(n, max(0.0, deadline - time.time()))
            self.readings.append(self.reading())
            return ok

        return measured_wait

    def result(self) -> dict[str, Any]:
        """Per-task costs between the two readings (empty if the drain never started)."""
        if len(self.readings) < 2:
            return {}
        first, last = self.readings[0], self.readings[-1]
        tasks = last["tasks"] - first["tasks"]
        per_task = lambda a, b: (b - a) / tasks * 1e6 if tasks > 0 else None  # noqa: E731
        statements = None
        if first["statements"] is not None and tasks > 0:
            statements = (last["statements"] - first["statements"]) / tasks
        return {
            "tasks": tasks,
            "seconds": last["time"] - first["time"],
            "worker_start_cpu_s": first["worker"],
            "worker_us_per_task": per_task(first["worker"], last["worker"]),
            "server_cpu_us_per_task": {
                name: per_task(first["servers"][name], last["servers"][name])
                for name in first["servers"]
            },
            "statement_us_per_task": statements,
            "statement_source": self.statements.source,
        }


def child() -> int:
    """The harness's runner.py, with its W2 drain measured (``result["cost"]``)."""
    import runner

    drain = runner.w2_drain

    def measured_drain(a: Any, n: int, concurrency: int, timeout: float) -> dict[str, Any]:
        probe = Probe(a)
        a.wait_until_done = probe.wrap(a.wait_until_done)
        res: dict[str, Any] = drain(a, n, concurrency, timeout)
        res["cost"] = probe.result()
        return res

    runner.w2_drain = measured_drain
    return int(runner.main())


def _median(values: list[float | None]) -> float | None:
    kept = [v for v in values if isinstance(v, (int, float))]
    return statistics.median(kept) if kept else None


def summarize_cost(peer: dict[str, Any]) -> dict[str, Any]:
    """Medians over a peer's W2 runs of its worker's, its server's and the statements' cost."""
    backend = peer["describe"]["backend"]
    costs = [r["result"].get("cost", {}) for r in peer.get("runs", {}).get("W2", []) if r.get("ok")]
    costs = [c for c in costs if c]
    servers = [c["server_cpu_us_per_task"] for c in costs]
    return {
        "w2_worker_us_per_task": _median([c["worker_us_per_task"] for c in costs]),
        "w2_worker_start_cpu_s": _median([c["worker_start_cpu_s"] for c in costs]),
        "w2_server_us_per_task": _median([s.get(backend) for s in servers]),
        "w2_redis_us_per_task": _median([s.get("Redis") for s in servers]),
        "w2_statement_us_per_task": _median([c["statement_us_per_task"] for c in costs]),
        "w2_statement_source": costs[0]["statement_source"] if costs else "n/a",
    }


def _fmt(value: float | None) -> str:
    return "—" if value is None else f"{value:,.0f}"


def with_cost_columns(render: Callable[[dict[str, Any]], str]) -> Callable[[dict[str, Any]], str]:
    """The harness's table with the cost columns appended, and the recorder's share below."""

    def render_table(data: dict[str, Any]) -> str:
        lines = render(data).split("\n")
        lines[0] += "".join(f" {c} |" for c in COST_COLUMNS)
        lines[1] += "---:|" * len(COST_COLUMNS)
        for i, peer in enumerate(data["peers"].values(), start=2):
            s = peer.get("summary", {})
            cells = [s.get("w2_worker_us_per_task"), s.get("w2_server_us_per_task")]
            stmt = s.get("w2_statement_us_per_task")
            lines[i] += f" {_fmt(cells[0])} | {_fmt(cells[1])} | {_fmt(stmt)} |"
        return "\n".join([*lines, "", _recorder_note(data)])

    return render_table


def _recorder_note(data: dict[str, Any]) -> str:
    """What the recorder alone costs Redis: its least CPU per task while other backends drained."""
    others = [
        p["summary"].get("w2_redis_us_per_task")
        for p in data["peers"].values()
        if "summary" in p and p["describe"]["backend"] != "Redis"
    ]
    kept = [v for v in others if isinstance(v, (int, float))]
    recorder = min(kept) if kept else None  # slower drains add more of the driver's polling
    return (
        "CPU per task: from the first recorded task to the last (start-up apart), worker = the "
        "peer's worker process group, server = the private server's process tree "
        f"(on Redis it includes the recorder, about {_fmt(recorder)} us per task: the lowest Redis "
        "CPU per task while peers on other backends drained); "
        "statements = the server's own statement timing (pg_stat_statements, "
        "INFO commandstats, performance_schema if on)."
    )


def drive(argv: list[str]) -> int:
    """The harness's run.py with ``argv``; children run this file; cost columns added."""
    sys.argv = [str(HARNESS / "run.py"), *argv]
    import run

    run.PEERS_DIR = HERE  # run_child starts HERE/runner.py (this file), cwd HERE
    summarize = run.summarize
    run.summarize = lambda peer: {**summarize(peer), **summarize_cost(peer)}
    run.render_table = with_cost_columns(run.render_table)
    return int(run.main())


if __name__ == "__main__":
    if len(sys.argv) > 1 and sys.argv[1] == "drive":
        sys.exit(drive(sys.argv[2:]))
    sys.exit(child())
