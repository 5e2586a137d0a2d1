"""async def tasks on the worker's event loop, and asyncio callers that do not block theirs."""

from __future__ import annotations

import asyncio
import os
import subprocess
import sys
import time

import pytest

from app import shop
from app.shop import async_add, async_nap, nap
from taskkit_core import App, ResultGetTimedOut

from .conftest import StartWorkers


def test_the_group_threads_bound_how_many_coroutines_run_at_once(
    memory_shop: App, workers: StartWorkers
) -> None:
    shop.RUNNING["most"] = 0
    results = async_nap.delay_many(async_nap.call(0.2) for _ in range(12))
    started = time.monotonic()
    workers(memory_shop, {"slow": 3})
    assert {r.get(timeout=20) for r in results} == {os.getpid()}
    assert shop.RUNNING["most"] == 3
    assert time.monotonic() - started >= 0.8 - 0.05, "four rounds of three"


def test_sync_tasks_keep_their_threads_beside_async_ones(
    memory_shop: App, workers: StartWorkers
) -> None:
    sleepers = [nap.delay(0.3) for _ in range(2)]
    coroutines = [async_add.delay(i, i) for i in range(20)]
    workers(memory_shop, {"slow": 2, "default": 2})
    assert [r.get(timeout=20) for r in coroutines] == [2 * i for i in range(20)]
    assert all(r.get(timeout=20) for r in sleepers)


def test_asyncio_callers_enqueue_and_wait_without_blocking_their_loop(
    memory_shop: App, workers: StartWorkers
) -> None:
    ticks = 0

    async def ticker() -> None:
        nonlocal ticks
        while True:
            ticks += 1
            await asyncio.sleep(0.01)

    async def caller() -> tuple[int, int]:
        tick_task = asyncio.create_task(ticker())
        result = await async_nap.delay_async(0.5)
        with pytest.raises(ResultGetTimedOut):
            await result.get_async(timeout=0.05)
        before = ticks
        value = await result.get_async(timeout=10)
        tick_task.cancel()
        return value, ticks - before

    workers(memory_shop, {"slow": 1})
    pid, ticked = asyncio.run(caller())
    assert pid == os.getpid()
    assert ticked >= 10, "the caller's loop kept running while it waited"


def test_no_event_loop_is_started_for_an_app_without_async_tasks() -> None:
    program = """
import threading
from taskkit_core import App
app = App("memory://")

@app.task
def double(n: int) -> int:
    return 2 * n

if __name__ == "__main__":
    result = double.delay(21)
    with app.start_threads(polling_interval=0.1):
        assert result.get(timeout=10) == 42
        print(sorted({t.name.split("[")[0] for t in threading.enumerate()}))
"""
    done = subprocess.run(
        [sys.executable, "-c", program], capture_output=True, text=True, timeout=60, check=False
    )
    assert done.returncode == 0, done.stderr
    assert "taskkit-worker" in done.stdout and "taskkit-asyncio" not in done.stdout
