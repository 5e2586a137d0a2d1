"""The benchmark's TaskHandler: a no-op task that records its start, nothing else.

The same handler as the peer harness's taskkit adapter: the payload is the
task's integer id as JSON; ``handle`` records the start and returns None;
a failed no-op is never retried (it would be a bug, not load).
"""

from __future__ import annotations

import json
from typing import Any

from taskkit_core import DiscardTask, JsonHandler, Task

from .recorder import RecorderKeys, TaskRecorder
from .sqlcount import install_from_env

GROUP = "bench"
"""The group every benchmark task is put in (as in the peer harness)."""

TASK = "noop"
"""The name of the benchmark task."""

install_from_env()  # only in an idle-cost worker process (see sqlcount)


class BenchHandler(JsonHandler):
    """Runs ``noop`` tasks of ``bench`` by recording their start; discards anything else.

    Picklable, so it reaches worker processes under every start method.
    """

    def __init__(self, keys: RecorderKeys) -> None:
        self.recorder = TaskRecorder(keys)

    def handle(self, task: Task) -> Any:
        if task.group == GROUP and task.name == TASK:
            self.recorder.record(json.loads(task.data))
            return None
        raise DiscardTask

    def get_retry_interval(self, task: Task, exception: Exception) -> float | None:
        return None
