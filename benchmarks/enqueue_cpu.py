"""Client CPU per task of W1: the Kit's bulk and single enqueue, and the backend's put alone.

    python -m benchmarks.enqueue_cpu --url URL [--tasks 5000] [--singles 1000] [--rounds 5]
        [--mean] [--no-gc]

Each round puts ``--tasks`` dict items in one ``kit.initiate_tasks`` call,
the same number of ready Tasks in one ``backend.put_tasks`` call (the
backend's share), and ``--singles`` tasks one ``kit.initiate_task`` call
at a time, emptying the namespace after each; it prints the median CPU
microseconds per task of each (``time.process_time``, which moves far less
than wall time on this VM). The namespace is made and dropped by the run.
To compare trees, run it with the other tree's sources first on the path:
``PYTHONPATH=OLD/taskkit_core/src:OLD/taskkit_sql/src:OLD/taskkit_redis/src``
(it uses nothing that taskkit 0.3 lacks). ``--no-gc`` tells what of a
difference the garbage collector makes: its passes depend on how many
objects the process holds, so on which modules a tree imports. A full
pass costs this process about 36 ms (7 us a task of a 5,000-task bulk)
and lands in whichever round reaches its threshold, so a median of 5
rounds says more about that rhythm than about the code; ``--mean`` spreads
the passes over all rounds, as an application pays for them.
"""

from __future__ import annotations

import argparse
import gc
import json
import secrets
import statistics
import time
from collections.abc import Callable
from functools import partial

from taskkit_core.testing import RecordingHandler

from taskkit_core import Kit, Task

try:
    from taskkit_core.opening import connect, drop, migrate
except ImportError:  # a tree from before the registry split (taskkit 0.3)
    from taskkit_core.registry import connect, drop, migrate  # type: ignore[attr-defined,no-redef]


def cpu_per_task(work: Callable[[], object], count: int) -> float:
    """CPU microseconds per task of one call of ``work`` that handles ``count`` tasks."""
    started = time.process_time()
    work()
    return (time.process_time() - started) / count * 1e6


def measure(
    url: str, tasks: int, singles: int, rounds: int, average: Callable[[list[float]], float]
) -> dict[str, float]:
    """CPU us per task of bulk, put_tasks and single enqueue, ``average`` of ``rounds``."""
    namespace = f"w1cpu_{secrets.token_hex(3)}"
    migrate(url, namespace=namespace)
    connection = connect(url, namespace=namespace)
    kit = Kit(connection.backend, connection.bridge, RecordingHandler())
    backend = connection.backend
    figures: dict[str, list[float]] = {"kit bulk": [], "put_tasks": [], "kit single": []}
    try:
        for _ in range(rounds):
            items = [{"group": "bench", "name": "noop", "data": i} for i in range(tasks)]
            figures["kit bulk"].append(cpu_per_task(partial(kit.initiate_tasks, *items), tasks))
            backend.destroy_all()
            ready = [Task.init("bench", "noop", b"1") for _ in range(tasks)]
            figures["put_tasks"].append(cpu_per_task(partial(backend.put_tasks, *ready), tasks))
            backend.destroy_all()

            def one_by_one() -> None:
                for i in range(singles):
                    kit.initiate_task("bench", "noop", i)

            figures["kit single"].append(cpu_per_task(one_by_one, singles))
            backend.destroy_all()
    finally:
        connection.close()
        drop(url, namespace=namespace)
    return {name: round(average(values), 2) for name, values in figures.items()}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--url", required=True)
    parser.add_argument("--tasks", type=int, default=5000)
    parser.add_argument("--singles", type=int, default=1000)
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument(
        "--no-gc",
        action="store_true",
        help="switch the garbage collector off: the same figures without its passes",
    )
    parser.add_argument(
        "--mean",
        action="store_true",
        help="the mean of the rounds, not the median: collector passes counted where they fall",
    )
    args = parser.parse_args()
    if args.no_gc:
        gc.disable()
    average = statistics.fmean if args.mean else statistics.median
    result = measure(args.url, args.tasks, args.singles, args.rounds, average)
    print(args.url.split(":", 1)[0], json.dumps(result))


if __name__ == "__main__":
    main()
