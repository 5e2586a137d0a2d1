"""The Prometheus observer: worker events into the metrics of :mod:`.metrics`.

Each hook costs one dictionary look-up and a few increments: the
labelled children of every metric are kept together per (group, task), so
no hook pays for prometheus_client's ``labels()`` after the first task of
a name (benchmarks/RESULTS.md, issue 17, measures the rest).
"""

from __future__ import annotations

from typing import Any

from ...hookspecs import hookimpl
from ..events import LeaseEvent, RestoreEvent, TaskEvent, WorkerEvent
from .metrics import Metrics, metrics
from .sampler import QueueSampler


class _Children:
    """The metric children of one (group, task name)."""

    def __init__(self, m: Metrics, group: str, name: str) -> None:
        self.running = m.running.labels(group, name)
        self.queue_wait = m.queue_wait.labels(group, name)
        self.run_time = m.run_time.labels(group, name)
        self.enqueued = m.enqueued.labels(group, name)
        self.timeouts = m.timeouts.labels(group, name)
        self._outcomes = m.outcomes
        self._names = (group, name)
        self.outcomes: dict[str, Any] = {}

    def outcome(self, kind: str) -> Any:
        child = self.outcomes.get(kind)
        if child is None:
            child = self.outcomes[kind] = self._outcomes.labels(*self._names, kind)
        return child


_children: dict[tuple[str, str], _Children] = {}
_samplers: dict[str, QueueSampler] = {}


def _of(event: TaskEvent) -> _Children:
    task = event.task
    children = _children.get((task.group, task.name))
    if children is None:
        children = _children[task.group, task.name] = _Children(metrics(), task.group, task.name)
    return children


@hookimpl
def taskkit_task_enqueued(event: TaskEvent) -> None:
    _of(event).enqueued.inc()


@hookimpl
def taskkit_task_started(event: TaskEvent) -> None:
    children = _of(event)
    children.running.inc()
    children.queue_wait.observe(event.queue_wait or 0.0)


def _ended(event: TaskEvent) -> None:
    children = _of(event)
    assert event.outcome is not None
    children.outcome(event.outcome.kind).inc()  # a StrEnum, so a str label
    if event.run_time is not None:  # it ran (not released, nor out of attempts)
        children.running.dec()
        children.run_time.observe(event.run_time)


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
    _of(event).timeouts.inc()


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
    sampler = _samplers.pop(worker.worker_id, None)
    if sampler is not None:
        sampler.stop()
