"""S11: denial-of-service bounds with a large queue and many groups.

Scaled for a 2-core machine: 200,000 queued tasks instead of 1,000,000
(RELIABILITY.md at the project root says so). Claim latency is measured
with 10,000 and with 200,000 tasks queued, listing calls are checked for
their page size, a worker process's memory is read at both sizes, and
``group_stats`` is timed over 10,000 groups.
"""

from __future__ import annotations

import os
import signal
import time
from typing import Any

import pytest
from taskkit_core.backend import Outcome
from taskkit_core.testing.support import task_args

from .conftest import SERVER_BACKENDS, Chaos, MakeChaos
from .measure import percentile, rss_kib

pytestmark = pytest.mark.chaos

SMALL, LARGE, GROUPS, PAGE, PROBES = 10_000, 200_000, 10_000, 100, 300


def fill(run: Chaos, upto: int, queued: int) -> int:
    """Queue tasks in group "r" until ``upto`` are queued; returns the new count."""
    for start in range(queued, upto, 2000):
        run.workload.enqueue(min(2000, upto - start), start)
    return upto


def claim_latencies(run: Chaos, count: int) -> list[float]:
    """Time ``count`` claims of one task (each then settled)."""
    backend, worker = run.kit.backend, "probe:1:scale"
    backend.refresh_leases([worker], 60.0)
    latencies = []
    for _ in range(count):
        began = time.perf_counter()
        claims = backend.claim_tasks("r", worker, 1)
        latencies.append(time.perf_counter() - began)
        backend.settle(*(Outcome.succeeded(c, b"{}") for c in claims))
    return latencies


def worker_rss(run: Chaos) -> int:
    """KiB resident in a worker process after 6 s of work on the current queue."""
    (process,) = run.workload.start(1, 2)
    time.sleep(6.0)
    assert process.pid is not None
    rss = rss_kib(process.pid)
    os.kill(process.pid, signal.SIGTERM)
    process.join(20)
    return rss


def timed(call: Any) -> tuple[float, Any]:
    began = time.perf_counter()
    value = call()
    return time.perf_counter() - began, value


@pytest.mark.timeout(1800)
@pytest.mark.parametrize("backend", [*SERVER_BACKENDS, "sqlite"])
def test_s11_claims_stay_fast_and_listings_paged_with_a_large_queue(
    chaos: MakeChaos, backend: str
) -> None:
    run = chaos(backend)
    backend_ = run.kit.backend
    began = time.monotonic()
    queued = fill(run, SMALL, 0)
    small = claim_latencies(run, PROBES)
    rss_small = worker_rss(run)
    queued = fill(run, LARGE, queued)
    fill_s = time.monotonic() - began
    large = claim_latencies(run, PROBES)
    rss_large = worker_rss(run)
    listings = {
        "get_queued_tasks": timed(lambda: backend_.get_queued_tasks("r", PAGE)),
        "get_stage_info": timed(lambda: backend_.get_stage_info(PAGE)),
        "get_done_task_ids": timed(lambda: backend_.get_done_task_ids(None, None, PAGE)),
    }
    for start in range(0, GROUPS, 2000):
        datas = [{"seq": i} for i in range(start, start + 2000)]
        run.kit.initiate_tasks(
            *[
                a | {"group": f"g{d['seq']}"}
                for a, d in zip(task_args("work", datas), datas, strict=True)
            ]
        )
    stats_s, stats = timed(lambda: backend_.group_stats(0))
    p99_small, p99_large = percentile(small, 0.99), percentile(large, 0.99)
    run.record(
        queued_small=SMALL,
        queued_large=LARGE,
        fill_s=round(fill_s, 1),
        claim_p50_ms={"small": _ms(percentile(small, 0.5)), "large": _ms(percentile(large, 0.5))},
        claim_p99_ms={"small": _ms(p99_small), "large": _ms(p99_large)},
        worker_rss_kib={"small": rss_small, "large": rss_large},
        listing_rows={name: len(rows) for name, (_, rows) in listings.items()},
        listing_ms={name: _ms(s) for name, (s, _) in listings.items()},
        group_stats_groups=len(stats),
        group_stats_ms=_ms(stats_s),
    )
    assert all(len(rows) <= PAGE for _, rows in listings.values()), "listings are paged"
    assert p99_large <= 3 * p99_small, "claim p99 with 200,000 queued within 3x of 10,000"
    assert rss_large <= rss_small * 1.5, "worker memory does not grow with the queue"


def _ms(seconds: float) -> float:
    return round(seconds * 1000, 2)
