"""The checker: what happened to every task, counted exactly, with example ids.

It joins three sources: the ids the driver enqueued, the execution history
the handler wrote outside the system (``exec``), the settle audit
(``settle``), and the final state read back from the backend.
"""

from __future__ import annotations

import json
from collections import Counter, defaultdict
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from taskkit_core import Backend, Failed, NoResult, NotFound

from .history import read_history

TERMINAL = {"succeeded", "failed", "discarded"}


@dataclass
class Report:
    """Exact counts per invariant, with up to five example ids each."""

    enqueued: int = 0
    done: int = 0
    failed: int = 0
    lost: int = 0
    stuck: int = 0
    unexpected: int = 0
    acked_twice: int = 0
    stale_ack_rejected: int = 0
    result_inconsistent: int = 0
    executions_per_task: dict[int, int] = field(default_factory=dict)
    examples: dict[str, list[str]] = field(default_factory=dict)

    def note(self, metric: str, task_id: str) -> None:
        setattr(self, metric, getattr(self, metric) + 1)
        examples = self.examples.setdefault(metric, [])
        if len(examples) < 5:
            examples.append(task_id)

    @property
    def duplicated(self) -> int:
        """Tasks that started more than once."""
        return sum(count for runs, count in self.executions_per_task.items() if runs > 1)

    def summary(self) -> str:
        fields = {
            k: v for k, v in self.__dict__.items() if k not in ("examples", "executions_per_task")
        }
        return (
            f"checker report: {json.dumps(fields)}; executions per task: "
            f"{dict(sorted(self.executions_per_task.items()))}; examples: {self.examples}"
        )

    def assert_clean(self, *, max_duplicated: int = 0, expect_failed: int = 0) -> None:
        """The invariants every test asserts; the message is the whole report."""
        problems = {
            "lost": self.lost,
            "stuck": self.stuck,
            "unexpected": self.unexpected,
            "acked_twice": self.acked_twice,
            "result_inconsistent": self.result_inconsistent,
        }
        bad = {k: v for k, v in problems.items() if v}
        assert not bad, f"{bad} -- {self.summary()}"
        assert self.duplicated <= max_duplicated, f"too many duplicates -- {self.summary()}"
        assert self.failed == expect_failed, f"unexpected failures -- {self.summary()}"


def check(backend: Backend, enqueued: list[str], history_dir: Path) -> Report:
    """Count every invariant of RELIABILITY.md section 4 for these tasks."""
    report = Report(enqueued=len(enqueued))
    executions = read_history(history_dir, "exec")
    settles = read_history(history_dir, "settle")
    known = set(enqueued)
    starts: Counter[str] = Counter()
    for record in executions:
        if record["event"] != "start":
            continue
        if record["task_id"] not in known:
            report.note("unexpected", record["task_id"])
        starts[record["task_id"]] += 1
    report.executions_per_task = dict(Counter(starts[task_id] for task_id in enqueued))
    accepted = _accepted_terminal_settles(settles, report)
    for task_id in enqueued:
        _check_final_state(backend, task_id, accepted.get(task_id, []), report)
    return report


def _accepted_terminal_settles(
    settles: list[dict[str, Any]], report: Report
) -> dict[str, list[dict[str, Any]]]:
    accepted: dict[str, list[dict[str, Any]]] = defaultdict(list)
    for record in settles:
        if not record["accepted"]:
            report.note("stale_ack_rejected", record["task_id"])
        elif record["kind"] in TERMINAL:
            accepted[record["task_id"]].append(record)
    for task_id, records in accepted.items():
        if len(records) > 1:
            report.note("acked_twice", task_id)
    return accepted


def _check_final_state(
    backend: Backend, task_id: str, accepted: list[dict[str, Any]], report: Report
) -> None:
    try:
        _, encoded = backend.get_result(task_id)
    except Failed:
        report.failed += 1
        return
    except NoResult:
        report.note("stuck", task_id)
        return
    except NotFound:
        report.note("lost", task_id)
        return
    report.done += 1
    result = json.loads(encoded)
    if accepted and result.get("attempt") != accepted[-1]["attempt"]:
        report.note("result_inconsistent", task_id)
