"""``taskkit new-backend NAME``: a plugin project to start from, shipped with taskkit-core.

The command runs in a subprocess as a user would run it. The project it
writes must pass the linters a plugin author runs (ruff, mypy strict), carry
every protocol method with its contract, and, once pip-installed into a
clean virtualenv, add its URL scheme and run the conformance kit: every
test collects, and fails with NotImplementedError until the author writes it.
"""

from __future__ import annotations

import ast
import inspect
import subprocess
import sys
from pathlib import Path

import pytest

from taskkit_core import Backend, EventBridge, Lock

from .venv import INSTALL_TIMEOUT, Venv, make_core_venv

FILES = [
    "README.md",
    "pyproject.toml",
    "src/taskkit_mydb/__init__.py",
    "src/taskkit_mydb/backend.py",
    "src/taskkit_mydb/capabilities.py",
    "src/taskkit_mydb/config.py",
    "src/taskkit_mydb/events.py",
    "src/taskkit_mydb/locks.py",
    "src/taskkit_mydb/opener.py",
    "src/taskkit_mydb/plugin.py",
    "src/taskkit_mydb/py.typed",
    "src/taskkit_mydb/schema.py",
    "tests/conftest.py",
    "tests/test_conformance.py",
]


def taskkit(*args: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    command = [sys.executable, "-m", "taskkit_core", *args]
    return subprocess.run(command, cwd=cwd, capture_output=True, text=True, timeout=60, check=False)


def new_project(tmp_path: Path, name: str = "mydb") -> Path:
    done = taskkit("new-backend", name, cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    assert f"wrote {len(FILES)} files to taskkit-{name}/" in done.stdout
    return tmp_path / f"taskkit-{name}"


def tool(*args: str, cwd: Path) -> None:
    done = subprocess.run(
        [sys.executable, "-m", *args],
        cwd=cwd,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    assert done.returncode == 0, f"{' '.join(args)}:\n{done.stdout}\n{done.stderr}"


def methods(path: Path, cls: str) -> dict[str, str | None]:
    """Each method of ``cls`` in the file at ``path`` with its docstring."""
    tree = ast.parse(path.read_text())
    (node,) = [n for n in tree.body if isinstance(n, ast.ClassDef) and n.name == cls]
    return {f.name: ast.get_docstring(f) for f in node.body if isinstance(f, ast.FunctionDef)}


def test_the_project_has_every_file_and_passes_ruff_and_mypy_strict(tmp_path: Path) -> None:
    project = new_project(tmp_path)
    written = sorted(str(p.relative_to(project)) for p in project.rglob("*") if p.is_file())
    assert written == FILES
    assert (
        '[project.entry-points.taskkit]\nmydb = "taskkit_mydb.plugin"'
        in (project / "pyproject.toml").read_text()
    )
    tool("ruff", "check", "--no-cache", ".", cwd=project)
    tool("ruff", "format", "--check", "--no-cache", ".", cwd=project)
    tool("mypy", "--no-incremental", "src", "tests", cwd=project)


@pytest.mark.parametrize(
    ("protocol", "module", "cls"),
    [
        (Backend, "backend.py", "MydbBackend"),
        (EventBridge, "events.py", "MydbEventBridge"),
        (Lock, "locks.py", "MydbLock"),
    ],
)
def test_every_protocol_method_is_there_with_its_contract(
    tmp_path: Path, protocol: type, module: str, cls: str
) -> None:
    found = methods(new_project(tmp_path) / "src" / "taskkit_mydb" / module, cls)
    for name, function in inspect.getmembers(protocol, inspect.isfunction):
        if not name.startswith("_"):
            assert found[name] == inspect.getdoc(function), name


@pytest.mark.parametrize("name", ["My-DB", "my_db", "1db", "x" * 31, "memory"])
def test_a_bad_name_is_refused_in_one_line_and_nothing_is_written(
    tmp_path: Path, name: str
) -> None:
    done = taskkit("new-backend", name, cwd=tmp_path)
    assert done.returncode == 2
    assert done.stderr.startswith("error: ") and done.stderr.count("\n") == 1, done.stderr
    assert "nothing was written" in done.stderr or "got" in done.stderr
    assert list(tmp_path.iterdir()) == []


def test_a_directory_in_use_is_left_alone(tmp_path: Path) -> None:
    (tmp_path / "taskkit-mydb").mkdir()
    (tmp_path / "taskkit-mydb" / "notes.txt").write_text("mine")
    done = taskkit("new-backend", "mydb", cwd=tmp_path)
    assert done.returncode == 2
    assert "already exists and is not an empty directory" in done.stderr
    assert [p.name for p in (tmp_path / "taskkit-mydb").iterdir()] == ["notes.txt"]


@pytest.fixture(scope="module")
def skeleton_venv(tmp_path_factory: pytest.TempPathFactory) -> tuple[Venv, Path]:
    """A clean venv with taskkit-core from this tree and the new project pip-installed."""
    base = tmp_path_factory.mktemp("skeleton")
    venv = make_core_venv(base)
    venv.run("taskkit", "new-backend", "mydb", cwd=base)
    project = base / "taskkit-mydb"
    venv.run("python", "-m", "pip", "install", "--no-input", str(project), cwd=base,
             timeout=INSTALL_TIMEOUT)  # fmt: skip
    return venv, project


@pytest.mark.slow
def test_installed_it_adds_its_scheme(skeleton_venv: tuple[Venv, Path]) -> None:
    venv, project = skeleton_venv
    listing = venv.run("taskkit", "backends", cwd=project)
    (row,) = [line for line in listing.stdout.splitlines() if "mydb://" in line]
    assert "taskkit-mydb" in row
    assert "0.1.0" in row


@pytest.mark.slow
def test_installed_its_tests_collect_the_whole_kit_and_fail_unwritten(
    skeleton_venv: tuple[Venv, Path],
) -> None:
    venv, project = skeleton_venv
    collected = venv.run("pytest", "--collect-only", "-q", "-p", "no:cacheprovider", cwd=project)
    summary = collected.stdout.strip().splitlines()[-1]
    assert "error" not in summary, summary
    for contract in ("TestBackend", "TestEventBridge", "TestKit", "TestProcesses"):
        assert f"tests/test_conformance.py::{contract}::" in collected.stdout
    assert int(summary.split()[0]) >= 90, summary
    one = venv.run(
        "pytest", "-x", "-q", "-p", "no:cacheprovider", "-k", "test_put_is_idempotent",
        cwd=project, check=False,
    )  # fmt: skip
    assert one.returncode == 1
    assert "NotImplementedError: mydb:// cannot create namespace" in one.stdout
