"""OpenTelemetry: a producer span per put, a consumer span per run in the worker process.

The test process traces into the SDK's in-memory exporter; the worker
process (spawned, so a fresh interpreter) configures its own SDK when it
imports the handler's module and writes its spans to a file the test
reads back. The trace context travels in the task's headers
(``Task.headers``, W3C traceparent), so one trace holds the request, the
put and the run in the other process.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from opentelemetry.sdk.trace import ReadableSpan, TracerProvider
from opentelemetry.sdk.trace.export import SimpleSpanProcessor
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter
from taskkit_core.observers import otel
from taskkit_core.observers.setup import ENV
from taskkit_core.opening import migrate

from taskkit_core import Failed, Kit

from .traced_app import Handler


@pytest.fixture
def provider(
    monkeypatch: pytest.MonkeyPatch,
) -> Iterator[tuple[TracerProvider, InMemorySpanExporter]]:
    """This process traced into memory; TASKKIT_OBSERVERS restored afterwards."""
    monkeypatch.setenv(ENV, "")
    exporter = InMemorySpanExporter()
    tracer_provider = TracerProvider()
    tracer_provider.add_span_processor(SimpleSpanProcessor(exporter))
    otel.instrument(tracer_provider=tracer_provider)
    try:
        yield tracer_provider, exporter
    finally:
        otel.uninstrument()


@pytest.fixture
def worker_run(
    provider: tuple[TracerProvider, InMemorySpanExporter],
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> dict[str, Any]:
    """A web request puts two tasks; a worker process runs them; every span, both sides."""
    tracer_provider, exporter = provider
    spans_file = tmp_path / "worker-spans.jsonl"
    monkeypatch.setenv("TASKKIT_TEST_SPANS", str(spans_file))
    url = f"sqlite:///{tmp_path / 'traced.db'}"
    migrate(url)
    kit = Kit.from_url(url, Handler())
    try:
        with tracer_provider.get_tracer("test").start_as_current_span("web request") as request:
            ok = kit.initiate_task("mail", "echo", 1)
            bad = kit.initiate_task("mail", "fail", 2)
        processes = kit.start_processes(1, {"mail": 1}, polling_interval=0.1)
        try:
            assert ok.get(timeout=60) == 1
            with pytest.raises(Failed):
                bad.get(timeout=60)
        finally:
            kit.send_shutdown_event()
            for process in processes:
                process.join(60)
    finally:
        kit.close()
    worker_spans = [json.loads(line) for line in spans_file.read_text().splitlines()]
    return {
        "request": request,
        "local": list(exporter.get_finished_spans()),
        "worker": worker_spans,
        "ids": {"ok": ok.task_id, "bad": bad.task_id},
    }


def _by_message(spans: list[dict[str, Any]], task_id: str) -> dict[str, Any]:
    (span,) = [s for s in spans if s["attributes"].get("messaging.message.id") == task_id]
    return span


def _local_by_message(spans: list[ReadableSpan], task_id: str) -> ReadableSpan:
    (span,) = [s for s in spans if (s.attributes or {}).get("messaging.message.id") == task_id]
    return span


def test_the_put_is_a_producer_span_inside_the_request(worker_run: dict[str, Any]) -> None:
    request = worker_run["request"]
    publish = _local_by_message(worker_run["local"], worker_run["ids"]["ok"])
    assert publish.name == "publish mail"
    assert publish.kind.name == "PRODUCER"
    assert publish.parent is not None
    assert publish.parent.span_id == request.get_span_context().span_id
    expected = {
        "messaging.system": "taskkit",
        "messaging.destination.name": "mail",
        "messaging.operation.type": "publish",
        "taskkit.task.name": "echo",
    }
    assert expected.items() <= dict(publish.attributes or {}).items()


def test_each_run_is_a_consumer_span_in_the_worker_process(worker_run: dict[str, Any]) -> None:
    run = _by_message(worker_run["worker"], worker_run["ids"]["ok"])
    assert run["name"] == "process mail"
    assert run["kind"] == "SpanKind.CONSUMER"
    assert run["attributes"]["messaging.operation.type"] == "process"
    assert run["attributes"]["messaging.system"] == "taskkit"
    assert run["attributes"]["taskkit.outcome"] == "succeeded"
    assert run["status"]["status_code"] == "UNSET"


def test_a_failed_run_records_its_exception(worker_run: dict[str, Any]) -> None:
    run = _by_message(worker_run["worker"], worker_run["ids"]["bad"])
    assert run["status"]["status_code"] == "ERROR"
    (exception,) = [e for e in run["events"] if e["name"] == "exception"]
    assert exception["attributes"]["exception.type"] == "ValueError"
    assert exception["attributes"]["exception.message"] == "failing on purpose: 2"
    assert "Traceback" in exception["attributes"]["exception.stacktrace"]


def test_the_trace_of_the_request_contains_the_run_in_the_other_process(
    worker_run: dict[str, Any],
) -> None:
    request = worker_run["request"].get_span_context()
    publish = _local_by_message(worker_run["local"], worker_run["ids"]["ok"])
    run = _by_message(worker_run["worker"], worker_run["ids"]["ok"])
    assert run["context"]["trace_id"] == f"0x{request.trace_id:032x}"
    assert run["parent_id"] == f"0x{publish.context.span_id:016x}"
