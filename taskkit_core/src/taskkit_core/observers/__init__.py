"""Observers: plugins told of every step in the life of a task and of a worker.

An observer implements hooks of :mod:`taskkit_core.observers.hookspecs`
(marked with ``taskkit_core.hookimpl``) and is found through the
``taskkit`` entry point group, ``TASKKIT_OBSERVERS`` or
:func:`register_observer` (see :mod:`taskkit_core.observers.setup`).
Two ship with taskkit: Prometheus metrics
(:mod:`taskkit_core.observers.prometheus`, ``taskkit[prometheus]``) and
OpenTelemetry traces (:mod:`taskkit_core.observers.otel`, ``taskkit[otel]``).
"""

from .events import LeaseEvent, RestoreEvent, TaskEvent, WorkerEvent
from .setup import register_observer, unregister_observer

__all__ = [
    "LeaseEvent",
    "RestoreEvent",
    "TaskEvent",
    "WorkerEvent",
    "register_observer",
    "unregister_observer",
]
