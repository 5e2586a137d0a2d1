"""What priorities cost a claim: the same due tasks, with and without a backlog elsewhere.

    python -m benchmarks.claim_priorities --url URL [--due 10000] [--waiting 100000]

Three shapes of one group, each claimed 8 at a time (and settled) until its
due tasks are gone, with the median wall time of a claim call printed:

- ``plain``: ``--due`` tasks at priority 0 (what a claim cost before priorities);
- ``spread``: the same tasks spread over 5 priorities (-50, -10, 0, 10, 50);
- ``backlog``: ``plain`` plus ``--waiting`` tasks not yet due at each of 4
  other priorities (two higher, two lower).

A claim that reads each priority's queue from its head costs about the same
in all three; one that scanned tasks not yet due would slow down in
``backlog``. The figures are wall times of one client: compare the shapes
within one run, not across machines.
"""

from __future__ import annotations

import argparse
import statistics
import time
from typing import Any

from taskkit_core import Outcome, Task

from .handler import GROUP, TASK, BenchHandler
from .recorder import RecorderKeys
from .target import session

WORKER = "tkbench-claimer"
BATCH = 5000
OTHER_PRIORITIES = (50, 10, -10, -50)


def put(backend: Any, priorities: list[int], due: float | None = None) -> None:
    """One task per entry of ``priorities``, in batches."""
    for start in range(0, len(priorities), BATCH):
        backend.put_tasks(
            *(
                Task.init(GROUP, TASK, b"0", due=due, priority=p)
                for p in priorities[start : start + BATCH]
            )
        )


def drain(backend: Any) -> list[float]:
    """Claim 8 at a time until nothing is due; the wall time of each claim call."""
    times = []
    while True:
        started = time.perf_counter()
        claims = backend.claim_tasks(GROUP, WORKER, 8)
        times.append(time.perf_counter() - started)
        if not claims:
            return times
        backend.settle(*(Outcome.succeeded(c, b"null") for c in claims))


def shape(backend: Any, name: str, due: int, waiting: int) -> list[float]:
    """Fill one shape in an emptied namespace and drain it."""
    backend.destroy_all()
    if name == "spread":
        put(backend, [(-50, -10, 0, 10, 50)[i % 5] for i in range(due)])
    else:
        put(backend, [0] * due)
    if name == "backlog":
        later = time.time() + 3600
        for priority in OTHER_PRIORITIES:
            put(backend, [priority] * waiting, due=later)
    return drain(backend)


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(prog="python -m benchmarks.claim_priorities", description=__doc__)
    ap.add_argument("--url", required=True)
    ap.add_argument("--due", type=int, default=10_000)
    ap.add_argument("--waiting", type=int, default=100_000)
    ap.add_argument("--rounds", type=int, default=2)
    args = ap.parse_args(argv)
    with session(args.url, BenchHandler(RecorderKeys.new())) as s:
        backend = s.kit.backend
        backend.refresh_leases([WORKER], 3600)
        medians: dict[str, list[float]] = {}
        for _ in range(args.rounds):
            for name in ("plain", "spread", "backlog"):
                times = shape(backend, name, args.due, args.waiting)
                medians.setdefault(name, []).append(statistics.median(times) * 1e6)
        for name, values in medians.items():
            each = ", ".join(f"{v:.0f}" for v in values)
            print(f"{name:8} claim of 8: {min(values):6.0f} us median call (rounds: {each})")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
