"""Measure how long a SIGKILLed worker process's task takes to finish on another worker.

Run from the repository root:

    uv run python tests/sql/measure_recovery.py [--runs 3] [URL ...]

Without URLs it measures a SQLite file, TASKKIT_TEST_POSTGRES_URL and
TASKKIT_TEST_MYSQL_URL (defaulting to the local servers). Workers use the
default WorkerSettings (worker_ttl 10 s, heartbeat every 3.3 s,
restore_interval 2 s, polling 1 s for one thread). Each run: a victim
process claims a 0.5 s task, a rescuer process starts, the victim is
SIGKILLed 0.2 s into the task, and the clock runs until the task's result
is stored. The expected bound is worker_ttl + restore_interval + polling
interval + the task itself, less the time since the victim's last
heartbeat.
"""

from __future__ import annotations

import argparse
import os
import secrets
import signal
import statistics
import tempfile
import time
from pathlib import Path

from taskkit_core.kit import Kit
from taskkit_core.opening import drop, migrate
from taskkit_core.testing import RecordingHandler, wait_until
from taskkit_core.url import mask_url

TASK_SECONDS = 0.5


def measure_once(kit: Kit) -> float:
    """Seconds from the SIGKILL of the worker holding a task to that task's result."""
    (victim,) = kit.start_processes(1, {"g": 1})
    rescuer = None
    try:
        result = kit.initiate_task("g", "sleep", TASK_SECONDS)
        wait_until(lambda: kit.backend.get_stage_info(1), timeout=60, interval=0.01)
        (rescuer,) = kit.start_processes(1, {"g": 1})
        time.sleep(0.2)
        assert victim.pid is not None
        os.kill(victim.pid, signal.SIGKILL)
        killed = time.monotonic()
        result.get(timeout=120)
        return time.monotonic() - killed
    finally:
        for process in (victim, rescuer):
            if process is not None and process.is_alive():
                process.kill()
            if process is not None:
                process.join(30)


def measure(url: str, runs: int) -> list[float]:
    namespace = f"tk_recovery_{secrets.token_hex(4)}"
    migrate(url, namespace=namespace)
    kit = Kit.from_url(url, RecordingHandler(), namespace=namespace)
    try:
        return [measure_once(kit) for _ in range(runs)]
    finally:
        kit.close()
        drop(url, namespace=namespace)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("urls", nargs="*")
    args = parser.parse_args()
    urls = args.urls or [
        f"sqlite:///{Path(tempfile.mkdtemp()) / 'recovery.db'}",
        os.environ.get("TASKKIT_TEST_POSTGRES_URL", "postgresql://postgres@127.0.0.1:5432/test"),
        os.environ.get("TASKKIT_TEST_MYSQL_URL", "mysql://root@127.0.0.1:3306/test"),
    ]
    for url in urls:
        times = measure(url, args.runs)
        print(
            f"{mask_url(url)}: SIGKILL to result in "
            f"{', '.join(f'{t:.1f}' for t in times)} s "
            f"(mean {statistics.mean(times):.1f} s, max {max(times):.1f} s; "
            f"task itself {TASK_SECONDS} s)",
            flush=True,
        )


if __name__ == "__main__":
    main()
