"""Where W3's pickup latency goes: time stamps along one task's path.

    python -m benchmarks.w3trace --url URL [--tasks 150]

Runs a W3-like loop in one process (worker threads from
``kit.start_threads``, tasks put one at a time 20 ms apart) and stamps
each step: the enqueue call, the backend's wake-up reaching the group's
pool (``GroupPool.wake``), the claim round trip (``claim_tasks``), and
the handler starting. Prints the median of each segment. The stamps come
from wrapping those two methods for the run; nothing else changes.

In one process the enqueuing thread shares the GIL with the workers, so
the enqueue call looks slower than in W3 proper (where the worker is a
separate process); the worker-side segments are what this is for.
"""

from __future__ import annotations

import argparse
import json
import statistics
import time
from typing import Any

from taskkit_core.worker.pool import GroupPool

from taskkit_core import Task

from .handler import GROUP, BenchHandler
from .recorder import RecorderKeys
from .target import session

SEGMENTS = {
    "enqueue call": ("put", "put_returned"),
    "put -> wake-up reaches the pool": ("put", "wake"),
    "wake-up -> claim starts": ("wake", "claim"),
    "claim round trip": ("claim", "claimed"),
    "claim returned -> handler starts": ("claimed", "handler"),
    "total": ("put", "handler"),
}


class StampingHandler(BenchHandler):
    """Notes when each measured task's handler starts, with the path's stamps so far."""

    def __init__(self, keys: RecorderKeys, stamps: dict[str, float]) -> None:
        super().__init__(keys)
        self.stamps = stamps
        self.rows: list[dict[str, float]] = []

    def handle(self, task: Task) -> Any:
        started = time.perf_counter()
        if json.loads(task.data) >= 0:
            self.rows.append({**self.stamps, "handler": started})
        return None


def trace(url: str, tasks: int, interval: float) -> dict[str, float]:
    """Median milliseconds of each segment over ``tasks`` tasks (segments seen only)."""
    stamps: dict[str, float] = {}
    handler = StampingHandler(RecorderKeys.new(), stamps)
    original_wake = GroupPool.wake

    def wake(pool: GroupPool) -> None:
        stamps.setdefault("wake", time.perf_counter())
        original_wake(pool)

    GroupPool.wake = wake  # type: ignore[method-assign,assignment]
    try:
        with session(url, handler) as s:
            backend_class: Any = type(s.kit.backend)
            original_assign = backend_class.claim_tasks

            def assign(backend: Any, *args: Any, **kwargs: Any) -> Any:
                began = time.perf_counter()
                claims = original_assign(backend, *args, **kwargs)
                if claims:
                    stamps.setdefault("claim", began)
                    stamps.setdefault("claimed", time.perf_counter())
                return claims

            backend_class.claim_tasks = assign
            try:
                runtime = s.kit.start_threads({GROUP: 8})
                s.enqueue([-1], bulk=False)  # warm-up
                time.sleep(1.5)
                for k in range(tasks):
                    stamps.clear()
                    stamps["put"] = time.perf_counter()
                    s.enqueue([k], bulk=False)
                    stamps["put_returned"] = time.perf_counter()
                    time.sleep(interval)
                time.sleep(0.5)
                runtime.stop(timeout=10)
            finally:
                backend_class.claim_tasks = original_assign
    finally:
        GroupPool.wake = original_wake  # type: ignore[method-assign]
    medians: dict[str, float] = {}
    for name, (a, b) in SEGMENTS.items():
        spans = [(row[b] - row[a]) * 1000 for row in handler.rows if a in row and b in row]
        if spans:  # no wake-up segments on a backend that only polls
            medians[name] = statistics.median(spans)
    return medians


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(prog="python -m benchmarks.w3trace", description=__doc__)
    ap.add_argument("--url", required=True)
    ap.add_argument("--tasks", type=int, default=150)
    ap.add_argument("--interval", type=float, default=0.02)
    args = ap.parse_args(argv)
    for name, ms in trace(args.url, args.tasks, args.interval).items():
        print(f"{name:36} {ms:7.3f} ms")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
