"""The benchmark's no-op task as a task function, for the A/B of the App layer.

The same work as ``BenchHandler``: record the start of task ``i`` and
return None; here through ``@app.task`` (typed arguments decoded by the
codec, the task context, routing by name) instead of a hand-written
TaskHandler. In-process only (``python -m benchmarks.inprocess --layer app``).
"""

from __future__ import annotations

from taskkit_core import App

from .handler import GROUP, TASK
from .recorder import RecorderKeys, TaskRecorder

app = App("memory://", name="bench")

_recorder: list[TaskRecorder] = []


def use_recorder(keys: RecorderKeys) -> None:
    """Record into ``keys`` from now on."""
    _recorder[:] = [TaskRecorder(keys)]


@app.task(name=TASK, group=GROUP)
def noop(i: int) -> None:
    _recorder[0].record(i)
