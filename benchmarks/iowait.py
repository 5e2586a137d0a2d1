"""Tasks that wait on I/O: does a group with T threads run T / d tasks per second?

    python -m benchmarks.iowait --url URL [--url URL ...] [--threads 8,16,32,64]
        [--waits 10,100] [--seconds 3] [--json FILE]

Each task sleeps d ms (standing in for a call to another service) and does
nothing else, so T threads can at best finish T / d tasks per second; the
issue-19 target is 90% of that for T up to 64 and d of 10 and 100 ms, on
every backend: the claimer and the settler must not be the limit. For each
(T, d) the namespace gets ``T / d * --seconds`` tasks in one bulk put (at
least 4 T), then one in-process runtime of T threads drains them
(``kit.start_threads``, default settings, the handler's sleep is the only
work). Reported: tasks/s from the first task's start to the last one's end,
its ratio to T / d, met or not; how busy the threads were (the time spent
inside tasks over T x the drain's length: what the claimer and settler
are answerable for), how long the d ms sleep really took (a loaded
machine oversleeps), and the CPU this process spent per task with its
share of one core (a short ratio with a share near the machine's cores is
the CPU's limit, not the claimer's).
"""

from __future__ import annotations

import argparse
import json
import threading
import time
from pathlib import Path
from typing import Any

from taskkit_core.url import mask_url

from taskkit_core import DiscardTask, InitiateTaskArgs, JsonHandler, Task, WorkerSettings

from .target import Session, session

GROUP = "iowait"
TASK = "sleep"
TARGET = 0.9
"""The share of T / d a group must reach."""


class SleepHandler(JsonHandler):
    """Sleeps the task's ``data`` milliseconds; notes when each task started and ended."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self.spans: list[tuple[float, float]] = []

    def handle(self, task: Task) -> Any:
        if task.name != TASK:
            raise DiscardTask
        began = time.time()
        time.sleep(json.loads(task.data) / 1000)
        with self._lock:
            self.spans.append((began, time.time()))
        return None

    def get_retry_interval(self, task: Task, exception: Exception) -> float | None:
        return None

    def wait_for(self, n: int, timeout: float) -> bool:
        """True once ``n`` tasks have ended, False after ``timeout`` seconds."""
        deadline = time.monotonic() + timeout
        while len(self.spans) < n and time.monotonic() < deadline:
            time.sleep(0.01)
        return len(self.spans) >= n


def drain(
    s: Session,
    handler: SleepHandler,
    threads: int,
    wait_ms: int,
    tasks: int,
    timeout: float,
    *,
    fixed_prefetch: bool = False,
) -> dict[str, Any]:
    """Put ``tasks`` sleeping tasks, drain them with ``threads`` threads; the figures.

    ``fixed_prefetch``: claim T tasks ahead, as before prefetch was fitted to the tasks.
    """
    s.kit.settings = WorkerSettings(prefetch=threads if fixed_prefetch else None)
    s.clean()
    handler.spans.clear()
    items: list[InitiateTaskArgs] = [
        {"group": GROUP, "name": TASK, "data": wait_ms} for _ in range(tasks)
    ]
    s.kit.initiate_tasks(*items)
    cpu = time.process_time()
    runtime = s.kit.start_threads({GROUP: threads})
    try:
        drained = handler.wait_for(tasks, timeout)
        cpu = time.process_time() - cpu
    finally:
        runtime.stop(timeout=30)
    spans = list(handler.spans)
    first, last = min(b for b, _ in spans), max(e for _, e in spans)
    ideal = threads * 1000 / wait_ms
    rate = len(spans) / (last - first)
    return {
        "threads": threads,
        "wait_ms": wait_ms,
        "tasks": tasks,
        "completed": len(spans),
        "timed_out": not drained,
        "tasks_per_s": rate,
        "ideal_per_s": ideal,
        "ratio": rate / ideal,
        "met": drained and rate >= TARGET * ideal,
        "busy": sum(e - b for b, e in spans) / (threads * (last - first)),
        "mean_wait_ms": sum(e - b for b, e in spans) / len(spans) * 1000,
        "cpu_us_per_task": cpu / len(spans) * 1e6,
        "cpu_share": cpu / (last - first),
    }


def measure(
    url: str,
    threads: list[int],
    waits: list[int],
    seconds: float,
    timeout: float,
    *,
    fixed: bool = False,
) -> list[dict[str, Any]]:
    """Every (T, d) on ``url``, in one namespace; one result dict each."""
    handler = SleepHandler()
    rows = []
    with session(url, handler) as s:
        for wait_ms in waits:
            for t in threads:
                tasks = max(4 * t, round(t * 1000 / wait_ms * seconds))
                row = drain(s, handler, t, wait_ms, tasks, timeout, fixed_prefetch=fixed)
                row["url"] = mask_url(url)
                print(_line(row), flush=True)
                rows.append(row)
    return rows


def _line(row: dict[str, Any]) -> str:
    verdict = "met" if row["met"] else "NOT met"
    return (
        f"{row['url']:<40} T={row['threads']:>2} d={row['wait_ms']:>3} ms: "
        f"{row['tasks_per_s']:>7,.0f}/s of {row['ideal_per_s']:>6,.0f} "
        f"({row['ratio']:.2f}, {verdict}); threads busy {row['busy']:.2f}, "
        f"sleep took {row['mean_wait_ms']:.1f} ms; {row['cpu_us_per_task']:,.0f} us CPU/task, "
        f"{row['cpu_share']:.2f} cores" + (" TIMED OUT" if row["timed_out"] else "")
    )


def _ints(text: str) -> list[int]:
    return [int(x) for x in text.split(",") if x]


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(
        prog="python -m benchmarks.iowait",
        description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    ap.add_argument("--url", action="append", required=True, help="repeat for several backends")
    ap.add_argument("--threads", type=_ints, default=[8, 16, 32, 64], help="T values")
    ap.add_argument("--waits", type=_ints, default=[10, 100], help="d values, ms")
    ap.add_argument("--seconds", type=float, default=3.0, help="ideal drain length per case")
    ap.add_argument("--timeout", type=float, default=120.0, help="bound of each drain, s")
    ap.add_argument(
        "--fixed-prefetch",
        action="store_true",
        help="claim T tasks ahead, as before prefetch was fitted (for before/after runs)",
    )
    ap.add_argument("--json", type=Path, help="write every row here")
    args = ap.parse_args(argv)
    rows = []
    for url in args.url:
        rows += measure(
            url, args.threads, args.waits, args.seconds, args.timeout, fixed=args.fixed_prefetch
        )
    if args.json:
        args.json.write_text(json.dumps(rows, indent=1))
    return 0 if all(r["met"] for r in rows) else 1


if __name__ == "__main__":
    raise SystemExit(main())
