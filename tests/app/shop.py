"""The test app: typed task functions of a small shop, always imported as ``app.shop``.

``tests/`` is on the import path (pyproject's pytest ``pythonpath``, and
PYTHONPATH of the CLI tests), so worker processes under spawn and
``taskkit worker app.shop:app`` import it by that name; its second module,
``app.shop_reports``, is registered through ``include``. Tests point the app at their backend with
``app.configure(url, namespace=...)``.
"""

from __future__ import annotations

import asyncio
import os
import threading
import time
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from enum import Enum
from uuid import UUID

from taskkit_core.testing import FAST_SETTINGS

from taskkit_core import App, Retry, RetryAfter, current_task

app = App("memory://", settings=FAST_SETTINGS, include=["app.shop_reports"])


class Size(Enum):
    SMALL = "s"
    LARGE = "l"


@dataclass(frozen=True)
class Order:
    id: UUID
    placed: datetime
    total: Decimal
    size: Size
    lines: tuple[str, ...]


@dataclass(frozen=True)
class Receipt:
    order: Order
    signature: bytes
    worker_pid: int


@app.task
def add(a: int, b: int) -> int:
    return a + b


@app.task(name="shop.checkout", group="orders")
def checkout(order: Order, *, note: str = "") -> Receipt:
    return Receipt(order, f"{order.id}:{note}".encode(), os.getpid())


@app.task
def collect(first: int, *more: int, **tags: str) -> tuple[int, dict[str, str]]:
    return first + sum(more), tags


@app.task
def fail(message: str) -> None:
    raise ValueError(message)


FLAKY_RETRY = Retry(max_attempts=3, base=0.05, jitter=False, fail_on=(KeyError,))


@app.task(retry=FLAKY_RETRY)
def flaky(failures: int) -> list[int]:
    """Fails (ConnectionError) on its first ``failures`` runs; returns the attempts seen."""
    context = current_task()
    if context.retry_count < failures:
        raise ConnectionError(f"attempt {context.attempt} of {failures + 1}")
    return [context.attempt, context.retry_count]


@app.task(retry=FLAKY_RETRY)
def missing_key() -> None:
    raise KeyError("b")


@app.task
def retry_after(times: int, delay: float) -> int:
    context = current_task()
    if context.retry_count < times:
        raise RetryAfter(delay)
    return context.retry_count


@app.task
def context() -> dict[str, object]:
    task = current_task()
    return {
        "id": task.id,
        "name": task.name,
        "group": task.group,
        "attempt": task.attempt,
        "worker": task.worker_id,
        "enqueued": task.enqueued_at.isoformat(),
    }


@app.task
def wait_for_other() -> int:
    return add.delay(1, 1).get(timeout=5)


@app.task
async def async_add(a: int, b: int) -> int:
    await asyncio.sleep(0.01)
    return a + b


@app.task
async def async_context() -> list[str]:
    await asyncio.sleep(0)
    return [current_task().name, threading.current_thread().name]


RUNNING = {"now": 0, "most": 0}
_LOCK = threading.Lock()


@app.task(group="slow")
async def async_nap(seconds: float) -> int:
    """Sleeps; counts how many naps run at once in this process."""
    with _LOCK:
        RUNNING["now"] += 1
        RUNNING["most"] = max(RUNNING["most"], RUNNING["now"])
    try:
        await asyncio.sleep(seconds)
    finally:
        with _LOCK:
            RUNNING["now"] -= 1
    return os.getpid()


@app.task(group="slow")
def nap(seconds: float) -> int:
    time.sleep(seconds)
    return os.getpid()


RECORDED: list[str] = []
"""Labels in the order ``record`` ran them (in this process)."""


@app.task(group="ordered")
def record(label: str) -> str:
    RECORDED.append(label)
    return label


@app.task(priority=10, timeout=30)
def urgent() -> dict[str, object]:
    """Declared with a default priority and timeout; returns what it knows of itself."""
    task = current_task()
    return {"priority": task.priority, "timeout": task.timeout, "headers": dict(task.headers)}


CANCELLED: list[str] = []
"""Ids of the ``async_wait`` runs that were cancelled (in this process)."""


@app.task
async def async_wait(seconds: float) -> float:
    """Waits on the event loop; a cancel (its timeout) is recorded and let through."""
    try:
        await asyncio.sleep(seconds)
    except asyncio.CancelledError:
        CANCELLED.append(current_task().id)
        raise
    return seconds


@app.task
def cooperative_wait(seconds: float) -> float:
    """A sync task that stops early when its attempt is stopped."""
    context = current_task()
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        context.check_cancelled()
        time.sleep(0.02)
    return seconds
