"""The Prometheus observer: worker events into the metrics of :mod:`.metrics`.

A task's hooks count into the calling thread's tally (:mod:`.tally`):
list increments, no lock; the tallies reach the metrics once a second.
The rare events (leases, restores, workers) go to the metrics at once.
"""

from __future__ import annotations

from ...hookspecs import hookimpl
from ..events import LeaseEvent, RestoreEvent, TaskEvent, WorkerEvent
from .metrics import metrics
from .sampler import QueueSampler
from .tally import tallies

_samplers: dict[str, QueueSampler] = {}


@hookimpl
def taskkit_task_enqueued(event: TaskEvent) -> None:
    tallies.of(event.task.group, event.task.name).enqueued()


@hookimpl
def taskkit_task_started(event: TaskEvent) -> None:
    tallies.of(event.task.group, event.task.name).started(event.queue_wait or 0.0)


def _ended(event: TaskEvent) -> None:
    assert event.outcome is not None
    kind = event.outcome.kind  # a StrEnum, so a str label
    tallies.of(event.task.group, event.task.name).ended(kind, event.run_time)


@hookimpl
def taskkit_task_succeeded(event: TaskEvent) -> None:
    _ended(event)


@hookimpl
def taskkit_task_failed(event: TaskEvent) -> None:
    _ended(event)


@hookimpl
def taskkit_task_retried(event: TaskEvent) -> None:
    _ended(event)


@hookimpl
def taskkit_task_discarded(event: TaskEvent) -> None:
    _ended(event)


@hookimpl
def taskkit_task_cancelled(event: TaskEvent) -> None:
    _ended(event)


@hookimpl
def taskkit_task_released(event: TaskEvent) -> None:
    _ended(event)


@hookimpl
def taskkit_task_timed_out(event: TaskEvent) -> None:
    tallies.of(event.task.group, event.task.name).timed_out()


@hookimpl
def taskkit_lease_lost(event: TaskEvent) -> None:
    metrics().leases_lost.inc()


@hookimpl
def taskkit_lease_refreshed(event: LeaseEvent) -> None:
    metrics().lease_lag.observe(event.lag)


@hookimpl
def taskkit_lease_late(event: LeaseEvent) -> None:
    metrics().leases_late.inc()


@hookimpl
def taskkit_tasks_restored(event: RestoreEvent) -> None:
    metrics().restored.inc(len(event.stages))


@hookimpl
def taskkit_worker_started(worker: WorkerEvent) -> None:
    metrics().workers.inc()
    sampler = QueueSampler(worker.backend, metrics())
    _samplers[worker.worker_id] = sampler
    sampler.start()


@hookimpl
def taskkit_worker_stopped(worker: WorkerEvent) -> None:
    metrics().workers.dec()
    tallies.flush()  # what it ran is on the next scrape
    sampler = _samplers.pop(worker.worker_id, None)
    if sampler is not None:
        sampler.stop()
