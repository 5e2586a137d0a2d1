"""W5, the deep queue: W2 (1 x 8) while 100,000 tasks wait in another group and 1,000,000
finished tasks are kept.

The backlog is made through the Backend API, as an application's history
would be: the queued tasks are put in the group ``deep`` (no worker serves
it); the finished ones are put in the bench group, claimed by a filler
worker id and settled as succeeded, in batches. The fill is the slow part,
so one namespace is filled once and the runs drain fresh batches of ``n``
tasks in it (each run adds its ``n`` to the finished tasks). The figure to
watch is the ratio of the W5 drain rate to W2's: the issue allows a fall
of at most 20%.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from typing import Any

from taskkit_core import Outcome, Task

from .handler import GROUP, TASK
from .recorder import Recorder
from .target import Session
from .workloads import w2_drain

logger = logging.getLogger("benchmarks")

DEEP_GROUP = "deep"
"""The group of the queued backlog; no worker of the benchmark serves it."""

FILLER = "tkbench-filler"
"""The worker id that claims and settles the finished backlog."""


def _batches(total: int, size: int) -> list[int]:
    return [min(size, total - start) for start in range(0, total, size)]


def fill(
    s: Session,
    *,
    queued: int,
    done: int,
    batch: int = 5000,
    progress: Callable[[str], None] = logger.info,
) -> dict[str, Any]:
    """Put ``queued`` tasks in the deep group and ``done`` finished tasks in the bench group."""
    backend = s.kit.backend
    data = s.handler.encode_data(GROUP, TASK, 0)
    t0 = time.perf_counter()
    for size in _batches(queued, batch):
        backend.put_tasks(*[Task.init(DEEP_GROUP, TASK, data) for _ in range(size)])
    queued_s = time.perf_counter() - t0
    backend.refresh_leases([FILLER], 24 * 3600)
    made = 0
    t1 = time.perf_counter()
    for size in _batches(done, batch):
        backend.put_tasks(*[Task.init(GROUP, TASK, data) for _ in range(size)])
        claims = backend.claim_tasks(GROUP, FILLER, size)
        accepted = backend.settle(*[Outcome.succeeded(c, b"null") for c in claims])
        made += sum(accepted)
        if made % 100_000 < batch:
            progress(f"W5 fill: {made:,} of {done:,} finished tasks")
    backend.drop_leases([FILLER])
    return {
        "queued": queued,
        "done": made,
        "fill_queued_seconds": queued_s,
        "fill_done_seconds": time.perf_counter() - t1,
    }


def w5_deep(
    s: Session,
    rec: Recorder,
    n: int,
    *,
    runs: int,
    threads: int,
    timeout: float,
    queued: int,
    done: int,
    progress: Callable[[str], None] = logger.info,
) -> dict[str, Any]:
    """Fill the backlog once, then ``runs`` W2 drains of ``n`` tasks (1 x ``threads``)."""
    result = fill(s, queued=queued, done=done, progress=progress)
    result["runs"] = []
    for _ in range(runs):
        r = w2_drain(s, rec, n, processes=1, threads=threads, timeout=timeout)
        result["runs"].append(r)
        progress(f"W5 drain: {r.get('tasks_per_s') or 0:,.0f} tasks/s")
    return result
