"""Wall time of one task's three round trips: its put, its claim and its settle.

    python -m benchmarks.roundtrips --url URL [--tasks 1500] [--skip 200]

One task at a time through the backend alone (no Kit, no worker threads):
``put_tasks`` of one task, ``claim_tasks`` of it, ``settle`` of its
success. Prints the median milliseconds of each after the first ``--skip``
(connections warm, statements prepared), and the claim's client CPU. To
compare trees, run it with the other tree's sources first on PYTHONPATH.
"""

from __future__ import annotations

import argparse
import secrets
import statistics
import time

from taskkit_core import Outcome, Task

try:
    from taskkit_core.opening import connect, drop, migrate
except ImportError:  # a tree from before the registry split (taskkit 0.3)
    from taskkit_core.registry import connect, drop, migrate  # type: ignore[attr-defined,no-redef]


def measure(url: str, tasks: int, skip: int) -> dict[str, float]:
    """Median ms of put, claim and settle of one task, and the claim's CPU ms."""
    namespace = f"rt_{secrets.token_hex(3)}"
    migrate(url, namespace=namespace)
    connection = connect(url, namespace=namespace)
    backend = connection.backend
    times: dict[str, list[float]] = {"put": [], "claim": [], "claim cpu": [], "settle": []}
    try:
        for _ in range(tasks):
            task = Task.init("g", "n", b"1")
            started = time.perf_counter()
            backend.put_tasks(task)
            times["put"].append(time.perf_counter() - started)
            started, cpu = time.perf_counter(), time.process_time()
            (claim,) = backend.claim_tasks("g", "w1", 1)
            times["claim"].append(time.perf_counter() - started)
            times["claim cpu"].append(time.process_time() - cpu)
            started = time.perf_counter()
            backend.settle(Outcome.succeeded(claim, b"r"))
            times["settle"].append(time.perf_counter() - started)
    finally:
        connection.close()
        drop(url, namespace=namespace)
    return {name: round(statistics.median(v[skip:]) * 1e3, 3) for name, v in times.items()}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--url", required=True)
    parser.add_argument("--tasks", type=int, default=1500)
    parser.add_argument("--skip", type=int, default=200)
    args = parser.parse_args()
    print(args.url.split(":", 1)[0], measure(args.url, args.tasks, args.skip))


if __name__ == "__main__":
    main()
