"""Scaling out: W2 with more worker processes, and with more groups, on one server.

    python -m benchmarks.scaling --url URL [--url URL ...] [--processes 1,2,4,8]
        [--groups 1,100,1000] [--grid] [--tasks 10000] [--idle-claim-rate none]
        [--json FILE]

Each case starts P worker processes with ``kit.start_processes`` (default
settings) serving every group, waits until all of them hold a lease and
then ``--settle`` seconds (so start-up is not in the figures: that is item
3's yardstick), puts ``--tasks`` no-op tasks (the W2 task: it records its
start in Redis) spread evenly over G groups in one bulk call, and
measures, from the first recorded task to the last:

- tasks/s (first task start to last, as W2), its ratio to the first case
  of the same sweep (the issue-19 target: the total must not fall);
- CPU microseconds per task of the worker processes and of the server
  (``/proc`` of the processes, reaped children included), and the
  statements (Redis: commands) the server ran per task;

then, with the same workers left idle (``--idle-warmup`` s, then a window
of ``--idle-window`` s), what they send to the server per second, in total
and per process, and their CPU share: the issue-19 target is an idle
query rate that stays bounded as the groups grow.

Threads: 8 (``--threads``) per process for one group; with G groups each
group gets ``max(1, threads // G)`` threads per process, since taskkit
runs at least one thread (and a claimer and a settler) per group.
Sweeps: the processes at G = 1, then the groups at P = 1; ``--grid`` runs
every (P, G) pair instead.

Everything runs on a private server of the URL's kind (``servers.py``), so
the server's CPU and statement counts are this run's alone; only the URL's
kind is used. The recorder is the shared Redis (``--recorder-url``).
``--idle-claim-rate`` sets that WorkerSettings field (``none``: every group
polls at its own interval, as before the bound) for before/after runs.
"""

from __future__ import annotations

import argparse
import json
import logging
import time
from contextlib import ExitStack
from pathlib import Path
from typing import Any

import redis
from taskkit_core.opening import drop, lookup_backend

from taskkit_core import DiscardTask, InitiateTaskArgs, Kit, Task, TaskkitProcess, WorkerSettings
from taskkit_core import migrate as migrate_storage

from .counters import MariaDBQuestionCounter, PostgresStatementCounter, rate, split_total
from .cpu import tree_cpu
from .handler import GROUP, TASK, BenchHandler
from .idle import _counter, _private_server, kind_of
from .recorder import DEFAULT_RECORDER_URL, Recorder, RecorderKeys
from .servers import PostgresServer, RedisServer
from .target import new_namespace

FIRST_TASK_POLL = 0.002
STOP_WAIT = 30.0


class GroupsHandler(BenchHandler):
    """The W2 no-op in any group: records the task's start, discards other names."""

    def handle(self, task: Task) -> Any:
        if task.name != TASK:
            raise DiscardTask
        self.recorder.record(json.loads(task.data))
        return None


def group_names(groups: int) -> list[str]:
    """``bench`` for one group, else ``bench-0000`` ... (the groups of one case)."""
    return [GROUP] if groups == 1 else [f"{GROUP}-{i:04d}" for i in range(groups)]


def cases(processes: list[int], groups: list[int], grid: bool) -> list[tuple[int, int]]:
    """(P, G) pairs: every pair with ``grid``, else P swept at G=1 then G swept at P=1."""
    if grid:
        return [(p, g) for g in groups for p in processes]
    pairs = [(p, 1) for p in processes] + [(1, g) for g in groups if g != 1]
    return list(dict.fromkeys(pairs))


class Case:
    """One (P, G) case on a private server: a namespace, its workers, the readings."""

    def __init__(self, url: str, server_pid: int, args: argparse.Namespace) -> None:
        self.url, self.server_pid, self.args = url, server_pid, args
        self.keys = RecorderKeys.new(args.recorder_url)
        self.recorder = Recorder(self.keys)
        self.namespace = new_namespace()
        if lookup_backend(url)[1].migrate is not None:
            migrate_storage(url, namespace=self.namespace)
        self.kit = Kit.from_url(
            url, GroupsHandler(self.keys), namespace=self.namespace, settings=_settings(args)
        )
        self.processes: list[TaskkitProcess] = []

    def put(self, names: list[str], tasks: int) -> None:
        items: list[InitiateTaskArgs] = [
            {"group": names[i % len(names)], "name": TASK, "data": i} for i in range(tasks)
        ]
        self.kit.initiate_tasks(*items)

    def reading(self) -> dict[str, float]:
        """Recorded tasks, CPU seconds of the workers and of the server, now."""
        return {
            "tasks": self.recorder.executions(),
            "worker": sum(tree_cpu(p.pid) for p in self.processes if p.pid is not None),
            "server": tree_cpu(self.server_pid),
            "time": time.monotonic(),
        }

    def start(self, processes: int, names: list[str], threads: int) -> None:
        """Start the workers; return once each holds a lease and ``--settle`` s more passed."""
        self.processes = self.kit.start_processes(processes, dict.fromkeys(names, threads))
        deadline = time.monotonic() + self.args.timeout
        while len(self.kit.backend.get_leases()) < processes:
            if time.monotonic() > deadline:
                raise TimeoutError(f"{processes} worker processes not up in {self.args.timeout} s")
            time.sleep(0.1)
        time.sleep(self.args.settle)

    def drain(self, names: list[str], private: Any) -> dict[str, Any]:
        """Put the tasks for the idle workers; rate, CPU and queries per task of the drain."""
        tasks, timeout = self.args.tasks, self.args.timeout
        self.put(names, tasks)
        deadline = time.monotonic() + timeout
        while self.recorder.executions() < 1 and time.monotonic() < deadline:
            time.sleep(FIRST_TASK_POLL)
        first, calls = self.reading(), statement_calls(private)
        drained = self.recorder.wait_for(tasks, max(0.0, deadline - time.monotonic()))
        last, calls = self.reading(), statement_calls(private) - calls
        starts = sorted(self.recorder.timestamps().values())
        done = last["tasks"] - first["tasks"]
        return {
            "completed": len(starts),
            "timed_out": not drained,
            "tasks_per_s": len(starts) / (starts[-1] - starts[0]) if len(starts) > 1 else None,
            "startup_cpu_s": first["worker"],
            "worker_us_per_task": (last["worker"] - first["worker"]) / done * 1e6,
            "server_us_per_task": (last["server"] - first["server"]) / done * 1e6,
            "queries_per_task": calls / done,
        }

    def idle(self, kind: str, private: Any) -> dict[str, Any]:
        """Queries/s the idle workers send, and their CPU share, over one window."""
        time.sleep(self.args.idle_warmup)
        with ExitStack() as stack:
            counter = _counter(kind, private, stack)
            before, cpu = counter.read(), self.reading()
            time.sleep(self.args.idle_window)
            after, cpu_end = counter.read(), self.reading()
        seconds = cpu_end["time"] - cpu["time"]
        total, control, _ = split_total(rate(before, after, seconds))
        return {
            "idle_queries_per_s": total,
            "idle_queries_per_s_per_process": total / len(self.processes),
            "idle_transaction_control_per_s": control,
            "idle_worker_cpu_percent": 100 * (cpu_end["worker"] - cpu["worker"]) / seconds,
            "idle_server_cpu_percent": 100 * (cpu_end["server"] - cpu["server"]) / seconds,
        }

    def close(self) -> None:
        for p in self.processes:
            p.terminate()
        for p in self.processes:
            p.join(STOP_WAIT)
            if p.is_alive():
                p.kill()
                p.join(5)
        try:
            self.kit.backend.destroy_all()
            self.kit.close()
        finally:
            self.recorder.close()
            drop(self.url, namespace=self.namespace)


def statement_calls(private: Any) -> int:
    """Statements (SQL) or commands (Redis) the server has run so far, all clients."""
    if isinstance(private, RedisServer):
        client = redis.Redis(host="127.0.0.1", port=private.port)
        try:
            return sum(int(s["calls"]) for s in client.info("commandstats").values())
        finally:
            client.close()
    if isinstance(private, PostgresServer):
        return sum(PostgresStatementCounter(private).read().values())
    return sum(MariaDBQuestionCounter(private).read().values())


def run_case(
    kind: str, private: Any, processes: int, groups: int, args: argparse.Namespace
) -> dict[str, Any]:
    """One (P, G) case: the drain's figures, then the idle ones."""
    names = group_names(groups)
    threads = max(1, args.threads // groups)
    case = Case(private.url(), private.process.pid, args)
    try:
        case.start(processes, names, threads)
        row: dict[str, Any] = {"kind": kind, "processes": processes, "groups": groups}
        row["threads_per_group"] = threads
        row["idle_claim_rate"] = case.kit.settings.idle_claim_rate
        row.update(case.drain(names, private))
        row.update(case.idle(kind, private))
        return row
    finally:
        case.close()


def measure(url: str, args: argparse.Namespace) -> list[dict[str, Any]]:
    """Every case on a private server of ``url``'s kind."""
    kind = kind_of(url)
    private = _private_server(kind)
    if private is None:
        raise SystemExit(f"{kind}: scaling runs on a private PostgreSQL, MariaDB or Redis")
    rows: list[dict[str, Any]] = []
    private.start()
    try:
        for processes, groups in cases(args.processes, args.groups, args.grid):
            row = run_case(kind, private, processes, groups, args)
            base = next((r for r in rows if _same_sweep(r, row)), row)
            if base["tasks_per_s"] and row["tasks_per_s"]:
                row["ratio_to_first"] = row["tasks_per_s"] / base["tasks_per_s"]
            print(_line(row), flush=True)
            rows.append(row)
    finally:
        private.stop()
    return rows


def _same_sweep(earlier: dict[str, Any], row: dict[str, Any]) -> bool:
    """The first case of ``row``'s sweep: same G (processes sweep) or P=1, G=1."""
    if row["groups"] == 1:
        return bool(earlier["groups"] == 1)
    return bool(earlier["processes"] == row["processes"] and earlier["groups"] == 1)


def _line(row: dict[str, Any]) -> str:
    rate_text = f"{row['tasks_per_s']:,.0f}/s" if row["tasks_per_s"] else "—"
    return (
        f"{row['kind']:<8} P={row['processes']} G={row['groups']:<4} "
        f"({row['threads_per_group']} thr/group, idle_claim_rate {row['idle_claim_rate']}): "
        f"{rate_text} "
        f"(x{row.get('ratio_to_first', 1.0):.2f}), worker {row['worker_us_per_task']:,.0f} "
        f"+ server {row['server_us_per_task']:,.0f} us CPU/task, "
        f"{row['queries_per_task']:.2f} queries/task; idle "
        f"{row['idle_queries_per_s']:,.1f} q/s ({row['idle_queries_per_s_per_process']:,.1f} "
        f"per process), worker CPU {row['idle_worker_cpu_percent']:.1f}%"
        + (" TIMED OUT" if row["timed_out"] else "")
    )


def _rate(text: str) -> float | str | None:
    return text if text == "default" else None if text == "none" else float(text)


def _settings(args: argparse.Namespace) -> WorkerSettings:
    if args.idle_claim_rate == "default":
        return WorkerSettings()
    return WorkerSettings(idle_claim_rate=args.idle_claim_rate)


def _ints(text: str) -> list[int]:
    return [int(x) for x in text.split(",") if x]


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(
        prog="python -m benchmarks.scaling",
        description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    ap.add_argument("--url", action="append", required=True, help="its kind picks the server")
    ap.add_argument("--processes", type=_ints, default=[1, 2, 4, 8])
    ap.add_argument("--groups", type=_ints, default=[1, 100, 1000])
    ap.add_argument("--grid", action="store_true", help="every (P, G) pair")
    ap.add_argument("--threads", type=int, default=8, help="threads per process (one group)")
    ap.add_argument("--tasks", type=int, default=10_000)
    ap.add_argument("--settle", type=float, default=3.0, help="s between start-up and the put")
    ap.add_argument(
        "--idle-claim-rate",
        type=_rate,
        default="default",
        help="WorkerSettings.idle_claim_rate: a number, none, or default",
    )
    ap.add_argument("--timeout", type=float, default=300.0, help="bound of each drain, s")
    ap.add_argument("--idle-warmup", type=float, default=3.0)
    ap.add_argument("--idle-window", type=float, default=20.0)
    ap.add_argument("--recorder-url", default=DEFAULT_RECORDER_URL)
    ap.add_argument("--json", type=Path, help="write every row here")
    args = ap.parse_args(argv)
    # The private Redis runs without persistence on purpose (as the peers'): not news here.
    logging.getLogger("taskkit.redis").setLevel(logging.ERROR)
    rows = []
    for url in args.url:
        rows += measure(url, args)
    if args.json:
        args.json.write_text(json.dumps(rows, indent=1))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
