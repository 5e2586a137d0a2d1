"""Creating an App: no connection until first use, where the URL comes from, bad declarations."""

from __future__ import annotations

import logging
import subprocess
import sys
from pathlib import Path

import pytest
from taskkit_core.app.registry import UnknownTask

from taskkit_core import App, BackendUnavailable, ConfigurationError, Failed, Task

from .conftest import StartWorkers


def test_an_app_does_not_connect_until_first_used() -> None:
    app = App("postgresql://nobody:s3cret@127.0.0.1:1/nothing")

    @app.task
    def ping() -> str:
        return "pong"

    assert ping() == "pong"
    assert not app.kit_opened
    with pytest.raises(BackendUnavailable) as info:
        ping.delay()
    assert "s3cret" not in str(info.value)


def test_the_url_comes_from_the_argument_else_taskkit_url(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.setenv("TASKKIT_URL", "memory://from-env")
    monkeypatch.setenv("TASKKIT_NAMESPACE", "envspace")
    assert App().url == "memory://from-env"
    assert App().backend_options == {"namespace": "envspace"}
    assert App("memory://given").url == "memory://given"
    monkeypatch.delenv("TASKKIT_URL")
    url_file = tmp_path / "url"
    url_file.write_text("memory://from-file\n")
    monkeypatch.setenv("TASKKIT_URL_FILE", str(url_file))
    assert App().url == "memory://from-file"


def test_without_a_url_a_local_sqlite_file_is_used_and_announced(tmp_path: Path) -> None:
    program = """
import logging
logging.basicConfig(format="%(levelname)s %(message)s")
from taskkit_core import App
app = App()

@app.task
def double(n: int) -> int:
    return 2 * n

if __name__ == "__main__":
    print(double.name, app.url)
    results = [double.delay(n) for n in range(3)]
    with app.start_threads(polling_interval=0.1):
        print([r.get(timeout=30) for r in results])
"""
    (tmp_path / "embedded.py").write_text(program)
    env = {"PATH": "", "PYTHONPATH": ""}
    done = subprocess.run(
        [sys.executable, "embedded.py"],
        cwd=tmp_path,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    name, url, *values = done.stdout.split()
    assert name == "embedded.double", "a script's tasks are named after its file"
    assert url == f"sqlite:///{tmp_path}/taskkit.db"
    assert values == ["[0,", "2,", "4]"]
    assert (tmp_path / "taskkit.db").exists()
    assert done.stderr.count("embedded default") == 1, done.stderr


def test_two_functions_under_one_name_are_refused_naming_both() -> None:
    app = App("memory://")

    @app.task(name="dup")
    def first() -> None: ...

    def second() -> None: ...

    with pytest.raises(ConfigurationError, match=r"two task functions are named 'dup'") as info:
        app.task(name="dup")(second)
    assert "first" in str(info.value) and "second" in str(info.value)


def test_a_lambda_needs_a_name() -> None:
    app = App("memory://")
    with pytest.raises(ConfigurationError, match=r"lambda .* pass name="):
        app.task(lambda: None)
    assert app.task(name="noop")(lambda: None).name == "noop"


spawned = App("sqlite:///never-opened.db")


def test_nested_functions_are_refused_for_spawned_worker_processes() -> None:
    @spawned.task
    def nested() -> None: ...

    with pytest.raises(ConfigurationError) as info:
        spawned.start_processes(1)
    message = str(info.value)
    assert message.startswith("worker processes started with spawn import the app's modules")
    assert f"{nested.name} (defined inside a function: " in message
    assert "Define these tasks at the top level of a module" in message
    assert not spawned.kit_opened
    with pytest.raises(ConfigurationError, match="not a module-level variable"):
        App("memory://").start_processes(1, {"g": 1})


def test_a_task_name_the_worker_does_not_know_fails_without_retry(
    memory_shop: App, workers: StartWorkers, caplog: pytest.LogCaptureFixture
) -> None:
    stranger = Task.init("default", "__main__.gone", b"{}")  # put by a script run as __main__
    memory_shop.kit.backend.put_tasks(stranger)
    with caplog.at_level(logging.WARNING, "taskkit.worker"):
        workers(memory_shop, {"default": 1})
        with pytest.raises(Failed) as info:
            memory_shop.get_result(stranger.id).get(timeout=10)
    error = info.value.message.strip().splitlines()[-1]
    assert error.startswith(f"{UnknownTask.__module__}.UnknownTask: no task named '__main__.gone'")
    assert "in app app.shop (known: app.shop.add, " in error and "give the task name=" in error
    assert [r.levelname for r in caplog.records if stranger.id in r.getMessage()] == ["ERROR"]
    with pytest.raises(ConfigurationError, match="no task named 'nope'"):
        memory_shop.kit.initiate_task("default", "nope", {})
