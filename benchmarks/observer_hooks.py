"""CPU per task of the Prometheus observer's task hooks alone, called from many threads.

    python -m benchmarks.observer_hooks [--tasks 20000] [--threads 8] [--metrics-dir DIR]

Each thread calls the observer's ``taskkit_task_started`` and
``taskkit_task_succeeded`` ``--tasks`` times with one prepared event (no
backend, no hub), and the process's CPU time per task is printed, then the
run count the metrics hold after a flush (it must equal threads x tasks).
``--metrics-dir`` puts prometheus_client in its multiprocess mode, as
worker processes of a supervisor use it. To compare trees, put the other
tree's ``taskkit_core/src`` first on PYTHONPATH (benchmarks/RESULTS.md,
issue 17).
"""

from __future__ import annotations

import argparse
import os
import threading
import time
from types import SimpleNamespace


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(prog="python -m benchmarks.observer_hooks")
    ap.add_argument("--tasks", type=int, default=20_000)
    ap.add_argument("--threads", type=int, default=8)
    ap.add_argument("--metrics-dir", help="prometheus_client multiprocess files go here")
    args = ap.parse_args(argv)
    if args.metrics_dir:
        os.environ["PROMETHEUS_MULTIPROC_DIR"] = args.metrics_dir  # before prometheus_client loads
    from taskkit_core.observers.prometheus import observer
    from taskkit_core.observers.prometheus.metrics import metrics
    from taskkit_core.records import OutcomeKind

    task = SimpleNamespace(group="bench", name="noop")
    started = SimpleNamespace(task=task, queue_wait=0.003)
    ended = SimpleNamespace(
        task=task, run_time=0.0004, outcome=SimpleNamespace(kind=OutcomeKind.SUCCEEDED)
    )
    metrics()  # made once before the threads, as a worker's start makes them

    def run() -> None:
        for _ in range(args.tasks):
            observer.taskkit_task_started(started)  # type: ignore[arg-type]
            observer.taskkit_task_succeeded(ended)  # type: ignore[arg-type]

    threads = [threading.Thread(target=run) for _ in range(args.threads)]
    cpu = time.process_time()
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    per_task = (time.process_time() - cpu) / (args.tasks * args.threads) * 1e6
    flush = getattr(observer, "tallies", None)  # trees before the tallies record at once
    if flush is not None:
        flush.flush()
    runs = metrics().run_time.labels("bench", "noop")._sum.get() / 0.0004
    print(f"{args.threads} threads: {per_task:.2f} us CPU per task; runs counted {runs:.0f}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
