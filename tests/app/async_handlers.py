"""The conformance kit's RecordingHandler, with its tasks as coroutines.

Each behaviour runs as a coroutine on the worker process's event loop, the
one ``async def`` task functions run on (``taskkit_core.app.event_loop``),
while the worker thread that took the task waits for it, exactly as for an
app's async tasks. Sleeping is ``asyncio.sleep``; blocking work (waiting on
a gate or a result) is handed to a thread with ``asyncio.to_thread``, as
well-behaved async code does. Importable as ``app.async_handlers`` by worker
processes started with spawn.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from typing import Any

from taskkit_core.app.event_loop import EVENT_LOOP
from taskkit_core.testing import RecordingHandler

from taskkit_core import Task

Behaviour = Callable[[Task, Any], Any]

BLOCKING = {"gate", "wait_result", "wait_result_allowed", "stubborn"}
"""Behaviours that block their thread: run on a thread of their own."""


class AsyncRecordingHandler(RecordingHandler):
    """RecordingHandler whose behaviours are coroutines on the worker's event loop."""

    def _behaviour(self, name: str) -> Behaviour:
        blocking = super()._behaviour(name)

        def run(task: Task, data: Any) -> Any:
            return EVENT_LOOP.run(_as_coroutine(name, blocking, task, data))

        return run


async def _as_coroutine(name: str, blocking: Behaviour, task: Task, data: Any) -> Any:
    if name == "sleep":
        await asyncio.sleep(float(data))
        return data
    if name in BLOCKING:
        return await asyncio.to_thread(blocking, task, data)
    await asyncio.sleep(0)
    return blocking(task, data)
