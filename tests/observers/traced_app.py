"""The handler of the observer tests, importable by worker processes as ``observers.traced_app``.

``echo`` returns its data, ``fail`` raises ValueError, ``flaky`` raises
on its first attempt. With TASKKIT_TEST_SPANS set to a file, importing the
module (as every spawned worker process does, to unpickle the handler)
configures the OpenTelemetry SDK to write each finished span there as one
JSON line, and instruments taskkit: what an application does in the
module of its handler.
"""

from __future__ import annotations

import json
import os
from typing import Any

from taskkit_core import Task


class Handler:
    def handle(self, task: Task) -> Any:
        data = json.loads(task.data)
        if task.name == "fail" or (task.name == "flaky" and task.retry_count == 0):
            raise ValueError(f"failing on purpose: {data}")
        return data

    def get_retry_interval(self, task: Task, exception: Exception) -> float | None:
        return 0.1 if task.name == "flaky" else None

    def encode_data(self, group: str, task_name: str, data: Any) -> bytes:
        return json.dumps(data).encode()

    def encode_result(self, task: Task, result: Any) -> bytes:
        return json.dumps(result).encode()

    def decode_result(self, task: Task, encoded: bytes) -> Any:
        return json.loads(encoded)


handler = Handler()


def _trace_to_file(path: str) -> None:
    from opentelemetry.sdk.trace import TracerProvider
    from opentelemetry.sdk.trace.export import ConsoleSpanExporter, SimpleSpanProcessor
    from taskkit_core.observers.otel import instrument

    out = open(path, "a", buffering=1)  # noqa: SIM115 - open for the life of the process
    provider = TracerProvider()
    exporter = ConsoleSpanExporter(out=out, formatter=lambda span: span.to_json(indent=None) + "\n")
    provider.add_span_processor(SimpleSpanProcessor(exporter))
    instrument(tracer_provider=provider)


if os.environ.get("TASKKIT_TEST_SPANS"):
    _trace_to_file(os.environ["TASKKIT_TEST_SPANS"])
