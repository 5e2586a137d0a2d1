"""CPU per task of one worker process draining a queue (W2 in a spawned process).

    python -m benchmarks.process_drain --url URL [--tasks 5000] [--runs 3]

``benchmarks.inprocess`` drains with ``kit.start_threads`` in the measuring
process; this one drains as a deployment does, in a worker process started
with ``kit.start_processes(1, {"bench": 8})`` (spawn), so what only a
worker process does is measured too: its start-up's imports and tables
live in that process for the whole drain. N tasks are put in one
``initiate_tasks`` call; each task appends its start to a file
(``startup_handler``). The figure is the worker process's CPU time from
the first task's start to the last's (``/proc``), per task, with the
tasks/s of that span; medians of ``--runs`` drains, each in a namespace of
its own.
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
import time
from pathlib import Path

from taskkit_core.opening import drop

from taskkit_core import InitiateTaskArgs, Kit
from taskkit_core import migrate as migrate_storage

from .startup import cpu_seconds
from .startup_handler import GROUP, TASK, StartHandler, first_start
from .stats import median
from .stopping import stop_processes
from .target import new_namespace

TIMEOUT = 120.0
STOP_WAIT = 30.0
POLL = 0.02
"""How often the record is read while the worker drains: each read competes with it
for the 2 cores, and a late last read adds only an idle worker's CPU."""


def _lines(path: Path) -> int:
    return path.read_bytes().count(b"\n") if path.exists() else 0


def drain(url: str, tasks: int, record: Path) -> tuple[float, float]:
    """CPU microseconds per task of the worker process, and tasks/s, for one drain."""
    namespace = new_namespace()
    record.unlink(missing_ok=True)
    migrate_storage(url, namespace=namespace)
    kit = Kit.from_url(url, StartHandler(record), namespace=namespace)
    try:
        items: list[InitiateTaskArgs] = [
            {"group": GROUP, "name": TASK, "data": i} for i in range(tasks)
        ]
        kit.initiate_tasks(*items)
        (process,) = kit.start_processes(1, {GROUP: 8})
        assert process.pid is not None
        try:
            first = first_start(record, TIMEOUT)
            cpu_first = cpu_seconds(process.pid)
            deadline = time.monotonic() + TIMEOUT
            while _lines(record) < tasks and time.monotonic() < deadline:
                time.sleep(POLL)
            cpu_last = cpu_seconds(process.pid)
            starts = [float(line) for line in record.read_text().splitlines()]
            if len(starts) < tasks:
                raise TimeoutError(f"{len(starts)} of {tasks} tasks ran within {TIMEOUT} s")
            rate = tasks / (max(starts) - first)
            return (cpu_last - cpu_first) / tasks * 1e6, rate
        finally:
            stop_processes([process], STOP_WAIT)
    finally:
        kit.close()
        drop(url, namespace=namespace)


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(prog="python -m benchmarks.process_drain")
    ap.add_argument("--url", required=True)
    ap.add_argument("--tasks", type=int, default=5000)
    ap.add_argument("--runs", type=int, default=3)
    args = ap.parse_args(argv)
    with tempfile.TemporaryDirectory() as folder:
        runs = [drain(args.url, args.tasks, Path(folder, "starts")) for _ in range(args.runs)]
    report = {
        "cpu_us_per_task": median(cpu for cpu, _ in runs),
        "tasks_per_s": median(rate for _, rate in runs),
        "runs_cpu_us": [round(cpu, 1) for cpu, _ in runs],
    }
    print(args.url, json.dumps(report, default=lambda x: round(x, 1)))
    return 0


if __name__ == "__main__":
    sys.exit(main())
