"""W1, W2 and W3 with the peer harness's definitions (its ``runner.py``), on one Session.

- W1: enqueue ``n`` no-op tasks from this process, one call per task, then
  all in one bulk call; tasks/s = n / time of the calls.
- W2: ``n`` tasks queued first, then ``processes`` x ``threads`` workers
  started; tasks/s = completed / (last task start - first task start), and
  "incl. startup" = completed / (recorded all - worker launch).
- W3: an idle worker; ``n`` tasks enqueued one at a time on a fixed
  ``interval`` schedule; latency = task start ``time.time()`` minus
  ``time.time()`` just before the enqueue call; nearest-rank percentiles.

Each function returns a plain dict (JSON-ready) shaped like the peers'.
"""

from __future__ import annotations

import time
from typing import Any

from .recorder import Recorder
from .stats import percentile
from .target import Session

WARMUP_TIMEOUT = 60.0
"""How long W3 waits for the warm-up task that proves the worker runs."""


def w1_enqueue(s: Session, n: int) -> dict[str, Any]:
    """Enqueue throughput, single calls then one bulk call (each on an empty namespace)."""
    out: dict[str, Any] = {}
    for mode in ("single", "bulk"):
        s.clean()
        ids = list(range(n))
        t0 = time.perf_counter()
        s.enqueue(ids, bulk=mode == "bulk")
        seconds = time.perf_counter() - t0
        out[mode] = {"n": n, "seconds": seconds, "tasks_per_s": n / seconds}
    s.clean()
    return out


def w2_drain(
    s: Session,
    rec: Recorder,
    n: int,
    *,
    processes: int,
    threads: int,
    timeout: float,
) -> dict[str, Any]:
    """Drain ``n`` tasks, queued first in bulk, with ``processes`` x ``threads`` workers."""
    rec.reset()
    t0 = time.perf_counter()
    s.enqueue(list(range(n)), bulk=True)
    preload_s = time.perf_counter() - t0
    start = time.time()
    s.start_workers(processes, threads)
    ok = rec.wait_for(n, timeout)
    end = time.time()
    s.stop_workers()
    ts = rec.timestamps()
    res: dict[str, Any] = {
        "n": n,
        "processes": processes,
        "threads": threads,
        "completed": len(ts),
        "executions": rec.executions(),
        "timed_out": not ok,
        "preload_seconds": preload_s,
        "wall_seconds": end - start,
    }
    if ts:
        first, last = min(ts.values()), max(ts.values())
        res["worker_startup_seconds"] = first - start
        res["processing_seconds"] = last - first
        res["tasks_per_s"] = len(ts) / (last - first) if last > first else None
        res["wall_tasks_per_s"] = len(ts) / (end - start)
    return res


def w3_latency(
    s: Session, rec: Recorder, n: int, *, interval: float, threads: int, timeout: float
) -> dict[str, Any]:
    """Pickup latency of ``n`` tasks put ``interval`` s apart to an idle 1 x ``threads`` worker."""
    rec.reset()
    s.start_workers(1, threads)
    s.enqueue([-1], bulk=False)  # warm-up: the worker demonstrably runs tasks, then idles
    warm = rec.wait_for(1, WARMUP_TIMEOUT)
    time.sleep(1.0)
    rec.reset()
    enq: dict[int, float] = {}
    base = time.time()
    for k in range(n):
        delay = base + k * interval - time.time()
        if delay > 0:
            time.sleep(delay)
        enq[k] = time.time()
        s.enqueue([k], bulk=False)
    ok = rec.wait_for(n, timeout)
    s.stop_workers()
    ts = rec.timestamps()
    lat = [(ts[k] - enq[k]) * 1000.0 for k in range(n) if k in ts]
    res: dict[str, Any] = {
        "n": n,
        "interval_ms": interval * 1000,
        "threads": threads,
        "warmup_ok": warm,
        "completed": len(lat),
        "executions": rec.executions(),
        "timed_out": not ok,
        "enqueue_span_s": max(enq.values()) - min(enq.values()) if enq else 0.0,
    }
    if lat:
        res.update({f"p{p}_ms": percentile(lat, p) for p in (50, 95, 99)})
        res["max_ms"] = max(lat)
        res["min_ms"] = min(lat)
        res["latencies_ms"] = [round(x, 3) for x in lat]
    return res
