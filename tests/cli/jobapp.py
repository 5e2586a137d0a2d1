"""A Kit on memory://jobs, seeded on import with tasks in every state, for the job CLI tests.

Each ``taskkit`` subprocess imports it afresh (``--app jobapp:kit``), so
every command starts from the same tasks, with the fixed ids below.
"""

from __future__ import annotations

import json
from dataclasses import replace
from typing import Any

from taskkit_core.testing.support import RecordingHandler

from taskkit_core import Kit, Outcome, Task, Unique

T0 = 1_700_000_000.0
LATER = 4_000_000_000.0


def task_id(n: int) -> str:
    """Fixed, time-ordered ids: a larger n is newer."""
    return f"{n:012x}{'0' * 20}"


QUEUED, STAGED, SUCCEEDED, FAILED_1, FAILED_2, FAILED_OTHER, CANCELLED = (
    task_id(n) for n in range(1, 8)
)
TRACEBACK = 'Traceback (most recent call last):\n  File "app.py", line 3\nValueError: bad input'


def _task(n_id: str, group: str = "default", **fields: Any) -> Task:
    made = Task(n_id, group, "echo", json.dumps(n_id).encode(), T0, T0, None, 0, 3600.0)
    return replace(made, **fields)


def seed(kit: Kit) -> None:
    """One task in each state (three failed), in groups default and other."""
    backend = kit.backend
    backend.put_tasks(
        _task(QUEUED, due=LATER, priority=5, headers={"tenant": "acme"}, unique=Unique("nightly")),
        _task(STAGED),
    )
    backend.claim_tasks("default", "w1", 1)  # QUEUED is not due yet
    for n_id, group in [
        (SUCCEEDED, "default"),
        (FAILED_1, "default"),
        (FAILED_2, "default"),
        (FAILED_OTHER, "other"),
        (CANCELLED, "default"),
    ]:
        backend.put_tasks(_task(n_id, group))
        (claim,) = backend.claim_tasks(group, "w1", 1)
        outcome = {
            SUCCEEDED: Outcome.succeeded(claim, b'"ok"'),
            CANCELLED: Outcome.cancelled(claim, "cancelled while running"),
        }.get(n_id, Outcome.failed(claim, TRACEBACK))
        backend.settle(outcome)


kit = Kit.from_url("memory://jobs", RecordingHandler())  # JSON data and results
seed(kit)
