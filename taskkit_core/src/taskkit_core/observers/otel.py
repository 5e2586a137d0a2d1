"""OpenTelemetry traces (``taskkit[otel]``, on opentelemetry-api): from enqueue to run.

``instrument()`` makes this module an observer of this process and of the
worker processes started afterwards (through ``TASKKIT_OBSERVERS``). Then:

- each task put gets a producer span ``publish <group>``, a child of the
  span current at the put (a web request, say), and carries the span's
  W3C trace context (``traceparent``, ``tracestate``) in its headers;
- each run gets a consumer span ``process <group>``, a child of that
  context, made current in the worker thread around the handler, so the
  handler's own spans nest inside it; a failed or retried attempt records
  its exception (type, message, traceback) and sets the span's status to
  error.

Attributes follow OpenTelemetry's messaging semantic conventions:
``messaging.system`` "taskkit", ``messaging.destination.name`` the group,
``messaging.operation.type`` "publish" or "process", ``messaging.message.id``
the task id, ``messaging.message.body.size`` the payload size; and
``taskkit.task.name``, ``taskkit.attempt``, ``taskkit.outcome``,
``taskkit.queue_wait`` (seconds) for what the conventions do not cover.

taskkit only uses the API: the application chooses the SDK, its exporters
and sampling (as OpenTelemetry asks of libraries), in every process that
runs workers too, for example in the module that defines the handler.
"""

from __future__ import annotations

import sys
import threading
from collections.abc import Mapping
from typing import Any

from opentelemetry import context, propagate, trace
from opentelemetry.trace import Span, SpanKind, Status, StatusCode

from ..hookspecs import hookimpl
from ..task import Task
from ..version import VERSION
from .events import TaskEvent
from .setup import export_observer, register_observer, unregister_observer

SYSTEM = "taskkit"
PLUGIN_NAME = "taskkit:otel"

_provider: trace.TracerProvider | None = None
_producers: dict[str, Span] = {}
_runs: dict[tuple[str, int], Span] = {}
"""The consumer span of each running attempt, by (task id, attempt)."""
_attached = threading.local()
"""The context token of the run this worker thread made current."""


def instrument(tracer_provider: trace.TracerProvider | None = None) -> None:
    """Trace enqueues and runs here and in worker processes started from now on.

    ``tracer_provider`` defaults to the global one (``trace.set_tracer_provider``).
    """
    global _provider  # noqa: PLW0603 - the provider of this process's observer
    _provider = tracer_provider
    register_observer(sys.modules[__name__], name=PLUGIN_NAME)
    export_observer(__name__)


def uninstrument() -> None:
    """Stop tracing in this process (worker processes keep what they started with)."""
    unregister_observer(sys.modules[__name__])


def _tracer() -> trace.Tracer:
    return trace.get_tracer("taskkit", VERSION, tracer_provider=_provider)


def _attributes(task: Task, operation: str) -> dict[str, Any]:
    return {
        "messaging.system": SYSTEM,
        "messaging.destination.name": task.group,
        "messaging.operation.type": operation,
        "messaging.operation.name": operation,
        "messaging.message.id": task.id,
        "messaging.message.body.size": len(task.data),
        "taskkit.task.name": task.name,
    }


def _record_error(span: Span, error: str | None) -> None:
    """An exception event from a traceback's text (the exception object stayed in the worker)."""
    text = (error or "").strip()
    if not text:  # a retried outcome carries no message
        span.set_status(Status(StatusCode.ERROR, "the attempt raised; the task is retried"))
        return
    last = text.splitlines()[-1]
    kind, _, message = last.partition(": ")
    span.add_event(
        "exception",
        {"exception.type": kind, "exception.message": message, "exception.stacktrace": text},
    )
    span.set_status(Status(StatusCode.ERROR, last))


# -- the producer side ----------------------------------------------------------------


@hookimpl
def taskkit_task_enqueuing(task: Task) -> Mapping[str, str]:
    span = _tracer().start_span(
        f"publish {task.group}", kind=SpanKind.PRODUCER, attributes=_attributes(task, "publish")
    )
    _producers[task.id] = span
    carrier: dict[str, str] = {}
    propagate.inject(carrier, context=trace.set_span_in_context(span))
    return carrier


@hookimpl
def taskkit_task_enqueued(event: TaskEvent) -> None:
    span = _producers.pop(event.task.id, None)
    if span is not None:
        span.end()


@hookimpl
def taskkit_task_enqueue_failed(event: TaskEvent) -> None:
    span = _producers.pop(event.task.id, None)
    if span is not None:
        _record_error(span, event.error)
        span.end()


# -- the consumer side: one span per run, current in the worker thread ------------------


@hookimpl
def taskkit_task_started(event: TaskEvent) -> None:
    task = event.task
    parent = propagate.extract(dict(event.headers))
    attributes = _attributes(task, "process")
    attributes.update({"taskkit.attempt": event.attempt, "taskkit.retry_count": task.retry_count})
    if event.queue_wait is not None:
        attributes["taskkit.queue_wait"] = event.queue_wait
    span = _tracer().start_span(
        f"process {task.group}", context=parent, kind=SpanKind.CONSUMER, attributes=attributes
    )
    _runs[task.id, event.attempt] = span
    _attached.run = (task.id, event.attempt, context.attach(trace.set_span_in_context(span)))


def _end_run(event: TaskEvent, error: bool) -> None:
    key = (event.task.id, event.attempt)
    span = _runs.pop(key, None)
    if span is None:
        return  # the outcome of a claim that never started (released, out of attempts)
    attached = getattr(_attached, "run", None)
    if attached is not None and attached[:2] == key:  # else decided by another thread
        _attached.run = None
        context.detach(attached[2])
    if event.outcome is not None:
        span.set_attribute("taskkit.outcome", event.outcome.kind.value)
    if error:
        _record_error(span, event.error)
    span.end()


@hookimpl
def taskkit_task_succeeded(event: TaskEvent) -> None:
    _end_run(event, error=False)


@hookimpl
def taskkit_task_discarded(event: TaskEvent) -> None:
    _end_run(event, error=False)


@hookimpl
def taskkit_task_failed(event: TaskEvent) -> None:
    _end_run(event, error=True)


@hookimpl
def taskkit_task_retried(event: TaskEvent) -> None:
    _end_run(event, error=True)


@hookimpl
def taskkit_task_cancelled(event: TaskEvent) -> None:
    _end_run(event, error=True)


@hookimpl
def taskkit_task_timed_out(event: TaskEvent) -> None:
    span = _runs.get((event.task.id, event.attempt))
    if span is not None:
        span.add_event("taskkit.timeout", {"taskkit.error": event.error or ""})
