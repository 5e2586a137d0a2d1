"""The reliability suite's handler, with its work as a coroutine on the worker's event loop.

Sleeping is ``asyncio.sleep``; pure-Python and GIL-holding work is handed to
a thread with ``asyncio.to_thread``, as well-behaved async code does. Apart
from ``harness.app`` it imports only taskkit_core, so spawned worker
processes start as fast as the sync workload's (R4 counts their start-up).
"""

from __future__ import annotations

import asyncio
from typing import Any

from harness.app import ReliabilityHandler
from taskkit_core.app.event_loop import EVENT_LOOP


class AsyncReliabilityHandler(ReliabilityHandler):
    """ReliabilityHandler whose work runs as a coroutine on the worker's event loop."""

    def _work(self, data: dict[str, Any]) -> None:
        EVENT_LOOP.run(self._work_async(data))

    async def _work_async(self, data: dict[str, Any]) -> None:
        if data.get("mode", "sleep") == "sleep":
            await asyncio.sleep(float(data.get("sleep", 0)))
        else:
            await asyncio.to_thread(super()._work, data)
