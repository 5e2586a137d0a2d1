"""Task functions as a type checker sees them: this module must type-check (mypy strict).

``assert_type`` fails the check when a type is lost (``get()`` returning
Any, for example). Checked by tests/app/test_typing.py and by ``./dev lint``.
"""

from __future__ import annotations

from datetime import timedelta
from typing import assert_type

from taskkit_core import App, Call, Retry, TaskContext, TaskResult, current_task

app = App("memory://")


@app.task
def add(a: int, b: int) -> int:
    return a + b


@app.task(name="fetch", group="io", retry=Retry(max_attempts=5))
async def fetch(url: str, *, attempts: int = 3) -> bytes:
    return url.encode() * attempts


@app.periodic(cron="0 6 * * *")
def nightly() -> None:
    assert_type(current_task(), TaskContext)


def calls() -> None:
    assert_type(add(1, 2), int)
    assert_type(add.delay(1, 2), TaskResult[int])
    assert_type(add.delay(1, b=2).get(timeout=5), int)
    assert_type(fetch.delay("u", attempts=1).get(), bytes)
    assert_type(add.options(delay=timedelta(seconds=5)).delay(1, 2), TaskResult[int])
    assert_type(add.call(1, 2), Call[int])
    assert_type(add.delay_many([add.call(1, 2), add.call(3, 4)]), list[TaskResult[int]])
    assert_type(nightly.delay().get(), None)


async def async_calls() -> None:
    assert_type(await fetch("u"), bytes)  # called, an async task function is its coroutine
    result = await fetch.delay_async("u")
    assert_type(result, TaskResult[bytes])
    assert_type(await result.get_async(timeout=5), bytes)
    assert_type(await add.options(eager=True).delay_async(1, 2), TaskResult[int])
