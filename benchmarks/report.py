"""Medians over runs, the results table (terminal and Markdown), and the optional plot.

``python -m benchmarks.report results.json [--markdown F] [--plot F.png]``
renders them again from a saved ``--json`` file.
"""

from __future__ import annotations

import argparse
import importlib
import json
import sys
from pathlib import Path
from typing import Any

from rich.console import Console
from rich.table import Table

from .stats import median, spread

COLUMNS = [
    ("backend", "backend"),
    ("w1_single", "W1 single /s"),
    ("w1_bulk", "W1 bulk /s"),
    ("w2_1x8", "W2 1x8 /s"),
    ("w2_1x8_wall", "W2 1x8 incl. startup /s"),
    ("w2_2x8", "W2 2x8 /s"),
    ("w2_2x8_wall", "W2 2x8 incl. startup /s"),
    ("w3", "W3 p50 / p95 / p99 ms"),
    ("w5", "W5 1x8 /s (vs W2)"),
    ("idle_q", "idle queries/s"),
    ("idle_rss", "idle RSS MiB"),
]


def _ok(runs: list[dict[str, Any]]) -> list[dict[str, Any]]:
    return [r["result"] for r in runs if r.get("ok")]


def _drain(results: list[dict[str, Any]], key: str) -> float | None:
    return median(r.get(key) for r in results if not r.get("timed_out"))


def summarize(entry: dict[str, Any]) -> dict[str, Any]:
    """Medians (and problems) of one backend's runs."""
    runs = entry["runs"]
    w1 = _ok(runs.get("W1", []))
    s: dict[str, Any] = {
        "w1_single": median(r["single"]["tasks_per_s"] for r in w1),
        "w1_bulk": median(r["bulk"]["tasks_per_s"] for r in w1),
        "w1_single_spread": spread(r["single"]["tasks_per_s"] for r in w1),
        "w1_bulk_spread": spread(r["bulk"]["tasks_per_s"] for r in w1),
    }
    problems: list[str] = []
    for shape in ("1x8", "2x8"):
        w2 = _ok(runs.get(f"W2_{shape}", []))
        s[f"w2_{shape}"] = _drain(w2, "tasks_per_s")
        s[f"w2_{shape}_wall"] = _drain(w2, "wall_tasks_per_s")
        s[f"w2_{shape}_spread"] = spread(r.get("tasks_per_s") for r in w2)
        s[f"w2_{shape}_startup_s"] = median(r.get("worker_startup_seconds") for r in w2)
        problems += _drain_problems(f"W2 {shape}", w2)
    w3 = _ok(runs.get("W3", []))
    for p in ("p50", "p95", "p99"):
        s[f"w3_{p}"] = median(r.get(f"{p}_ms") for r in w3)
    s["w3_p99_spread"] = spread(r.get("p99_ms") for r in w3)
    problems += [f"W3: {r['completed']}/{r['n']} done" for r in w3 if r["completed"] < r["n"]]
    w5_runs = _ok(runs.get("W5", []))
    if w5_runs:
        w5 = w5_runs[0]
        s["w5_1x8"] = _drain(w5["runs"], "tasks_per_s")
        s["w5_fill"] = {k: v for k, v in w5.items() if k != "runs"}
        base = s["w2_1x8"]
        s["w5_ratio"] = s["w5_1x8"] / base if s["w5_1x8"] and base else None
        problems += _drain_problems("W5", w5["runs"])
    idle = _ok(runs.get("idle", []))
    if idle and "skipped" not in idle[0]:
        s["idle"] = idle[0]
    problems += [f"{w}: {r.get('error')}" for w, rs in runs.items() for r in rs if not r.get("ok")]
    s["problems"] = problems
    return s


def _drain_problems(name: str, results: list[dict[str, Any]]) -> list[str]:
    out = []
    for r in results:
        if r.get("timed_out"):
            out.append(f"{name}: timed out with {r['completed']}/{r['n']} done")
        if r.get("executions", 0) > r.get("completed", 0):
            out.append(f"{name}: {r['executions'] - r['completed']} duplicate executions")
    return out


def _fmt(x: float | None, digits: int = 0) -> str:
    return "—" if x is None else f"{x:,.{digits}f}"


def row(name: str, s: dict[str, Any]) -> dict[str, str]:
    """One table row of formatted cells, keyed like COLUMNS."""
    w3 = (
        f"{_fmt(s['w3_p50'], 1)} / {_fmt(s['w3_p95'], 1)} / {_fmt(s['w3_p99'], 1)}"
        if s.get("w3_p50") is not None
        else "—"
    )
    w5 = "—"
    if s.get("w5_1x8") is not None:
        ratio = s.get("w5_ratio")
        w5 = _fmt(s["w5_1x8"]) + (f" ({ratio:.2f}x)" if ratio else "")
    idle = s.get("idle") or {}
    return {
        "backend": name,
        "w1_single": _fmt(s["w1_single"]),
        "w1_bulk": _fmt(s["w1_bulk"]),
        "w2_1x8": _fmt(s.get("w2_1x8")),
        "w2_1x8_wall": _fmt(s.get("w2_1x8_wall")),
        "w2_2x8": _fmt(s.get("w2_2x8")),
        "w2_2x8_wall": _fmt(s.get("w2_2x8_wall")),
        "w3": w3,
        "w5": w5,
        "idle_q": _fmt(idle.get("queries_per_s"), 1),
        "idle_rss": _fmt(idle.get("rss_mib"), 0),
    }


def print_table(data: dict[str, Any], console: Console | None = None) -> None:
    """The results table on the terminal (rich)."""
    table = Table(title="taskkit benchmarks (medians)")
    for key, title in COLUMNS:
        table.add_column(title, justify="left" if key in ("backend", "w3") else "right")
    for name, entry in data["backends"].items():
        cells = row(name, entry["summary"])
        table.add_row(*[cells[key] for key, _ in COLUMNS])
    console = console or Console()
    console.print(table)
    for name, entry in data["backends"].items():
        for problem in entry["summary"]["problems"]:
            console.print(f"[red]{name}: {problem}[/red]")


def markdown_table(data: dict[str, Any]) -> str:
    """The results table as Markdown (for RESULTS.md)."""
    lines = [
        "| " + " | ".join(title for _, title in COLUMNS) + " |",
        "|" + "|".join("---" if k in ("backend", "w3") else "---:" for k, _ in COLUMNS) + "|",
    ]
    for name, entry in data["backends"].items():
        cells = row(name, entry["summary"])
        lines.append("| " + " | ".join(cells[key] for key, _ in COLUMNS) + " |")
    return "\n".join(lines)


def plot(data: dict[str, Any], path: Path) -> bool:
    """W2 and W3 per backend as a PNG; False when matplotlib is not installed."""
    try:
        matplotlib: Any = importlib.import_module("matplotlib")
        matplotlib.use("Agg")
        plt: Any = importlib.import_module("matplotlib.pyplot")
    except ImportError:
        return False
    names = list(data["backends"])
    sums = [data["backends"][n]["summary"] for n in names]
    fig, (ax1, ax2) = plt.subplots(1, 2, figsize=(12, 4.5))
    xs = range(len(names))
    ax1.bar([x - 0.2 for x in xs], [s.get("w2_1x8") or 0 for s in sums], 0.4, label="1 x 8")
    ax1.bar([x + 0.2 for x in xs], [s.get("w2_2x8") or 0 for s in sums], 0.4, label="2 x 8")
    ax1.set_title("W2 drain, tasks/s (first start to last)")
    ax2.bar(xs, [s.get("w3_p50") or 0 for s in sums], 0.5, label="p50")
    ax2.scatter(xs, [s.get("w3_p99") or 0 for s in sums], color="black", label="p99", zorder=3)
    ax2.set_yscale("log")
    ax2.set_title("W3 pickup latency, ms (log scale)")
    for ax in (ax1, ax2):
        ax.set_xticks(list(xs), names, rotation=20)
        ax.legend()
    fig.tight_layout()
    fig.savefig(path, dpi=100)
    plt.close(fig)
    return True


def main(argv: list[str] | None = None) -> int:
    """Print the table of a saved results file; optionally write Markdown and the plot."""
    ap = argparse.ArgumentParser(prog="python -m benchmarks.report")
    ap.add_argument("results", type=Path)
    ap.add_argument("--markdown", type=Path)
    ap.add_argument("--plot", type=Path)
    args = ap.parse_args(argv)
    data = json.loads(args.results.read_text())
    print_table(data, Console(width=180))
    if args.markdown:
        args.markdown.write_text(markdown_table(data) + "\n")
    if args.plot and not plot(data, args.plot):
        print("matplotlib is not installed: no plot")
    return 0


if __name__ == "__main__":
    sys.exit(main())
