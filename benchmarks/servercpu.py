"""CPU a database server spends per put, claim and settle, on a private instance.

    python -m benchmarks.servercpu --server postgres|mariadb [--tasks 20000] [--rounds 3]

On this shared 2-core VM wall times swing by 2x and more between identical
runs, and the in-process figures (``benchmarks.inprocess``) count only the
client's CPU. This starts a private PostgreSQL or MariaDB (see
``servers``), so that the server's CPU time (``utime + stime`` in
``/proc``) belongs to this run alone: on PostgreSQL the backends serving
the bench database (the statements' own work; autovacuum, the
checkpointer and the WAL writer run apart and are left out), on MariaDB
the whole process (its threads cannot be told apart). It measures, per
task, through the Backend API (PostgreSQL vacuumed between rounds): a bulk put
(batches of 1,000), single puts (one call per task, a tenth of
``--tasks``), and a drain: claims of 8, each settled as succeeded at once
(claiming everything first would leave thousands staged, which no worker
does, and PostgreSQL's settle then reads every staged task).
Run it on the old and the new tree in turn to compare a schema change.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from taskkit_core.opening import connect, drop, migrate

from taskkit_core import Outcome, Task

from .servers import PrivateServer, running

TICKS = os.sysconf("SC_CLK_TCK")


def server_cpu(server: PrivateServer) -> float:
    """Seconds of CPU the server spent so far (see the module docstring)."""
    assert server.process is not None
    root = server.process.pid
    total = 0
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            fields = (entry / "stat").read_text().rsplit(")", 1)[1].split()
            command = (entry / "cmdline").read_bytes()
        except OSError:
            continue  # a process that ended meanwhile
        if int(entry.name) == root and server.kind == "mariadb":
            total += int(fields[11]) + int(fields[12])  # utime stime
        elif int(fields[1]) == root and b" bench " in command:  # a PostgreSQL backend
            total += int(fields[11]) + int(fields[12])
    return total / TICKS


def per_task(server: PrivateServer, count: int, step: Callable[[], object]) -> tuple[float, float]:
    """Server and client CPU microseconds per task of ``step``."""
    before_server, before_client = server_cpu(server), time.process_time()
    step()
    return (
        (server_cpu(server) - before_server) / count * 1e6,
        (time.process_time() - before_client) / count * 1e6,
    )


def one_round(server: PrivateServer, backend: Any, tasks: int) -> dict[str, float]:
    data = json.dumps(0).encode()
    bulk = [Task.init("bench", "noop", data) for _ in range(tasks)]
    singles = [Task.init("single", "noop", data) for _ in range(tasks // 10)]

    def put_bulk() -> None:
        for start in range(0, tasks, 1000):
            backend.put_tasks(*bulk[start : start + 1000])

    def put_singles() -> None:
        for task in singles:
            backend.put_tasks(task)

    def drain() -> None:
        while claims := backend.claim_tasks("bench", "w", 8):
            backend.settle(*[Outcome.succeeded(claim, b"null") for claim in claims])

    figures: dict[str, float] = {}
    backend.refresh_leases(["w"], 3600)
    for name, count, step in (
        ("bulk put", tasks, put_bulk),
        ("single put", len(singles), put_singles),
        ("claim+settle", tasks, drain),
    ):
        figures[f"{name} server"], figures[f"{name} client"] = per_task(server, count, step)
    backend.destroy_all()
    if server.kind == "postgres":  # the next round starts without this one's dead rows
        server.sql("bench", f"VACUUM {backend.namespace}_tasks")  # type: ignore[attr-defined]
    return figures


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(prog="python -m benchmarks.servercpu", description=__doc__)
    ap.add_argument("--server", choices=["postgres", "mariadb"], required=True)
    ap.add_argument("--tasks", type=int, default=20_000)
    ap.add_argument("--rounds", type=int, default=3)
    ap.add_argument("--label", default="")
    args = ap.parse_args(argv)
    with running(args.server) as server:
        url = server.url()
        migrate(url, namespace="tkcpu")
        connection = connect(url, namespace="tkcpu")
        try:
            rounds = [one_round(server, connection.backend, args.tasks) for _ in range(args.rounds)]
        finally:
            connection.close()
            drop(url, namespace="tkcpu")
    medians = {key: statistics.median(r[key] for r in rounds) for key in rounds[0]}
    shown = ", ".join(f"{key} {value:.0f}" for key, value in medians.items())
    print(f"{args.label or args.server}: us CPU per task: {shown}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
