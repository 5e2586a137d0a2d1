"""The README's quickstart runs as written on memory://, and on SQLite with `taskkit worker`."""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

from cli.support import cli_env, taskkit, worker
from test_readme import quickstart

EXAMPLE = Path(__file__).parents[2] / "examples" / "quickstart.py"


def python(args: list[str], cwd: Path, **env: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, *args],
        cwd=cwd,
        env=cli_env(**env),
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


def test_the_example_file_is_the_readme_quickstart() -> None:
    assert EXAMPLE.read_text().split('"""\n\n', 1)[1] == quickstart()


def test_on_memory(tmp_path: Path) -> None:
    shutil.copy(EXAMPLE, tmp_path)
    done = python(["quickstart.py"], tmp_path, TASKKIT_URL="memory://")
    assert (done.returncode, done.stdout.strip()) == (0, "3"), done.stderr


def test_on_sqlite_with_a_worker_process(tmp_path: Path) -> None:
    shutil.copy(EXAMPLE, tmp_path)
    env = cli_env(TASKKIT_URL=f"sqlite:///{tmp_path}/quick.db")
    migrated = taskkit("migrate", "--app", "quickstart:app", env=env, cwd=tmp_path)
    assert migrated.returncode == 0, migrated.stderr
    with worker(["quickstart:app", "--polling-interval", "0.2"], env, cwd=tmp_path) as running:
        code = "from quickstart import add; print(add.delay(1, 2).get(timeout=60))"
        done = python(["-c", code], tmp_path, TASKKIT_URL=env["TASKKIT_URL"])
        running.kill()
    assert (done.returncode, done.stdout.strip()) == (0, "3"), done.stderr + running.log


def test_the_readme_low_level_example_runs(tmp_path: Path) -> None:
    readme = (Path(__file__).parents[2] / "README.md").read_text()
    section = readme.split("### The low-level protocol", 1)[1]
    code = section.split("```python\n", 1)[1].split("```", 1)[0]
    done = python(["-c", code], tmp_path)
    assert (done.returncode, done.stdout.strip()) == (0, "3"), done.stderr
