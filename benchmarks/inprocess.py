"""CPU per task of a drain and bulk enqueue rates, measured in one process.

    python -m benchmarks.inprocess --url URL [--tasks 10000] [--runs 5] [--singles 1000]
        [--deep-queued 100000 --deep-done 1000000] [--layer handler|app]

For before/after comparisons of an optimisation on this noisy VM: the
harness's W2 is wall-clock across processes, and its rates swing by 2x
between identical runs here. This runs the W2 drain with ``kit.start_threads``
(1 x ``--threads``) in this process and reports the CPU time the process
spent per task (``time.process_time()``: the worker threads, the recorder,
the driver), which moves far less, next to tasks/s and the bulk enqueue rate.
Each round first puts ``--singles`` tasks one ``initiate_task`` call at a time
(W1 single) and then the drain's tasks in one ``initiate_tasks`` call (W1
bulk), and reports the CPU microseconds of each enqueue per task too.
Run it on the old and the new tree in turn, twice, and compare medians.
With ``--deep-queued``/``--deep-done`` the namespace first gets W5's backlog
(``deep.fill``), kept across the rounds: the same drain, in a deep queue.
``--observe`` installs an observer first (``benchmarks.observers``), and
``--metrics-dir`` puts prometheus_client in multiprocess mode: the A/B runs
of issue 17 (benchmarks/RESULTS.md).
``--layer app`` puts and runs the same no-op as a task function
(``benchmarks/app_layer.py``: ``delay_many`` and ``app.start_threads``)
instead of the raw TaskHandler, for the A/B of the App layer.
"""

from __future__ import annotations

import argparse
import os
import statistics
import time
from collections.abc import Callable
from typing import Any

from taskkit_core import WorkerRuntime

from . import app_layer
from .deep import fill
from .handler import GROUP, TASK, BenchHandler
from .recorder import Recorder, RecorderKeys
from .target import Session, session

SINGLES = "bench-single"
"""The group of the tasks put one call at a time (no worker serves it)."""


def measure(
    url: str,
    tasks: int,
    runs: int,
    threads: int,
    timeout: float,
    deep: tuple[int, int] = (0, 0),
    layer: str = "handler",
    singles: int = 0,
    before_round: Callable[[int], None] | None = None,
) -> dict[str, Any]:
    """``runs`` rounds of bulk enqueue then drain; per-round figures and their medians.

    ``deep`` is W5's backlog (queued, finished) put in before the first round;
    ``before_round(index)`` runs before each (``--ab`` switches the observer).
    """
    keys = RecorderKeys.new()
    recorder = Recorder(keys)
    app_layer.use_recorder(keys)
    rounds: list[dict[str, float]] = []
    try:
        with session(url, BenchHandler(keys)) as s:
            layers = _Layers(s, layer)
            keep_backlog = any(deep)
            if keep_backlog:
                fill(s, queued=deep[0], done=deep[1], progress=lambda line: None)
            for index in range(runs):
                if before_round is not None:
                    before_round(index)
                single_cpu = _single_enqueue_cpu(s, singles) if singles else 0.0
                if not keep_backlog:
                    s.clean()
                recorder.reset()
                started, cpu = time.perf_counter(), time.process_time()
                layers.enqueue(tasks)
                bulk_rate = tasks / (time.perf_counter() - started)
                bulk_cpu = (time.process_time() - cpu) / tasks * 1e6
                cpu, wall = time.process_time(), time.perf_counter()
                runtime = layers.start_threads(threads)
                try:
                    if not recorder.wait_for(tasks, timeout):
                        raise TimeoutError(f"{tasks} tasks not drained within {timeout} s")
                    rounds.append(
                        {
                            "bulk_per_s": bulk_rate,
                            "bulk_cpu_us": bulk_cpu,
                            "single_cpu_us": single_cpu,
                            "drain_per_s": tasks / (time.perf_counter() - wall),
                            "cpu_us_per_task": (time.process_time() - cpu) / tasks * 1e6,
                        }
                    )
                finally:
                    runtime.stop(timeout=10)
    finally:
        recorder.close()
        app_layer.app.close()
    medians = {k: statistics.median(r[k] for r in rounds) for k in rounds[0]}
    return {"rounds": rounds, "medians": medians}


class _Layers:
    """Bulk enqueue and worker threads through the raw Kit or through the App layer."""

    def __init__(self, s: Session, layer: str) -> None:
        self.session = s
        self.app = layer == "app"
        if self.app:
            app_layer.app.close()
            app_layer.app.configure(s.url, namespace=s.namespace)

    def enqueue(self, tasks: int) -> None:
        if self.app:
            app_layer.noop.delay_many(app_layer.noop.call(i) for i in range(tasks))
        else:
            self.session.enqueue(list(range(tasks)), bulk=True)

    def start_threads(self, threads: int) -> WorkerRuntime:
        if self.app:
            return app_layer.app.start_threads({GROUP: threads})
        return self.session.kit.start_threads({GROUP: threads})


def _single_enqueue_cpu(s: Session, count: int) -> float:
    """CPU microseconds per task of ``count`` ``initiate_task`` calls (in another group)."""
    cpu = time.process_time()
    for i in range(count):
        s.kit.initiate_task(SINGLES, TASK, i)
    return (time.process_time() - cpu) / count * 1e6


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(prog="python -m benchmarks.inprocess", description=__doc__)
    ap.add_argument("--url", required=True)
    ap.add_argument("--tasks", type=int, default=10_000)
    ap.add_argument("--runs", type=int, default=5)
    ap.add_argument("--threads", type=int, default=8)
    ap.add_argument("--timeout", type=float, default=120.0)
    ap.add_argument("--deep-queued", type=int, default=0)
    ap.add_argument("--deep-done", type=int, default=0)
    ap.add_argument("--singles", type=int, default=1000)
    ap.add_argument("--label", default="")
    ap.add_argument("--observe", default="none", help="none, noop, prometheus, prometheus-queued")
    ap.add_argument("--metrics-dir", help="prometheus_client multiprocess files go here")
    ap.add_argument(
        "--ab",
        action="store_true",
        help="alternate rounds without and with the --observe observer (2 x --runs rounds)",
    )
    ap.add_argument("--layer", choices=["handler", "app"], default="handler")
    args = ap.parse_args(argv)
    if args.metrics_dir:
        os.environ["PROMETHEUS_MULTIPROC_DIR"] = args.metrics_dir  # before prometheus_client loads
    before_round = None
    if args.ab:
        from .observers import switch

        before_round = switch(args.observe)
    elif args.observe != "none":
        from .observers import install

        install(args.observe)
    deep = (args.deep_queued, args.deep_done)
    runs = args.runs * 2 if args.ab else args.runs
    out = measure(
        args.url,
        args.tasks,
        runs,
        args.threads,
        args.timeout,
        deep,
        args.layer,
        args.singles,
        before_round,
    )
    if args.ab:
        _print_ab(args.label or args.url, args.observe, out["rounds"])
        return 0
    m = out["medians"]
    each = ", ".join(f"{r['cpu_us_per_task']:.0f}" for r in out["rounds"])
    print(
        f"{args.label or args.url}: drain {m['drain_per_s']:,.0f} tasks/s, "
        f"{m['cpu_us_per_task']:.0f} us CPU per task (rounds: {each}); "
        f"bulk enqueue {m['bulk_per_s']:,.0f} tasks/s, {m['bulk_cpu_us']:.0f} us CPU per task; "
        f"single enqueue {m['single_cpu_us']:.0f} us CPU per task"
    )
    return 0


def _print_ab(label: str, observe: str, rounds: list[dict[str, float]]) -> None:
    """Each side's drain CPU per task (median of its rounds) and their ratio."""
    without = [r["cpu_us_per_task"] for r in rounds[0::2]]
    with_it = [r["cpu_us_per_task"] for r in rounds[1::2]]
    ratio = statistics.median(with_it) / statistics.median(without)
    print(
        f"{label}: drain CPU us per task, none {statistics.median(without):.0f} "
        f"({', '.join(f'{v:.0f}' for v in without)}), {observe} {statistics.median(with_it):.0f} "
        f"({', '.join(f'{v:.0f}' for v in with_it)}): ratio {ratio:.3f}"
    )


if __name__ == "__main__":
    raise SystemExit(main())
