"""Measure: a worker process is SIGKILLed mid-task; when does its task finish elsewhere?

Run (not collected by pytest; it prints numbers, it asserts nothing)::

    TASKKIT_TEST_REDIS_URL=redis://127.0.0.1:6379/0 \
        uv run python tests/redis_backend/measure_recovery.py 5

Each run uses the default WorkerSettings (worker_ttl 10 s, heartbeat every
ttl/3, restore_interval 2 s) and default polling, in a fresh namespace: a
victim process (1 thread) takes a task that sleeps TASK_SECONDS, a rescuer
process is already running, the victim is SIGKILLed at a random moment of
its heartbeat cycle while the task runs, and the time from the
kill until the task's result is stored is printed, with the part spent
before the rescuer started it again. Expected: the victim's lease runs out
6.7-10 s after the kill (depending on when it last heartbeat), the
restorer notices within 2 s more, and the wake-up that a restore publishes
makes the rescuer start the task at once.
"""

from __future__ import annotations

import os
import random
import secrets
import signal
import statistics
import sys
import time
from typing import cast

from taskkit_core.kit import Kit
from taskkit_core.opening import connect
from taskkit_core.settings import WorkerSettings
from taskkit_core.testing import RecordingHandler, wait_until
from taskkit_core.worker.process import TaskkitProcess
from taskkit_redis.backend import RedisBackend

TASK_SECONDS = 4.0
HEARTBEAT = WorkerSettings().heartbeat


def pid_of(process: TaskkitProcess) -> int:
    assert process.pid is not None
    return process.pid


def one_run(url: str) -> tuple[float, float]:
    """(seconds from kill to result, seconds from kill to the task staged again)."""
    namespace = f"tkr_measure_{secrets.token_hex(4)}"
    connection = connect(url, namespace=namespace)
    kit = Kit(
        connection.backend,
        connection.bridge,
        RecordingHandler(),
        settings=WorkerSettings(),
        backend_options={"namespace": namespace},
    )
    processes: list[TaskkitProcess] = []
    try:
        (victim,) = kit.start_processes(1, {"g": 1})
        processes.append(victim)
        result = kit.initiate_task("g", "sleep", TASK_SECONDS)
        (staged,) = wait_until(lambda: kit.backend.get_stage_info(10), timeout=30)
        assert staged.worker_id.split(":")[1] == str(pid_of(victim))
        processes += kit.start_processes(1, {"g": 1})
        leases = cast(RedisBackend, connection.backend).get_leases
        wait_until(lambda: len(leases()) == 2, timeout=30)
        # the kill lands anywhere in the victim's heartbeat cycle, mid-task
        time.sleep(random.uniform(0.2, min(HEARTBEAT, TASK_SECONDS - 0.2)))
        os.kill(pid_of(victim), signal.SIGKILL)
        killed = time.monotonic()
        again = wait_until(
            lambda: [i for i in kit.backend.get_stage_info(10) if i.attempt == 2],
            timeout=60,
            interval=0.01,
        )
        restaged = time.monotonic() - killed
        assert again[0].worker_id.split(":")[1] == str(pid_of(processes[1]))
        assert result.get(timeout=60) == TASK_SECONDS
        return time.monotonic() - killed, restaged
    finally:
        for process in processes:
            if process.is_alive():
                process.kill()
            process.join(10)
        connection.backend.destroy_all()
        connection.close()


def main() -> None:
    url = os.environ.get("TASKKIT_TEST_REDIS_URL")
    if not url:
        sys.exit("set TASKKIT_TEST_REDIS_URL, e.g. redis://127.0.0.1:6379/0")
    runs = int(sys.argv[1]) if len(sys.argv) > 1 else 3
    finished, restaged = [], []
    for index in range(runs):
        done, again = one_run(url)
        finished.append(done)
        restaged.append(again)
        print(
            f"run {index + 1}: task staged again {again:.2f} s and finished "
            f"{done:.2f} s after the SIGKILL (task takes {TASK_SECONDS:.1f} s)"
        )
    for what, seconds in (("started again", restaged), ("finished", finished)):
        print(
            f"kill -> {what} on the other worker: median {statistics.median(seconds):.2f} s, "
            f"min {min(seconds):.2f} s, max {max(seconds):.2f} s over {runs} runs"
        )


if __name__ == "__main__":
    main()
