"""One measured run in a child process of its own (the driver kills it if it hangs).

    python -m benchmarks.runone --spec '{"url": ..., "workload": "W2", ...}' --out result.json

The child runs in its own process group with every worker it starts, so
the driver's ``killpg`` after the hard timeout leaves nothing behind. The
result file holds ``{"ok": true, "result": {...}}`` or the error and its
traceback.
"""

from __future__ import annotations

import argparse
import json
import logging
import sys
import time
import traceback
from pathlib import Path
from typing import Any

from .deep import w5_deep
from .handler import BenchHandler
from .idle import idle_cost
from .recorder import Recorder, RecorderKeys
from .target import session
from .workloads import w1_enqueue, w2_drain, w3_latency


def run(spec: dict[str, Any]) -> dict[str, Any]:
    """Run the workload ``spec`` names on a fresh namespace; its result dict."""
    keys = RecorderKeys.new(spec["recorder_url"])
    workload = spec["workload"]
    if workload == "idle":
        return idle_cost(
            spec["url"],
            keys,
            threads=spec["threads"],
            warmup=spec["idle_warmup"],
            window=spec["idle_window"],
            windows=spec["idle_windows"],
        )
    rec = Recorder(keys)
    try:
        with session(spec["url"], BenchHandler(keys)) as s:
            return _run_on(s, rec, spec)
    finally:
        rec.close()


def _run_on(s: Any, rec: Recorder, spec: dict[str, Any]) -> dict[str, Any]:
    workload, n, timeout = spec["workload"], spec["tasks"], spec["timeout"]
    if workload == "W1":
        return w1_enqueue(s, n)
    if workload == "W2":
        return w2_drain(
            s, rec, n, processes=spec["processes"], threads=spec["threads"], timeout=timeout
        )
    if workload == "W3":
        return w3_latency(
            s,
            rec,
            spec["latency_tasks"],
            interval=spec["interval"],
            threads=spec["threads"],
            timeout=timeout,
        )
    if workload == "W5":
        return w5_deep(
            s,
            rec,
            n,
            runs=spec["runs"],
            threads=spec["threads"],
            timeout=timeout,
            queued=spec["deep_queued"],
            done=spec["deep_done"],
            progress=lambda line: print(line, file=sys.stderr, flush=True),
        )
    raise ValueError(f"unknown workload {workload!r}")


def main(argv: list[str] | None = None) -> int:
    """Parse the spec, run it, write the result file; exit 1 on failure."""
    ap = argparse.ArgumentParser(prog="python -m benchmarks.runone")
    ap.add_argument("--spec", required=True)
    ap.add_argument("--out", required=True, type=Path)
    args = ap.parse_args(argv)
    logging.basicConfig(level=logging.WARNING)
    spec = json.loads(args.spec)
    out: dict[str, Any] = {"workload": spec["workload"], "started": time.time()}
    try:
        out["result"] = run(spec)
        out["ok"] = True
    except BaseException as exc:  # report everything, as the peers' runner does
        out["ok"] = False
        out["error"] = f"{type(exc).__name__}: {exc}"
        out["traceback"] = traceback.format_exc()
    out["finished"] = time.time()
    args.out.write_text(json.dumps(out))
    return 0 if out["ok"] else 1


if __name__ == "__main__":
    sys.exit(main())
