"""An observer from a distribution of its own sees the life of tasks in worker processes.

The example observer (examples/observer-example, taskkit-lifecycle-log) is
installed with pip into the clean virtualenv of conftest.py next to
taskkit-core and taskkit-acme; it declares only an entry point in the
``taskkit`` group, as a backend does. The application knows nothing of
it. Its hooks append JSON lines to a file in every process.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from .venv import Venv

pytestmark = pytest.mark.slow

APP = """
import json, os, sys

from taskkit_core import Kit, migrate


class Echo:
    def handle(self, task):
        return json.loads(task.data)

    def get_retry_interval(self, task, exception):
        return None

    def encode_data(self, group, task_name, data):
        return json.dumps(data).encode()

    def encode_result(self, task, result):
        return json.dumps(result).encode()

    def decode_result(self, task, encoded):
        return json.loads(encoded)


def main(url, log, raising):
    os.environ["TASKKIT_LIFECYCLE_LOG"] = log  # worker processes inherit it
    if raising:
        os.environ["TASKKIT_LIFECYCLE_LOG_RAISE"] = raising
    migrate(url)
    kit = Kit.from_url(url, Echo())
    first = kit.initiate_tasks(*({"group": "g", "name": "echo", "data": n} for n in range(3)))
    processes = kit.start_processes(1, {"g": 2}, polling_interval=0.1)
    done = [r.get(timeout=60) for r in first]
    later = [r.get(timeout=60) for r in [kit.initiate_task("g", "echo", 10)]]
    kit.send_shutdown_event()
    for process in processes:
        process.join(60)
    print(json.dumps({"done": done + later, "exitcodes": [p.exitcode for p in processes]}))


if __name__ == "__main__":
    main(sys.argv[1], sys.argv[2], sys.argv[3] if len(sys.argv) > 3 else "")
"""


LIFE = sorted(["enqueued", "claimed", "started", "succeeded"])
"""The steps each task's lines name, whatever process wrote them first."""


def run_app(
    venv: Venv, tmp_path: Path, *raising: str
) -> tuple[dict[str, Any], list[dict[str, Any]], str]:
    (tmp_path / "app.py").write_text(APP)
    log = tmp_path / "lifecycle.jsonl"
    done = venv.run(
        "python", "app.py", f"acme://{tmp_path}/app.db", str(log), *raising, cwd=tmp_path
    )
    report = json.loads(done.stdout.splitlines()[-1])
    return report, [json.loads(line) for line in log.read_text().splitlines()], done.stderr


def test_an_installed_observer_sees_the_life_of_each_task(
    observer_venv: Venv, tmp_path: Path
) -> None:
    report, lines, _ = run_app(observer_venv, tmp_path)
    assert report == {"done": [0, 1, 2, 10], "exitcodes": [0]}
    by_task: dict[str, list[str]] = {}
    for line in lines:
        if "task" in line:
            by_task.setdefault(line["task"], []).append(line["step"])
    # The application's process logs "enqueued" once its put has returned, and a
    # worker may claim, run and settle the task before that line is written (task
    # 10 is put while the worker runs): each process's own steps are in order.
    assert sorted(sorted(steps) for steps in by_task.values()) == [LIFE] * 4
    for steps in by_task.values():
        assert [step for step in steps if step != "enqueued"] == ["claimed", "started", "succeeded"]
    steps = [line["step"] for line in lines]
    assert steps.count("worker started") == steps.count("worker stopped") == 1
    (app_pid,) = {line["pid"] for line in lines if line["step"] == "enqueued"}
    (worker_pid,) = {line["pid"] for line in lines if line["step"] == "started"}
    assert app_pid != worker_pid, "the worker process loaded the observer by itself"
    assert all(line["run_time"] >= 0 for line in lines if line["step"] == "succeeded")


def test_a_raising_observer_leaves_the_worker_running(observer_venv: Venv, tmp_path: Path) -> None:
    report, lines, stderr = run_app(observer_venv, tmp_path, "started")
    assert report == {"done": [0, 1, 2, 10], "exitcodes": [0]}, "every task ran, the last too"
    assert [line["step"] for line in lines].count("succeeded") == 4
    assert "started" not in [line["step"] for line in lines]
    raised = [line for line in stderr.splitlines() if "raised in taskkit_task_started" in line]
    assert len(raised) == 1, f"logged once, not once per task:\n{stderr}"
    assert "lifecycle-log" in raised[0], "the log line names the observer's distribution"
