"""list_tasks with a million finished tasks kept: how long a page takes.

    python -m benchmarks.listing --url URL [--finished 1000000] [--failed-every 100]
        [--groups 4] [--calls 20] [--analyze]

Fills a namespace of its own through the Backend API, as an application's
history would be (tasks put in bulk, claimed by a filler worker id and
settled, ``--batch`` at a time): ``--finished`` tasks over ``--groups``
groups, every ``--failed-every``-th one failed, the rest succeeded. Then
times ``list_tasks`` pages (50 tasks): the first page and a page 20 pages
deep (``before`` = the last id of the page before), of FAILED and of
SUCCEEDED, with and without a group, ``--calls`` times each; prints the
median and the slowest call in milliseconds. Not a test: the figures go
to RESULTS.md. ``--analyze`` (SQL URLs) refreshes the planner's statistics
after the fill, as autovacuum or an operator's ANALYZE would on a server
that is not the shared test one (whose autovacuum is off).
"""

from __future__ import annotations

import argparse
import statistics
import time
from collections.abc import Callable
from typing import Any

from taskkit_core import Outcome, Task, TaskState

from .handler import TASK, BenchHandler
from .recorder import RecorderKeys
from .target import Session, session

FILLER = "tkbench-lister"
PAGE = 50
DEEP_PAGES = 20


def fill(s: Session, finished: int, failed_every: int, groups: int, batch: int) -> float:
    """Put ``finished`` tasks and finish them; the seconds it took."""
    backend = s.kit.backend
    data = s.handler.encode_data("g0", TASK, 0)
    backend.refresh_leases([FILLER], 24 * 3600)
    started, made = time.perf_counter(), 0
    while made < finished:
        size = min(batch, finished - made)
        group = f"g{(made // batch) % groups}"
        backend.put_tasks(*[Task.init(group, TASK, data) for _ in range(size)])
        claims = backend.claim_tasks(group, FILLER, size)
        backend.settle(*[_outcome(c, made + i, failed_every) for i, c in enumerate(claims)])
        made += size
        if made % 100_000 < batch:
            print(f"  filled {made:,} of {finished:,}", flush=True)
    backend.drop_leases([FILLER])
    return time.perf_counter() - started


def analyze(url: str, namespace: str) -> None:
    """Fresh planner statistics for the namespace's tasks table (SQL URLs only)."""
    from sqlalchemy import create_engine, text
    from sqlalchemy.pool import NullPool
    from taskkit_sql.options import OPTION_NAMES
    from taskkit_sql.urls import parse_sql_url

    engine = create_engine(parse_sql_url(url, OPTION_NAMES).sqlalchemy_url, poolclass=NullPool)
    statement = {
        "postgresql": "ANALYZE {}",
        "mysql": "ANALYZE TABLE {}",
        "mariadb": "ANALYZE TABLE {}",
    }
    sql = statement.get(engine.dialect.name, "ANALYZE").format(f"{namespace}_tasks")
    with engine.begin() as conn:
        conn.execute(text(sql))
    engine.dispose()


def _outcome(claim: Any, number: int, failed_every: int) -> Outcome:
    if number % failed_every == 0:
        return Outcome.failed(claim, "Traceback: the benchmark's failure")
    return Outcome.succeeded(claim, b"null")


def timed(call: Callable[[], Any], calls: int) -> tuple[float, float]:
    """Median and slowest of ``calls`` calls, in milliseconds."""
    times = []
    for _ in range(calls):
        started = time.perf_counter()
        call()
        times.append((time.perf_counter() - started) * 1000)
    return statistics.median(times), max(times)


def measure(s: Session, calls: int) -> list[tuple[str, float, float]]:
    backend = s.kit.backend
    figures = []
    for state in (TaskState.FAILED, TaskState.SUCCEEDED):
        for group in ("g1", None):
            page = backend.list_tasks(state, group=group, limit=PAGE)
            before = page[-1].task.id
            for _ in range(DEEP_PAGES - 1):
                page = backend.list_tasks(state, group=group, limit=PAGE, before=before)
                before = page[-1].task.id
            name = f"{state.value}, {'group g1' if group else 'every group'}"

            def first(state: TaskState = state, group: str | None = group) -> Any:
                return backend.list_tasks(state, group=group, limit=PAGE)

            def deep(
                state: TaskState = state, group: str | None = group, before: str = before
            ) -> Any:
                return backend.list_tasks(state, group=group, limit=PAGE, before=before)

            figures.append((f"{name}, first page", *timed(first, calls)))
            figures.append((f"{name}, page {DEEP_PAGES + 1}", *timed(deep, calls)))
    return figures


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(prog="python -m benchmarks.listing", description=__doc__)
    ap.add_argument("--url", required=True)
    ap.add_argument("--finished", type=int, default=1_000_000)
    ap.add_argument("--failed-every", type=int, default=100)
    ap.add_argument("--groups", type=int, default=4)
    ap.add_argument("--batch", type=int, default=5000)
    ap.add_argument("--calls", type=int, default=20)
    ap.add_argument("--analyze", action="store_true")
    args = ap.parse_args(argv)
    with session(args.url, BenchHandler(RecorderKeys.new())) as s:
        seconds = fill(s, args.finished, args.failed_every, args.groups, args.batch)
        print(f"{args.url}: {args.finished:,} finished tasks filled in {seconds:,.0f} s")
        if args.analyze:
            analyze(args.url, s.kit.backend.namespace)
        for name, median, slowest in measure(s, args.calls):
            print(f"  list_tasks({name}): median {median:.2f} ms, slowest {slowest:.2f} ms")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
