"""The Prometheus observer: worker events into the metrics of :mod:`.metrics`.

Each hook does a few dictionary look-ups and increments: the labelled
children of each metric are kept per (group, task) so no hook pays for
prometheus_client's ``labels()`` after the first task of a name.
"""

from __future__ import annotations

from typing import Any

from ...hookspecs import hookimpl
from ..events import LeaseEvent, RestoreEvent, TaskEvent, WorkerEvent
from .metrics import metrics
from .sampler import QueueSampler

_children: dict[tuple[Any, ...], Any] = {}
_samplers: dict[str, QueueSampler] = {}


def _child(metric: Any, *labels: str) -> Any:
    key = (id(metric), *labels)
    child = _children.get(key)
    if child is None:
        child = _children[key] = metric.labels(*labels)
    return child


def _names(event: TaskEvent) -> tuple[str, str]:
    return event.task.group, event.task.name


@hookimpl
def taskkit_task_enqueued(event: TaskEvent) -> None:
    _child(metrics().enqueued, *_names(event)).inc()


@hookimpl
def taskkit_task_claimed(event: TaskEvent) -> None:
    m, names = metrics(), _names(event)
    _child(m.claimed, *names).inc()
    _child(m.in_flight, *names, "claimed").inc()


@hookimpl
def taskkit_task_started(event: TaskEvent) -> None:
    m, names = metrics(), _names(event)
    _child(m.in_flight, *names, "claimed").dec()
    _child(m.in_flight, *names, "running").inc()
    _child(m.queue_wait, *names).observe(event.queue_wait or 0.0)


def _ended(event: TaskEvent) -> None:
    m, names = metrics(), _names(event)
    assert event.outcome is not None
    _child(m.outcomes, *names, event.outcome.kind.value).inc()
    if event.run_time is None:  # never started: released, or out of attempts
        _child(m.in_flight, *names, "claimed").dec()
    else:
        _child(m.in_flight, *names, "running").dec()
        _child(m.run_time, *names).observe(event.run_time)


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
    _child(metrics().timeouts, *_names(event)).inc()


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
