"""A worker launched as an application launches it: a fresh interpreter, ``kit.start_processes``.

    python -m benchmarks.worker --url URL --namespace NS --threads 8 \
        --recorder-url redis://... --ts-key K --count-key K [--count-statements FILE]

Prints one JSON line ``{"pids": [...]}`` (the worker processes) once they
are started, then waits for SIGTERM and stops them (bounded). The idle-cost
measurement uses it so that the worker's memory is that of a process
forked from a small launcher, not from the benchmark driver.
"""

from __future__ import annotations

import argparse
import json
import os
import signal
import sys
import threading
from pathlib import Path

from taskkit_core import Kit

from .handler import GROUP, BenchHandler
from .recorder import RecorderKeys
from .sqlcount import ENV, install_from_env
from .stopping import stop_processes

STOP_WAIT = 20.0


def main(argv: list[str] | None = None) -> int:
    """Start the workers, report their pids, run until SIGTERM."""
    ap = argparse.ArgumentParser(prog="python -m benchmarks.worker")
    ap.add_argument("--url", required=True)
    ap.add_argument("--namespace", required=True)
    ap.add_argument("--processes", type=int, default=1)
    ap.add_argument("--threads", type=int, default=8)
    ap.add_argument("--recorder-url", required=True)
    ap.add_argument("--ts-key", required=True)
    ap.add_argument("--count-key", required=True)
    ap.add_argument("--count-statements", type=Path)
    args = ap.parse_args(argv)
    keys = RecorderKeys(url=args.recorder_url, ts=args.ts_key, count=args.count_key)
    kit = Kit.from_url(args.url, BenchHandler(keys), namespace=args.namespace)
    done = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: done.set())
    if args.count_statements:  # workers install it (see sqlcount); a forked one inherits it
        os.environ[ENV] = str(args.count_statements)
        install_from_env()
    processes = kit.start_processes(args.processes, {GROUP: args.threads})
    kit.close()  # the launcher itself sends nothing more to the backend
    print(json.dumps({"pids": [p.pid for p in processes]}), flush=True)
    done.wait()
    stop_processes(processes, STOP_WAIT)
    return 0


if __name__ == "__main__":
    sys.exit(main())
