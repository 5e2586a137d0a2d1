"""Idle cost: what one idle worker process with N threads sends to its backend, and its memory.

The worker is launched in a fresh interpreter (``benchmarks.worker``), so
its memory is an application's, then left alone: after ``warmup`` seconds
(startup queries are not idle cost) the counters are read at the edges of
``windows`` consecutive windows of ``window`` seconds each; the figure is
the median window. Memory is read from /proc at the end: VmRSS (resident)
and USS (private pages, from smaps_rollup).

The measurement runs on a private server of the URL's kind (``servers``),
not on the URL's own server: server-wide counters on a shared server
count every other client too. Only the URL's kind matters here.
"""

from __future__ import annotations

import json
import subprocess
import sys
import tempfile
import time
from contextlib import ExitStack
from pathlib import Path
from typing import Any

from taskkit_core.opening import drop, lookup_backend
from taskkit_core.url import parse_url

from taskkit_core import migrate as migrate_storage

from .counters import (
    MariaDBQuestionCounter,
    PostgresStatementCounter,
    QueryCounter,
    RedisMonitorCounter,
    SqlClientCounter,
    rate,
    split_total,
)
from .recorder import RecorderKeys
from .servers import MariaDBServer, PostgresServer, PrivateServer, RedisServer
from .sqlcount import StatementCounter
from .stats import median
from .target import new_namespace

LAUNCH_TIMEOUT = 60.0


def kind_of(url: str) -> str:
    """redis, postgres, mariadb, sqlite or memory, from the URL's scheme."""
    scheme = parse_url(url).scheme
    family = scheme.split("+", 1)[0]
    return {
        "redis": "redis",
        "rediss": "redis",
        "unix": "redis",
        "postgresql": "postgres",
        "postgres": "postgres",
        "mysql": "mariadb",
        "mariadb": "mariadb",
    }.get(family, family)


def idle_cost(
    url: str,
    keys: RecorderKeys,
    *,
    threads: int = 8,
    warmup: float = 5.0,
    window: float = 20.0,
    windows: int = 3,
) -> dict[str, Any]:
    """Measure the idle cost of one worker process over ``url``'s kind of backend."""
    kind = kind_of(url)
    if kind == "memory":
        return {"skipped": "memory:// has no worker process and no server"}
    with ExitStack() as stack:
        private = _private_server(kind)
        if private is not None:
            stack.callback(private.stop)
            private.start()
            url = private.url()
        counter = _counter(kind, private, stack)
        namespace = new_namespace()
        if lookup_backend(url)[1].migrate is not None:
            migrate_storage(url, namespace=namespace)
        stack.callback(drop, url, namespace=namespace)
        statements = counter.counter.path if isinstance(counter, SqlClientCounter) else None
        worker = _launch(url, namespace, keys, threads, statements)
        stack.callback(_stop, worker)
        pids = _pids(worker)
        time.sleep(warmup)
        result = _measure(counter, pids, window, windows)
        result.update(
            kind=kind,
            threads=threads,
            source=counter.source,
            server=_where(kind, private),
            warmup_s=warmup,
            window_s=window,
            windows=windows,
        )
        return result
    raise AssertionError("unreachable")  # pragma: no cover (ExitStack does not swallow)


def _where(kind: str, private: PrivateServer | None) -> str:
    if private is not None:
        return "private instance"
    return "no server (counted in the worker)" if kind == "sqlite" else "the URL's own server"


def _private_server(kind: str) -> PrivateServer | None:
    servers: dict[str, type[PrivateServer]] = {
        "redis": RedisServer,
        "postgres": PostgresServer,
        "mariadb": MariaDBServer,
    }
    cls = servers.get(kind)
    return cls() if cls is not None else None


def _counter(kind: str, private: PrivateServer | None, stack: ExitStack) -> QueryCounter:
    if isinstance(private, RedisServer):
        counter: QueryCounter = RedisMonitorCounter("127.0.0.1", private.port)
    elif isinstance(private, PostgresServer):
        counter = PostgresStatementCounter(private)
    elif isinstance(private, MariaDBServer):
        counter = MariaDBQuestionCounter(private)
    elif kind == "sqlite":
        path = Path(tempfile.mkstemp(prefix="tkbench-sqlcount-")[1])
        stack.callback(path.unlink, missing_ok=True)
        counter = SqlClientCounter(StatementCounter.create(path))
    else:
        raise ValueError(f"no way to count queries of {kind!r} without a private server")
    stack.callback(counter.close)
    return counter


def _launch(
    url: str, namespace: str, keys: RecorderKeys, threads: int, statements: Path | None
) -> subprocess.Popen[str]:
    argv = [sys.executable, "-m", "benchmarks.worker", "--url", url, "--namespace", namespace]
    argv += ["--threads", str(threads), "--recorder-url", keys.url]
    argv += ["--ts-key", keys.ts, "--count-key", keys.count]
    if statements is not None:
        argv += ["--count-statements", str(statements)]
    return subprocess.Popen(
        argv,
        cwd=Path(__file__).resolve().parent.parent,
        stdin=subprocess.DEVNULL,
        stdout=subprocess.PIPE,
        text=True,
    )


def _pids(worker: subprocess.Popen[str]) -> list[int]:
    assert worker.stdout is not None
    line = worker.stdout.readline()  # the launcher prints it within seconds, or dies
    if not line:
        raise RuntimeError(f"worker launcher exited with {worker.wait(LAUNCH_TIMEOUT)}")
    return [int(p) for p in json.loads(line)["pids"]]


def _stop(worker: subprocess.Popen[str]) -> None:
    if worker.poll() is None:
        worker.terminate()
    try:
        worker.wait(30)
    except subprocess.TimeoutExpired:
        worker.kill()
        worker.wait(10)


def _measure(counter: QueryCounter, pids: list[int], window: float, windows: int) -> dict[str, Any]:
    per_window: list[dict[str, float]] = []
    cpu_before = sum(_cpu_seconds(p) for p in pids)
    t_start = time.monotonic()
    before, t0 = counter.read(), time.monotonic()
    for _ in range(windows):
        time.sleep(window)
        after, t1 = counter.read(), time.monotonic()
        per_window.append(rate(before, after, t1 - t0))
        before, t0 = after, t1
    elapsed = time.monotonic() - t_start
    cpu = sum(_cpu_seconds(p) for p in pids) - cpu_before
    totals = [split_total(r) for r in per_window]
    mem = [_memory_kib(p) for p in pids]
    return {
        "queries_per_s": median(t[0] for t in totals),
        "queries_per_s_windows": [round(t[0], 3) for t in totals],
        "transaction_control_per_s": median(t[1] for t in totals),
        "script_internal_per_s": median(t[2] for t in totals),
        "by_kind_per_s": _mean_rates(per_window),
        "cpu_percent": 100.0 * cpu / elapsed,
        "rss_mib": sum(m["rss"] for m in mem) / 1024,
        "uss_mib": sum(m["uss"] for m in mem) / 1024,
        "worker_pids": pids,
    }


def _mean_rates(windows: list[dict[str, float]]) -> dict[str, float]:
    kinds = {k for w in windows for k in w}
    means = {k: sum(w.get(k, 0.0) for w in windows) / len(windows) for k in kinds}
    return {k: round(v, 3) for k, v in sorted(means.items(), key=lambda kv: -kv[1])}


def _cpu_seconds(pid: int) -> float:
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    import os

    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def _memory_kib(pid: int) -> dict[str, int]:
    status = Path(f"/proc/{pid}/status").read_text()
    rss = int(next(line for line in status.splitlines() if line.startswith("VmRSS:")).split()[1])
    rollup = Path(f"/proc/{pid}/smaps_rollup").read_text().splitlines()
    private = sum(
        int(line.split()[1])
        for line in rollup
        if line.startswith(("Private_Clean:", "Private_Dirty:"))
    )
    return {"rss": rss, "uss": private}
