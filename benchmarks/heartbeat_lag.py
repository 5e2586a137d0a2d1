"""How late the lease refresh comes while task threads hold the GIL in long C calls.

``python -m benchmarks.heartbeat_lag --url URL [--url URL ...]`` starts one
worker runtime per URL and load (threads inside this process, as in a worker
process) whose task threads keep the GIL busy, and measures the heartbeat
with its own timing:

- ``gap``: seconds between the ends of successive lease refreshes, as the
  heartbeat thread saw them (what ``heartbeat late`` warns about). The lease
  lapses when a gap exceeds ``worker_ttl``;
- ``call``: how long one refresh call took (start to return);
- ``margin``: the least time the lease had left, read from the backend by a
  separate process every 0.1 s (its own GIL is free); negative means the
  lease lapsed. memory:// has no other process: ``-``;
- ``runs``: starts of the load tasks; more than their number means a lease
  lapsed and a task was restored and run again (a duplicate).

Loads (two task threads each): ``sleep`` (baseline), ``python`` (a pure
Python loop: the interpreter hands the GIL over every 5 ms), ``sort``
(``sorted`` of a million floats back to back: C calls of about 0.3-1 s that
never let go of the GIL) and ``long`` (three million floats, 1-3 s per call,
like a long NumPy call on object arrays). The machine's load average is
printed with every line, since other processes lengthen every slice.

``--supervised`` runs the worker as ``Kit.start`` (and ``taskkit worker``)
do: a supervisor process whose lease keeper renews the worker process's
lease (``taskkit_core/worker/lease_keeper.py``). Only the margin and the
task runs are measured then (the heartbeat runs in the child).
"""

from __future__ import annotations

import argparse
import functools
import itertools
import json
import multiprocessing
import os
import random
import secrets
import signal
import tempfile
import threading
import time
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

from taskkit_core.opening import connect, drop, lookup_backend
from taskkit_core.url import mask_url

from taskkit_core import JsonHandler, Kit, Task, WorkerSettings
from taskkit_core import migrate as migrate_storage

SIZES = {"sort": 1_000_000, "long": 3_000_000}


@functools.cache
def _floats(size: int) -> list[float]:
    return [random.random() for _ in range(size)]


class GilHandler(JsonHandler):
    """Runs ``load`` tasks: ``{"mode": ..., "seconds": ...}``; counts the starts in a file."""

    def __init__(self, starts: Path) -> None:
        self.starts = starts

    def handle(self, task: Task) -> Any:
        with self.starts.open("a") as handle:
            handle.write(task.id + "\n")
        data = self.data(task)
        end = time.monotonic() + float(data["seconds"])
        while time.monotonic() < end:
            _work(data["mode"])
        return None


def _work(mode: str) -> None:
    if mode == "sleep":
        time.sleep(0.1)
    elif mode == "python":
        sum(i * i for i in range(10_000))
    else:
        sorted(_floats(SIZES[mode]))


class RefreshTimes:
    """Wraps a backend's ``refresh_leases`` to keep (start, end) of every call."""

    def __init__(self, call: Callable[..., Any]) -> None:
        self.call = call
        self.calls: list[tuple[float, float]] = []

    def __call__(self, *args: Any, **kwargs: Any) -> Any:
        began = time.monotonic()
        try:
            return self.call(*args, **kwargs)
        finally:
            self.calls.append((began, time.monotonic()))


def watch_margin(url: str, namespace: str, seconds: float, results: Any) -> None:
    """In a process of its own: the least lease time left, read every 0.1 s."""
    connection = connect(url, namespace=namespace)
    least, deadline = float("inf"), time.monotonic() + seconds
    while time.monotonic() < deadline:
        try:
            leases = connection.backend.get_leases()
        except Exception:
            time.sleep(0.1)
            continue
        now = time.time()
        least = min([least, *(expiry - now for _, expiry in leases)])
        time.sleep(0.1)
    connection.close()
    results.put(least)


def percentile(values: Sequence[float], share: float) -> float:
    ordered = sorted(values)
    if not ordered:
        return float("nan")
    return ordered[min(len(ordered) - 1, max(0, round(share * len(ordered) + 0.5) - 1))]


def measure(url: str, load: str, args: argparse.Namespace) -> dict[str, Any]:
    """One worker on ``url`` under ``load`` for ``args.seconds``; the figures."""
    namespace = f"hblag_{secrets.token_hex(4)}"
    _, entry = lookup_backend(url)
    if entry.migrate is not None:
        migrate_storage(url, namespace=namespace)
    settings = WorkerSettings(worker_ttl=args.ttl, heartbeat_interval=args.heartbeat)
    with tempfile.TemporaryDirectory() as scratch:
        starts = Path(scratch) / "starts"
        starts.touch()
        kit = Kit.from_url(url, GilHandler(starts), settings=settings, namespace=namespace)
        watcher, results = _watch(url, namespace, args.seconds, entry.capabilities.multi_process)
        load_avg = os.getloadavg()[0]
        run = _supervised if args.supervised else _in_process
        calls = run(kit, load, args, (url, namespace, settings, starts))
        margin = results.get(timeout=60) if results is not None else None
        if watcher is not None:
            watcher.join(10)
        runs = len(starts.read_text().split())
    kit.backend.destroy_all()
    kit.close()
    if entry.migrate is not None:
        drop(url, namespace=namespace)
    return _figures(url, load, calls, margin, runs, load_avg, args)


def _watch(url: str, namespace: str, seconds: float, other_process: bool) -> tuple[Any, Any]:
    if not other_process:
        return None, None
    context = multiprocessing.get_context("spawn")
    results = context.Queue()
    watcher = context.Process(
        target=watch_margin, args=(url, namespace, seconds, results), daemon=True
    )
    watcher.start()
    return watcher, results


def _put_load(kit: Kit, load: str, args: argparse.Namespace) -> None:
    for _ in range(args.threads):
        kit.initiate_task("load", "gil", {"mode": load, "seconds": args.seconds})


def _in_process(
    kit: Kit, load: str, args: argparse.Namespace, where: tuple[Any, ...]
) -> list[tuple[float, float]]:
    """Worker threads in this process; the heartbeat's own refresh times."""
    if load in SIZES:
        _floats(SIZES[load])  # built before the clock starts
    runtime = kit.start_threads({"load": args.threads}, polling_interval=0.2)
    times = RefreshTimes(runtime.heartbeat.backend.refresh_leases)
    runtime.heartbeat.backend.refresh_leases = times  # type: ignore[method-assign]
    _put_load(kit, load, args)
    time.sleep(args.seconds)
    runtime.stop(timeout=5)
    return times.calls


def _supervised(
    kit: Kit, load: str, args: argparse.Namespace, where: tuple[Any, ...]
) -> list[tuple[float, float]]:
    """``Kit.start(1, ...)`` in a process of its own (lease keeper included); no call times."""
    supervisor = multiprocessing.get_context("spawn").Process(
        target=_supervise, args=(*where, args.threads)
    )
    supervisor.start()
    _put_load(kit, load, args)
    time.sleep(args.seconds)
    for _ in range(2):  # the second stops it at once
        if supervisor.pid is not None:
            os.kill(supervisor.pid, signal.SIGTERM)
        time.sleep(0.2)
    supervisor.join(30)
    return []


def _supervise(
    url: str, namespace: str, settings: WorkerSettings, starts: Path, threads: int
) -> None:
    kit = Kit.from_url(url, GilHandler(starts), settings=settings, namespace=namespace)
    kit.start(1, {"load": threads}, polling_interval=0.2)


def _figures(
    url: str,
    load: str,
    calls: list[tuple[float, float]],
    margin: float | None,
    starts: int,
    load_avg: float,
    args: argparse.Namespace,
) -> dict[str, Any]:
    ends = [end for _, end in calls]
    gaps = [b - a for a, b in itertools.pairwise(ends)]
    durations = [end - began for began, end in calls]
    return {
        "url": mask_url(url),
        "load": load + (" (supervised)" if args.supervised else ""),
        "ttl": args.ttl,
        "heartbeat": args.heartbeat or args.ttl / 3,
        "refreshes": len(calls),
        "gap_max": max(gaps, default=float("nan")),
        "gap_p99": percentile(gaps, 0.99),
        "gap_p50": percentile(gaps, 0.5),
        "call_max": max(durations, default=float("nan")),
        "call_p50": percentile(durations, 0.5),
        "margin": margin,
        "runs": starts,
        "tasks": args.threads,
        "load_avg": (load_avg, os.getloadavg()[0]),
    }


def line(f: dict[str, Any]) -> str:
    margin = "-" if f["margin"] is None else f"{f['margin']:.2f}"
    return (
        f"| {f['url']} | {f['load']} | {f['ttl']:g}/{f['heartbeat']:.2f} | {f['refreshes']} "
        f"| {f['gap_max']:.2f} | {f['gap_p99']:.2f} | {f['gap_p50']:.2f} | {f['call_max']:.2f} "
        f"| {f['call_p50']:.3f} | {margin} | {f['runs']}/{f['tasks']} "
        f"| {f['load_avg'][0]:.1f}-{f['load_avg'][1]:.1f} |"
    )


HEADER = (
    "| backend | load | ttl/heartbeat s | refreshes | gap max | gap p99 | gap p50 | call max "
    "| call p50 | least margin | task runs | load avg |\n"
    "|---|---|---|---|---|---|---|---|---|---|---|---|"
)


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m benchmarks.heartbeat_lag")
    parser.add_argument("--url", action="append", required=True)
    parser.add_argument("--load", default="sleep,python,sort,long")
    parser.add_argument("--seconds", type=float, default=60.0)
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--ttl", type=float, default=WorkerSettings().worker_ttl)
    parser.add_argument("--heartbeat", type=float, default=None)
    parser.add_argument(
        "--supervised",
        action="store_true",
        help="run the worker as Kit.start does (a supervisor keeps the lease); "
        "only the margin and the task runs are measured",
    )
    parser.add_argument("--json", help="append each result as a JSON line to this file")
    args = parser.parse_args(argv)
    print(HEADER, flush=True)
    for url in args.url:
        for load in args.load.split(","):
            figures = measure(url, load, args)
            print(line(figures), flush=True)
            if args.json:
                with open(args.json, "a", encoding="utf-8") as handle:
                    handle.write(json.dumps(figures) + "\n")
    return 0


if __name__ == "__main__":
    threading.current_thread().name = "main"
    raise SystemExit(main())
