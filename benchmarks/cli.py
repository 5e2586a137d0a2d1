"""``python -m benchmarks --url URL ...``: run the workloads, print the table, save JSON.

Every measured run is a child process (``benchmarks.runone``) in a process
group of its own, killed with everything it started if it outlives its
hard limit; W1 and W2 runs alternate rep by rep, then W3, W5 and idle.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

from rich.console import Console
from taskkit_core.url import mask_url

from .idle import kind_of
from .machine import describe_machine, server_version
from .recorder import DEFAULT_RECORDER_URL
from .report import markdown_table, plot, print_table, summarize

ALL_WORKLOADS = ("W1", "W2", "W3", "W5", "idle")
ROOT = Path(__file__).resolve().parent.parent
console = Console(stderr=True)


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    ap = argparse.ArgumentParser(
        prog="python -m benchmarks",
        description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    ap.add_argument(
        "--url",
        action="append",
        required=True,
        help="backend URL; repeat to measure several backends in one go",
    )
    ap.add_argument(
        "--workloads",
        default=",".join(ALL_WORKLOADS),
        help="comma-separated subset of W1,W2,W3,W5,idle (default: all)",
    )
    ap.add_argument("--runs", type=int, default=3, help="runs per workload (median reported)")
    ap.add_argument("--tasks", type=int, default=5000, help="N of W1, W2 and W5")
    ap.add_argument("--threads", type=int, default=8, help="worker threads per process")
    ap.add_argument("--latency-tasks", type=int, default=200, help="tasks of W3")
    ap.add_argument("--interval", type=float, default=0.020, help="W3 seconds between tasks")
    ap.add_argument("--timeout", type=float, default=120.0, help="bound of every wait, s")
    ap.add_argument("--deep-queued", type=int, default=100_000, help="W5 tasks queued")
    ap.add_argument("--deep-done", type=int, default=1_000_000, help="W5 finished tasks kept")
    ap.add_argument("--deep-timeout", type=float, default=3600.0, help="W5 hard limit, s")
    ap.add_argument("--idle-warmup", type=float, default=5.0, help="s before idle counting")
    ap.add_argument("--idle-window", type=float, default=20.0, help="s per idle window")
    ap.add_argument("--idle-windows", type=int, default=3, help="idle windows (median)")
    ap.add_argument(
        "--recorder-url",
        default=DEFAULT_RECORDER_URL,
        help="Redis where tasks record their start (default: DB 15)",
    )
    ap.add_argument("--json", type=Path, help="write every run and the summary here")
    ap.add_argument("--markdown", type=Path, help="write the summary table here (Markdown)")
    ap.add_argument("--plot", type=Path, help="write a PNG of W2 and W3 (needs matplotlib)")
    args = ap.parse_args(argv)
    unknown = set(args.workloads.split(",")) - set(ALL_WORKLOADS)
    if unknown:
        ap.error(f"unknown workload(s) {sorted(unknown)}; choose from {ALL_WORKLOADS}")
    return args


def _spec(args: argparse.Namespace, url: str, workload: str, **extra: Any) -> dict[str, Any]:
    return {
        "url": url,
        "workload": workload,
        "tasks": args.tasks,
        "threads": args.threads,
        "latency_tasks": args.latency_tasks,
        "interval": args.interval,
        "timeout": args.timeout,
        "runs": args.runs,
        "deep_queued": args.deep_queued,
        "deep_done": args.deep_done,
        "idle_warmup": args.idle_warmup,
        "idle_window": args.idle_window,
        "idle_windows": args.idle_windows,
        "recorder_url": args.recorder_url,
        **extra,
    }


def _hard_limit(args: argparse.Namespace, workload: str) -> float:
    if workload == "W5":
        return float(args.deep_timeout)
    if workload == "idle":
        return float(args.idle_warmup + args.idle_window * args.idle_windows + 300)
    return float(args.timeout * (1 if workload == "W1" else 2) + 120)


def run_child(spec: dict[str, Any], hard_limit: float) -> dict[str, Any]:
    """Run one spec in a child process group; kill the group if it outlives ``hard_limit``."""
    fd, out = tempfile.mkstemp(prefix="tkbench-", suffix=".json")
    os.close(fd)
    child = subprocess.Popen(
        [sys.executable, "-m", "benchmarks.runone", "--spec", json.dumps(spec), "--out", out],
        cwd=ROOT,
        stdin=subprocess.DEVNULL,
        start_new_session=True,
    )
    killed = False
    try:
        child.wait(hard_limit)
    except subprocess.TimeoutExpired:
        killed = True
    finally:
        _kill_group(child.pid)
        child.wait(10)
    try:
        res: dict[str, Any] = json.loads(Path(out).read_text())
    except (OSError, ValueError):
        reason = f"killed after {hard_limit:.0f} s" if killed else f"exit {child.returncode}"
        res = {"ok": False, "error": f"child produced no result ({reason})"}
    Path(out).unlink(missing_ok=True)
    return res


def _kill_group(pgid: int) -> None:
    """SIGKILL whatever is left in the process group of a child we started."""
    with contextlib.suppress(ProcessLookupError, PermissionError):
        os.killpg(pgid, signal.SIGKILL)


def _short(workload: str, res: dict[str, Any]) -> str:
    """One line about a finished run, for the terminal."""
    if not res.get("ok"):
        return f"[red]FAILED: {res.get('error')}[/red]"
    r = res["result"]
    if workload == "W1":
        return ", ".join(f"{k} {v['tasks_per_s']:,.0f}/s" for k, v in r.items())
    if workload.startswith("W2"):
        return (
            f"{r['completed']}/{r['n']} done, {r.get('tasks_per_s') or 0:,.0f}/s, "
            f"wall {r['wall_seconds']:.1f} s" + (" TIMEOUT" if r["timed_out"] else "")
        )
    return _short_other(workload, r)


def _short_other(workload: str, r: dict[str, Any]) -> str:
    if workload == "W3":
        return (
            f"{r['completed']}/{r['n']} done, p50 {r.get('p50_ms', 0):.1f} "
            f"p95 {r.get('p95_ms', 0):.1f} p99 {r.get('p99_ms', 0):.1f} ms"
        )
    if workload == "W5":
        return f"filled {r['done']:,} done + {r['queued']:,} queued"
    if "skipped" in r:
        return str(r["skipped"])
    return f"{r['queries_per_s']:.2f} queries/s, RSS {r['rss_mib']:.0f} MiB"


def _name(url: str, taken: dict[str, Any]) -> str:
    kind = kind_of(url)
    return kind if kind not in taken else mask_url(url)


def measure(args: argparse.Namespace, url: str, entry: dict[str, Any]) -> None:
    """Every selected workload on ``url``, results appended to ``entry['runs']``."""
    workloads = args.workloads.split(",")
    runs: dict[str, list[dict[str, Any]]] = entry["runs"]

    def do(label: str, workload: str, **extra: Any) -> None:
        console.print(f"[bold]{entry['name']}[/bold] {label} ...", end=" ")
        res = run_child(_spec(args, url, workload, **extra), _hard_limit(args, workload))
        runs.setdefault(label, []).append(res)
        console.print(_short(label, res))

    for _ in range(args.runs):
        if "W1" in workloads:
            do("W1", "W1")
        if "W2" in workloads:
            do("W2_1x8", "W2", processes=1)
            do("W2_2x8", "W2", processes=2)
    if "W3" in workloads:
        for _ in range(args.runs):
            do("W3", "W3")
    if "W5" in workloads:
        do("W5", "W5")
    if "idle" in workloads:
        do("idle", "idle")


def main(argv: list[str] | None = None) -> int:
    """Run everything asked for; 0 when every run succeeded."""
    args = parse_args(argv)
    data: dict[str, Any] = {
        "meta": {"machine": describe_machine(), "argv": sys.argv[1:], "servers": {}},
        "backends": {},
    }
    for url in args.url:
        name = _name(url, data["backends"])
        entry: dict[str, Any] = {"name": name, "url": mask_url(url), "runs": {}}
        data["backends"][name] = entry
        data["meta"]["servers"][name] = server_version(url)
        measure(args, url, entry)
        entry["summary"] = summarize(entry)
        if args.json:
            args.json.write_text(json.dumps(data, indent=1))
    data["meta"]["finished"] = time.strftime("%Y-%m-%d %H:%M:%S %z")
    data["meta"]["loadavg_end"] = list(os.getloadavg())
    if args.json:
        args.json.write_text(json.dumps(data, indent=1))
    print_table(data, Console(width=max(Console().width, 180)))
    if args.markdown:
        args.markdown.write_text(markdown_table(data) + "\n")
    if args.plot and not plot(data, args.plot):
        console.print("matplotlib is not installed: no plot (uv run --with matplotlib ...)")
    failed = any(
        not r.get("ok") for e in data["backends"].values() for rs in e["runs"].values() for r in rs
    )
    return 1 if failed else 0
