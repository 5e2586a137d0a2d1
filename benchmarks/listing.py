"""How long ``list_tasks`` takes with a million finished tasks in the namespace.

    python -m benchmarks.listing --url URL [--finished 1000000] [--failed-every 10]
        [--rare 100] [--calls 20]

Issue 16 asks that listing failed tasks stay fast however many tasks finished;
this measures it rather than asserting it in a test. The namespace is filled
through the Backend API, as W5's backlog is (``deep.fill``): ``--finished``
tasks in the bench group are put, claimed by a filler worker and settled in
batches of 5,000, every ``--failed-every``-th one as failed and the others as
succeeded; before them, ``--rare`` failed tasks in a group of their own
(``rare``), so a listing of that group has to reach the oldest history. Then
each listing below runs ``--calls`` times and its median and worst wall time
are printed (milliseconds, one client, no workers running).
"""

from __future__ import annotations

import argparse
import statistics
import time
from collections.abc import Callable
from functools import partial
from typing import Any

from taskkit_core import Outcome, Task, TaskState

from .handler import GROUP, TASK, BenchHandler
from .recorder import RecorderKeys
from .target import Session, session

FILLER = "tkbench-lister"
RARE = "rare"
BATCH = 5000


def fill(s: Session, finished: int, failed_every: int, rare: int) -> dict[str, float]:
    """The finished backlog: ``rare`` failed tasks of RARE, then ``finished`` of the bench group."""
    backend = s.kit.backend
    data = s.handler.encode_data(GROUP, TASK, 0)
    backend.refresh_leases([FILLER], 24 * 3600)
    started = time.perf_counter()
    _finish(backend, [Task.init(RARE, TASK, data) for _ in range(rare)], RARE, lambda i: True)
    for start in range(0, finished, BATCH):
        tasks = [Task.init(GROUP, TASK, data) for _ in range(min(BATCH, finished - start))]
        _finish(backend, tasks, GROUP, partial(_every, start, failed_every))
    backend.drop_leases([FILLER])
    return {"fill_seconds": time.perf_counter() - started}


def _every(start: int, every: int, index: int) -> bool:
    return (start + index) % every == 0


def _finish(backend: Any, tasks: list[Task], group: str, fails: Callable[[int], bool]) -> None:
    if not tasks:
        return
    backend.put_tasks(*tasks)
    claims = backend.claim_tasks(group, FILLER, len(tasks))
    backend.settle(
        *(
            Outcome.failed(c, "ValueError: bench") if fails(i) else Outcome.succeeded(c, b"null")
            for i, c in enumerate(claims)
        )
    )


def listings(backend: Any) -> dict[str, Callable[[], Any]]:
    """The listings measured, by label."""
    middle = backend.list_tasks(TaskState.FAILED, limit=1000)[-1].task.id
    return {
        "failed, first page of 50": lambda: backend.list_tasks(TaskState.FAILED),
        "failed, a page of 50 deeper in": lambda: backend.list_tasks(
            TaskState.FAILED, before=middle
        ),
        "failed of the bench group, 50": lambda: backend.list_tasks(TaskState.FAILED, GROUP),
        f"failed of '{RARE}' (oldest), 50": lambda: backend.list_tasks(TaskState.FAILED, RARE),
        "failed, a page of 1000": lambda: backend.list_tasks(TaskState.FAILED, limit=1000),
        "succeeded, first page of 50": lambda: backend.list_tasks(TaskState.SUCCEEDED),
    }


def measure(call: Callable[[], Any], calls: int) -> tuple[float, float, int]:
    """Median and worst milliseconds of ``calls`` calls, and how many tasks the last returned."""
    times, found = [], 0
    for _ in range(calls):
        started = time.perf_counter()
        found = len(call())
        times.append((time.perf_counter() - started) * 1000)
    return statistics.median(times), max(times), found


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(prog="python -m benchmarks.listing", description=__doc__)
    ap.add_argument("--url", required=True)
    ap.add_argument("--finished", type=int, default=1_000_000)
    ap.add_argument("--failed-every", type=int, default=10)
    ap.add_argument("--rare", type=int, default=100)
    ap.add_argument("--calls", type=int, default=20)
    args = ap.parse_args(argv)
    with session(args.url, BenchHandler(RecorderKeys.new())) as s:
        filled = fill(s, args.finished, args.failed_every, args.rare)
        print(
            f"{args.url}: {args.finished:,} finished tasks (1 in {args.failed_every} failed) "
            f"+ {args.rare} failed in '{RARE}', filled in {filled['fill_seconds']:.0f} s"
        )
        for label, call in listings(s.kit.backend).items():
            median, worst, found = measure(call, args.calls)
            print(f"  {label:<34} {median:8.2f} ms median, {worst:8.2f} ms worst ({found} tasks)")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
