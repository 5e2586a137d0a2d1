"""One worker process's start-up, step by step (run by ``benchmarks.startup --trace``).

    python -m benchmarks.startup_trace URL NAMESPACE RECORD_FILE

Imports nothing of taskkit at module level, so the first step's time is the
interpreter's own. Prints one JSON line: each step's name and the time it
ended (``time.time()``), and ``cpu <step>``: the CPU seconds the process
had used by then.
"""

from __future__ import annotations

import json
import sys
import time
from pathlib import Path

TIMEOUT = 30.0


def _mark(marks: dict[str, float], step: str) -> None:
    marks[step] = time.time()
    marks[f"cpu {step}"] = time.process_time()


def main(url: str, namespace: str, record_file: str) -> None:
    marks: dict[str, float] = {}
    _mark(marks, "interpreter")
    import taskkit_core.worker.process  # noqa: F401  (what unpickling a TaskkitProcess imports)

    _mark(marks, "import taskkit_core")
    from taskkit_core.opening import connect
    from taskkit_core.worker.plan import RuntimeConfig
    from taskkit_core.worker.runtime import WorkerRuntime

    from .startup_handler import GROUP, StartHandler, first_start

    _mark(marks, "import the handler")
    connection = connect(url, namespace=namespace)
    _mark(marks, "open the backend")
    config = RuntimeConfig.build({GROUP: 8})
    handler = StartHandler(Path(record_file))
    runtime = WorkerRuntime(connection.backend, connection.bridge, handler, config)
    runtime.start(handle_events=False)
    _mark(marks, "start the runtime")
    marks["first task started"] = first_start(Path(record_file), TIMEOUT)
    print(json.dumps(marks), flush=True)
    runtime.abort()
    connection.close()


if __name__ == "__main__":
    main(*sys.argv[1:4])
