"""Worker start: from launching a worker program to its first task, per backend.

    python -m benchmarks.startup --url URL [--url URL ...] [--runs 5]
    python -m benchmarks.startup --url URL --trace      # where the time goes

A task is queued first; then the clock starts and ``python -m
benchmarks.startup_launcher`` is launched, a fresh interpreter that builds
a Kit and calls ``kit.start_processes(1, {"bench": 8})`` (spawn: a second
fresh interpreter), as an application's worker program does. The handler
appends its start time to a file (``startup_handler``): the Redis recorder
of the other benchmarks would add redis-py's import to every process.
Three figures, medians of ``--runs`` launches, each in a namespace of its
own: launch to the first task's start (the peer harness's "worker start"),
the worker process's own span from its spawning to that start (the issue's
"a worker process takes its first task within 0.3 s of being launched"),
and the CPU seconds both processes had used by then, steadier than wall
time on a loaded machine. Beside them the floor (``startup_floor``): a
spawned process that only imports SQLAlchemy and the driver (redis-py) and
makes one round trip, with nothing of taskkit.

``--trace`` runs the worker process's steps one by one in one fresh
interpreter (``benchmarks.startup_trace``), timing each: interpreter
start, imports, opening the backend (driver and server checks), the
runtime's start (first heartbeat, services, pools) and the first claim's
task reaching the handler; plus the CPU time the process spent on them.

Python writes no bytecode cache when PYTHONDONTWRITEBYTECODE is set, and
then every start compiles every module again (seconds, not milliseconds):
measure with it unset (``env -u PYTHONDONTWRITEBYTECODE``) after one
warm-up start, as an installed application runs.
"""

from __future__ import annotations

import argparse
import json
import os
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from taskkit_core.opening import drop

from taskkit_core import Kit
from taskkit_core import migrate as migrate_storage

from .startup_floor import spawn_to_round_trip
from .startup_handler import GROUP, TASK, StartHandler, first_start
from .stats import median
from .target import new_namespace

TIMEOUT = 30.0


def _queue_one(url: str, namespace: str, record: Path) -> None:
    migrate_storage(url, namespace=namespace)
    kit = Kit.from_url(url, StartHandler(record), namespace=namespace)
    try:
        kit.initiate_task(GROUP, TASK, 0)
    finally:
        kit.close()


def cpu_seconds(pid: int) -> float:
    """CPU time (user + system) a live process has used so far, from /proc."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def launch_to_first_task(url: str, record: Path) -> tuple[float, float, float]:
    """Seconds from launching a worker program to its first task's start, seconds from
    its spawning the worker process to then, and the CPU seconds the launcher and
    its worker process had used by then."""
    namespace = new_namespace()
    record.unlink(missing_ok=True)
    _queue_one(url, namespace, record)
    argv = [sys.executable, "-m", "benchmarks.startup_launcher", url, namespace, str(record)]
    launched = time.time()
    launcher = subprocess.Popen(argv, stdout=subprocess.PIPE, text=True)
    try:
        assert launcher.stdout is not None
        first = first_start(record, TIMEOUT)
        started = json.loads(launcher.stdout.readline())
        cpu = sum(cpu_seconds(pid) for pid in [launcher.pid, *started["pids"]])
        return first - launched, first - started["spawned"], cpu
    finally:
        launcher.send_signal(signal.SIGTERM)
        launcher.wait(TIMEOUT)
        drop(url, namespace=namespace)


def trace_steps(url: str, record: Path) -> dict[str, float]:
    """Seconds of each start-up step, taken in a fresh interpreter (``startup_trace``)."""
    namespace = new_namespace()
    record.unlink(missing_ok=True)
    _queue_one(url, namespace, record)
    argv = [sys.executable, "-m", "benchmarks.startup_trace", url, namespace, str(record)]
    try:
        launched = time.time()
        done = subprocess.run(argv, capture_output=True, text=True, timeout=TIMEOUT, check=True)
    finally:
        drop(url, namespace=namespace)
    marks: dict[str, float] = json.loads(done.stdout.strip().splitlines()[-1])
    steps: dict[str, float] = {}
    last, last_cpu = launched, 0.0
    for name, at in marks.items():
        if name.startswith("cpu "):  # CPU seconds the traced process had used by then
            steps[name], last_cpu = at - last_cpu, at
        else:
            steps[name], last = at - last, at
    steps["total"], steps["cpu total"] = last - launched, last_cpu
    return steps


def _ms(seconds: list[float]) -> str:
    return f"{(median(seconds) or 0.0) * 1000:.0f} ms"


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(prog="python -m benchmarks.startup")
    ap.add_argument("--url", action="append", required=True)
    ap.add_argument("--runs", type=int, default=5)
    ap.add_argument("--trace", action="store_true")
    args = ap.parse_args(argv)
    with tempfile.TemporaryDirectory() as folder:
        record = Path(folder, "starts")
        for url in args.url:
            if args.trace:
                steps = [trace_steps(url, record) for _ in range(args.runs)]
                medians = {name: median([s[name] for s in steps]) or 0.0 for name in steps[0]}
                print(url, " | ".join(f"{k} {v * 1000:.0f} ms" for k, v in medians.items()))
                continue
            runs = [launch_to_first_task(url, record) for _ in range(args.runs)]
            floor = [spawn_to_round_trip(url) for _ in range(args.runs)]
            report = {
                "launch to first task": _ms([r[0] for r in runs]),
                "spawn to first task": _ms([r[1] for r in runs]),
                "CPU, both processes": _ms([r[2] for r in runs]),
                "floor: spawn to a driver round trip": _ms([f[0] for f in floor]),
                "runs, spawn to first task": [round(r[1] * 1000) for r in runs],
            }
            print(url, json.dumps(report))
    return 0


if __name__ == "__main__":
    sys.exit(main())
