"""Turn the chaos tier's JSON lines into the Markdown tables of RELIABILITY.md.

    python tests/reliability/chaos/report.py chaos-redis.jsonl chaos-postgresql.jsonl ...

One table per test, one row per backend (and case): the outcome, the
checker's counts, and every other figure the test recorded.
"""

from __future__ import annotations

import json
import re
import sys
from collections import defaultdict
from pathlib import Path
from typing import Any

CHECKER = ("lost", "stuck", "acked_twice", "unexpected", "result_inconsistent")
EPOCH_FLOOR = 1e9
"""Seconds since 1970 above which a float is an instant, not a duration."""
SKIP = {"test", "backend", "outcome", "at", "report", "case", "fsync", "policy", "duplicate_bound"}


def checker_counts(report: str) -> dict[str, int]:
    """The invariant counts out of a checker summary line."""
    match = re.search(r"checker report: (\{.*?\})", report)
    return json.loads(match.group(1)) if match else {}


def compact(value: Any) -> Any:
    """Floats to two decimals; wall-clock instants (only useful inside a run) dropped."""
    if isinstance(value, float):
        return round(value, 2)
    if isinstance(value, list):
        return [compact(v) for v in value]
    if isinstance(value, dict):
        return {
            k: compact(v)
            for k, v in value.items()
            if not (isinstance(v, float) and v > EPOCH_FLOOR)
        }
    return value


def short(value: Any) -> str:
    value = compact(value)
    text = json.dumps(value, default=str) if not isinstance(value, str) else value
    return text if len(text) <= 240 else text[:237] + "..."


def row(record: dict[str, Any]) -> str:
    counts = checker_counts(str(record.get("report", "")))
    invariants = ", ".join(f"{k} {counts[k]}" for k in CHECKER if k in counts) or "-"
    if "duplicated" in record:
        bound = record.get("duplicate_bound")
        invariants += f"; duplicated {record['duplicated']}" + (
            f" (bound {bound})" if bound is not None else ""
        )
    figures = "; ".join(
        f"{k} {short(v)}" for k, v in record.items() if k not in SKIP and k not in {"duplicated"}
    )
    case = next((str(record[k]) for k in ("case", "fsync", "policy") if k in record), "")
    label = f"{record['backend']} {case}".strip()
    return f"| {label} | {record['outcome']} | {invariants} | {figures} |"


def main(paths: list[str]) -> None:
    by_test: dict[str, list[dict[str, Any]]] = defaultdict(list)
    for path in paths:
        for line in Path(path).read_text(encoding="utf-8").splitlines():
            record = json.loads(line)
            by_test[record["test"].split("[")[0]].append(record)
    for test, records in sorted(by_test.items()):
        sys.stdout.write(f"\n#### `{test}`\n\n| backend | outcome | invariants | measured |\n")
        sys.stdout.write("|---|---|---|---|\n")
        for record in records:
            sys.stdout.write(row(record) + "\n")


if __name__ == "__main__":
    main(sys.argv[1:])
