"""What the benchmark's no-op task costs by itself: the recorder, from 8 threads of one process.

    python -m benchmarks.recorder_cost [--tasks 5000] [--threads 8] [--runs 3]

Every peer's task (and ours) records its start with one pipelined HSET +
INCR through redis-py (``recorder.TaskRecorder``). This calls only that,
``--tasks`` times from ``--threads`` threads, and prints the process's CPU
per call and the calls per second: the part of a W2 drain's worker CPU
that is the recorder's, and the rate one process could reach if the queue
cost nothing.
"""

from __future__ import annotations

import argparse
import threading
import time

from .recorder import Recorder, RecorderKeys, TaskRecorder


def measure(tasks: int, threads: int) -> tuple[float, float]:
    """CPU microseconds per record and records per second, for one run."""
    keys = RecorderKeys.new()
    recorder = TaskRecorder(keys)
    recorder.record(0)  # the client and its pool, made before the clock starts

    def record_every(start: int) -> None:
        for i in range(start, tasks, threads):
            recorder.record(i)

    workers = [threading.Thread(target=record_every, args=(k,)) for k in range(threads)]
    cpu, wall = time.process_time(), time.perf_counter()
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join()
    cpu, wall = time.process_time() - cpu, time.perf_counter() - wall
    Recorder(keys).close()
    return cpu / tasks * 1e6, tasks / wall


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(prog="python -m benchmarks.recorder_cost")
    ap.add_argument("--tasks", type=int, default=5000)
    ap.add_argument("--threads", type=int, default=8)
    ap.add_argument("--runs", type=int, default=3)
    args = ap.parse_args(argv)
    for _ in range(args.runs):
        cpu, rate = measure(args.tasks, args.threads)
        print(f"recorder alone, {args.threads} threads: {cpu:.0f} us CPU a task, {rate:,.0f}/s")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
