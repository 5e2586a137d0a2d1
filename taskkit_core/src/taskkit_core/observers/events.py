"""What observers receive: one small record per event, built only when an observer listens.

Times are seconds: ``at`` on the wall clock (``time.time()``) of the process
that saw the event; durations from the monotonic clock where one process
saw both ends (run time), from the wall clock where they span processes
(queue wait: from the task's due time, or its creation when that is later,
to the start of the run).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, NamedTuple

from ..records import Outcome, StageInfo
from ..task import Task

if TYPE_CHECKING:
    from ..backend import Backend
    from ..settings import WorkerSettings


class TaskEvent(NamedTuple):
    """One step in the life of a task (a named tuple: made per task, so cheap to build).

    ``worker_id`` and ``attempt`` are None and 0 on the producer side
    (enqueue). ``queue_wait`` is set from ``started`` on; ``run_time`` on the
    outcome of a run (not on a claim released before it started). ``error``
    is the traceback or message of a failed, retried, timed-out or cancelled
    attempt, or of a failed put. ``outcome`` is what the worker settles.
    """

    task: Task
    at: float
    worker_id: str | None = None
    attempt: int = 0
    queue_wait: float | None = None
    run_time: float | None = None
    error: str | None = None
    outcome: Outcome | None = None

    @property
    def headers(self) -> Mapping[str, str]:
        """The task's headers (trace context travels in them)."""
        return self.task.headers


@dataclass(frozen=True)
class WorkerEvent:
    """A worker runtime (one per worker process) that started or stopped.

    ``backend`` is the runtime's own connection: an observer may read from
    it (the Prometheus observer samples queue depths through it), never
    close it.
    """

    worker_id: str
    host: str
    pid: int
    threads: Mapping[str, int]
    settings: WorkerSettings
    backend: Backend
    at: float


@dataclass(frozen=True)
class LeaseEvent:
    """A refresh of a worker's lease: ``gap`` seconds after the previous one.

    ``lag`` is how much later than planned it came (``gap - interval``,
    at least 0); a refresh is late when the gap exceeds half of ``ttl``.
    """

    worker_id: str
    gap: float
    interval: float
    ttl: float
    at: float

    @property
    def lag(self) -> float:
        return max(0.0, self.gap - self.interval)


@dataclass(frozen=True)
class RestoreEvent:
    """Tasks of dead workers that a restorer put back in the queue, with their stages."""

    stages: list[StageInfo]
    at: float
