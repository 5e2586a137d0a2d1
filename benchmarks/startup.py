"""Worker start: from launching a worker program to its first task, per backend.

    python -m benchmarks.startup --url URL [--url URL ...] [--runs 5]
    python -m benchmarks.startup --url URL --trace      # where the time goes

A task is queued first; then the clock starts and ``python -m
benchmarks.worker`` is launched, a fresh interpreter that builds a Kit and
calls ``kit.start_processes(1, {"bench": 8})`` (spawn: a second fresh
interpreter), as an application's worker program does. The figure is the
time until the task's handler records its start (the recorder's
``time.time()``), median of ``--runs`` launches, each in a namespace of its
own. The peer harness's "worker start" is the same span. Beside it, the CPU
seconds the launcher and its worker process had used when the task
started: steadier than the wall-clock time on a loaded machine.

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
import time
from pathlib import Path
from typing import Any

from taskkit_core.opening import drop

from taskkit_core import Kit
from taskkit_core import migrate as migrate_storage

from .handler import GROUP, TASK, BenchHandler
from .recorder import Recorder, RecorderKeys
from .stats import median
from .target import new_namespace

TIMEOUT = 30.0


def _queue_one(url: str, namespace: str, keys: RecorderKeys) -> None:
    migrate_storage(url, namespace=namespace)
    kit = Kit.from_url(url, BenchHandler(keys), namespace=namespace)
    try:
        kit.initiate_task(GROUP, TASK, 0)
    finally:
        kit.close()


def cpu_seconds(pid: int) -> float:
    """CPU time (user + system) a live process has used so far, from /proc."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def launch_to_first_task(url: str, keys: RecorderKeys) -> tuple[float, float]:
    """Seconds from launching a worker program to its first task's start, and the
    CPU seconds the launcher and its worker process had used by then."""
    namespace = new_namespace()
    recorder = Recorder(keys)
    recorder.reset()
    _queue_one(url, namespace, keys)
    argv = [sys.executable, "-m", "benchmarks.worker", "--url", url, "--namespace", namespace]
    argv += ["--recorder-url", keys.url, "--ts-key", keys.ts, "--count-key", keys.count]
    launched = time.time()
    launcher = subprocess.Popen(argv, stdout=subprocess.PIPE, text=True)
    try:
        assert launcher.stdout is not None
        pids = [launcher.pid, *json.loads(launcher.stdout.readline())["pids"]]
        if not recorder.wait_for(1, TIMEOUT):
            raise TimeoutError(f"no task started within {TIMEOUT} s")
        cpu = sum(cpu_seconds(pid) for pid in pids)
        return min(recorder.timestamps().values()) - launched, cpu
    finally:
        launcher.send_signal(signal.SIGTERM)
        launcher.wait(TIMEOUT)
        recorder.close()
        drop(url, namespace=namespace)


def trace_steps(url: str, keys: RecorderKeys) -> dict[str, float]:
    """Seconds of each start-up step, taken in a fresh interpreter (``--child``)."""
    namespace = new_namespace()
    _queue_one(url, namespace, keys)
    argv = [sys.executable, "-m", "benchmarks.startup_trace", url, namespace]
    argv += [keys.url, keys.ts, keys.count]
    Recorder(keys).reset()
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


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(prog="python -m benchmarks.startup")
    ap.add_argument("--url", action="append", required=True)
    ap.add_argument("--runs", type=int, default=5)
    ap.add_argument("--trace", action="store_true")
    args = ap.parse_args(argv)
    keys = RecorderKeys.new()
    for url in args.url:
        if args.trace:
            steps = [trace_steps(url, keys) for _ in range(args.runs)]
            medians = {name: median([s[name] for s in steps]) or 0.0 for name in steps[0]}
            print(url, " | ".join(f"{k} {v * 1000:.0f} ms" for k, v in medians.items()))
            continue
        runs = [launch_to_first_task(url, keys) for _ in range(args.runs)]
        seconds, cpu = [wall for wall, _ in runs], [cpu for _, cpu in runs]
        report: dict[str, Any] = {"median_s": median(seconds), "median_cpu_s": median(cpu)}
        report.update(runs_s=seconds, runs_cpu_s=cpu)
        print(url, json.dumps(report, default=lambda x: round(x, 3)))
    return 0


if __name__ == "__main__":
    sys.exit(main())
