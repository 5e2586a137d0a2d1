"""The issue-8 targets, checked against a same-run peer comparison and our own results.

    python -m benchmarks.targets --peers DEST/peers/results.json [--own results.json]

Ratios to the best peer come from the peer harness's run (the project's
adapter and the peers measured together); the absolute targets (bulk rates,
MariaDB/SQLite drain and latency) from the same run where the project ran
there. W5 and idle cost come from ``python -m benchmarks --json`` (``--own``).
Prints a Markdown table: target, measured, met or not.
"""

from __future__ import annotations

import argparse
import json
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any

PROJECT = {
    "Redis": "project-redis",
    "PostgreSQL": "project-postgres",
    "MariaDB": "project-mariadb",
    "SQLite": "project-sqlite",
}
OWN = {"Redis": "redis", "PostgreSQL": "postgres", "MariaDB": "mariadb", "SQLite": "sqlite"}


@dataclass
class Check:
    """One target: its wording, what was measured, and whether it is met (None: not measured)."""

    target: str
    measured: str
    met: bool | None


def _best_peer(
    peers: dict[str, Any], backend: str, key: str, low: bool = False
) -> tuple[str, float]:
    """(name, value) of the best non-project peer on ``backend`` for summary ``key``."""
    found = [
        (name, p["summary"][key])
        for name, p in peers.items()
        if p.get("describe", {}).get("backend") == backend
        and not name.startswith("project-")
        and not name.startswith("taskkit-")
        and p.get("summary", {}).get(key) is not None
    ]
    if not found:
        return "", float("nan")
    return min(found, key=lambda x: x[1]) if low else max(found, key=lambda x: x[1])


def _ours(peers: dict[str, Any], backend: str, key: str) -> float | None:
    entry = peers.get(PROJECT[backend], {})
    value = entry.get("summary", {}).get(key)
    return float(value) if value is not None else None


def ratio_checks(peers: dict[str, Any]) -> list[Check]:
    """Targets stated as a ratio to the best peer (same run)."""
    out = []
    for backend, key, factor, label in [
        ("Redis", "w2_tps", 2.0, "W2 1x8 Redis >= 2x best peer"),
        ("PostgreSQL", "w2_tps", 2.0, "W2 1x8 PostgreSQL >= 2x best peer"),
        ("Redis", "w1_single_tps", 1.2, "W1 single Redis >= 1.2x best peer"),
        ("PostgreSQL", "w1_single_tps", 2.0, "W1 single PostgreSQL >= 2x best peer"),
    ]:
        name, best = _best_peer(peers, backend, key)
        ours = _ours(peers, backend, key)
        out.append(_ratio(label, ours, name, best, factor))
    name, best = _best_peer(peers, "Redis", "w3_p50", low=True)
    ours = _ours(peers, "Redis", "w3_p50")
    met = None if ours is None or not name else ours <= best
    out.append(Check("W3 p50 Redis <= best peer", f"{_f(ours, 1)} ms vs {name} {best:.1f} ms", met))
    return out


def _ratio(label: str, ours: float | None, name: str, best: float, factor: float) -> Check:
    if ours is None or not name:
        return Check(label, "not measured", None)
    r = ours / best
    return Check(label, f"{ours:,.0f}/s vs {name} {best:,.0f}/s = {r:.2f}x", r >= factor)


def absolute_checks(peers: dict[str, Any]) -> list[Check]:
    """Targets stated as absolute figures, read from the project's rows of the same run."""
    out = []
    for backend, key, bound, label in [
        ("MariaDB", "w2_tps", 600, "W2 1x8 MariaDB >= 600/s"),
        ("SQLite", "w2_tps", 1000, "W2 1x8 SQLite >= 1,000/s"),
        ("Redis", "w1_bulk_tps", 30000, "W1 bulk Redis >= 30,000/s"),
        ("PostgreSQL", "w1_bulk_tps", 30000, "W1 bulk PostgreSQL >= 30,000/s"),
        ("MariaDB", "w1_bulk_tps", 10000, "W1 bulk MariaDB >= 10,000/s"),
    ]:
        ours = _ours(peers, backend, key)
        met = None if ours is None else ours >= bound
        out.append(Check(label, f"{_f(ours)}/s", met))
    for backend, ms in [("PostgreSQL", 3.0), ("MariaDB", 25.0), ("SQLite", 25.0)]:
        p50 = _ours(peers, backend, "w3_p50")
        met = None if p50 is None else p50 <= ms
        out.append(Check(f"W3 p50 {backend} <= {ms:g} ms", f"{_f(p50, 1)} ms", met))
    for backend in PROJECT:
        p50, p99 = _ours(peers, backend, "w3_p50"), _ours(peers, backend, "w3_p99")
        met = None if p50 is None or p99 is None else p99 <= 3 * p50
        ratio = f"{p99 / p50:.1f}x" if p50 and p99 else "—"
        out.append(Check(f"W3 p99 <= 3x p50 {backend}", f"{_f(p99, 1)} ms ({ratio})", met))
    return out


def own_checks(own: dict[str, Any]) -> list[Check]:
    """W5 and idle cost, from ``python -m benchmarks --json``."""
    out = []
    backends = own.get("backends", {})
    for backend, name in OWN.items():
        s = backends.get(name, {}).get("summary", {})
        ratio = s.get("w5_ratio")
        out.append(
            Check(
                f"W5 {backend} drain >= 0.8x W2",
                f"{_f(s.get('w5_1x8'))}/s = {ratio:.2f}x" if ratio else "not measured",
                None if ratio is None else ratio >= 0.8,
            )
        )
    for backend, name in OWN.items():
        idle = backends.get(name, {}).get("summary", {}).get("idle")
        bound = 1.0 if backend == "PostgreSQL" else 5.0
        q = idle.get("queries_per_s") if idle else None
        out.append(
            Check(
                f"idle {backend} <= {bound:g} queries/s",
                f"{q:.2f}/s" if q is not None else "not measured",
                None if q is None else q <= bound,
            )
        )
    return out


def _f(x: float | None, digits: int = 0) -> str:
    return "—" if x is None else f"{x:,.{digits}f}"


def markdown(checks: list[Check]) -> str:
    """The checks as a Markdown table."""
    mark = {True: "**met**", False: "not met", None: "not measured"}
    lines = ["| target | measured | |", "|---|---|---|"]
    lines += [f"| {c.target} | {c.measured} | {mark[c.met]} |" for c in checks]
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    """Print the target table."""
    ap = argparse.ArgumentParser(prog="python -m benchmarks.targets")
    ap.add_argument("--peers", type=Path, required=True, help="the peer harness's results.json")
    ap.add_argument("--own", type=Path, help="python -m benchmarks --json output")
    args = ap.parse_args(argv)
    peers = json.loads(args.peers.read_text())["peers"]
    checks = ratio_checks(peers) + absolute_checks(peers)
    if args.own:
        checks += own_checks(json.loads(args.own.read_text()))
    print(markdown(checks))
    return 0


if __name__ == "__main__":
    sys.exit(main())
