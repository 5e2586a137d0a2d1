"""A worker program as an application writes one: ``Kit.from_url``, then ``start_processes``.

    python -m benchmarks.startup_launcher URL NAMESPACE RECORD_FILE

Prints one JSON line, ``{"pids": [...], "spawned": T}``: the worker
process's pid and the ``time.time()`` just before ``start_processes``
(spawn), then waits for SIGTERM and stops the worker (bounded). Imports
only taskkit_core and the file-recording handler, so that under spawn the
worker process re-imports nothing of the benchmarks beyond them.
"""

from __future__ import annotations

import json
import signal
import sys
import threading
import time
from pathlib import Path

from taskkit_core import Kit

from .startup_handler import GROUP, StartHandler
from .stopping import stop_processes

STOP_WAIT = 20.0


def main(url: str, namespace: str, record_file: str) -> int:
    """Start one worker process of 8 threads, report it, run until SIGTERM."""
    kit = Kit.from_url(url, StartHandler(Path(record_file)), namespace=namespace)
    done = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: done.set())
    spawned = time.time()
    processes = kit.start_processes(1, {GROUP: 8})
    kit.close()
    print(json.dumps({"pids": [p.pid for p in processes], "spawned": spawned}), flush=True)
    done.wait()
    stop_processes(processes, STOP_WAIT)
    return 0


if __name__ == "__main__":
    sys.exit(main(*sys.argv[1:4]))
