"""A clean virtualenv holding taskkit-core and the example plugin, as an outside user has.

It is made once per test session with ``python -m venv`` and filled with pip
from local folders: first ``taskkit_core/``, then a copy of
``examples/acme-backend/`` (a copy, so its build cannot lean on anything else
in this repository), plus pytest and pytest-timeout. Commands then run with
that venv first on PATH and with none of this test run's environment
(virtualenv, PYTHONPATH, pytest or taskkit variables) leaking in.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]
EXAMPLE = REPO / "examples" / "acme-backend"
OBSERVER_EXAMPLE = REPO / "examples" / "observer-example"
GUIDE = REPO / "plugins.md"

INSTALL_TIMEOUT = 240.0
LEAKY_PREFIXES = ("VIRTUAL_ENV", "PYTHON", "UV_", "PYTEST_", "TASKKIT_", "CONDA")


@dataclass
class Venv:
    """A virtualenv made by the tests, and how to run commands inside it."""

    root: Path
    example: Path

    def env(self) -> dict[str, str]:
        """This process's environment without what would leak into the venv's commands."""
        env = {k: v for k, v in os.environ.items() if not k.startswith(LEAKY_PREFIXES)}
        env["PATH"] = f"{self.root / 'bin'}{os.pathsep}{env.get('PATH', '')}"
        env["VIRTUAL_ENV"] = str(self.root)
        env["COLUMNS"] = "200"  # tables printed by `taskkit` stay one line per row
        return env

    def run(
        self, *args: str, cwd: Path, timeout: float = 120.0, check: bool = True
    ) -> subprocess.CompletedProcess[str]:
        """Run a command of the venv; with ``check``, fail the test with its output."""
        done = subprocess.run(
            list(args),
            cwd=cwd,
            env=self.env(),
            capture_output=True,
            text=True,
            timeout=timeout,
            check=False,
        )
        if check and done.returncode != 0:
            pytest.fail(
                f"{' '.join(args)} exited {done.returncode}\n"
                f"--- stdout ---\n{done.stdout[-6000:]}\n--- stderr ---\n{done.stderr[-6000:]}"
            )
        return done


def _copy_example(destination: Path) -> Path:
    """A copy of examples/acme-backend/ without caches or build output."""
    ignore = shutil.ignore_patterns(
        "__pycache__", ".pytest_cache", ".ruff_cache", ".mypy_cache", "build", "dist", "*.db*"
    )
    return Path(shutil.copytree(EXAMPLE, destination / "acme-backend", ignore=ignore))


def make_core_venv(base: Path) -> Venv:
    """A venv with taskkit-core, pytest and pytest-timeout only (no plugin)."""
    venv = Venv(root=base / "venv", example=base)
    subprocess.run(
        [sys.executable, "-m", "venv", str(venv.root)], check=True, timeout=INSTALL_TIMEOUT
    )
    pip = ("python", "-m", "pip", "install", "--no-input", "--progress-bar", "off")
    venv.run(
        *pip,
        str(REPO / "taskkit_core"),
        "pytest",
        "pytest-timeout",
        cwd=base,
        timeout=INSTALL_TIMEOUT,
    )
    return venv


def make_venv(base: Path) -> Venv:
    """Create the venv under ``base`` and install taskkit-core, then the example plugin."""
    venv = Venv(root=base / "venv", example=_copy_example(base))
    subprocess.run(
        [sys.executable, "-m", "venv", str(venv.root)], check=True, timeout=INSTALL_TIMEOUT
    )
    pip = ("python", "-m", "pip", "install", "--no-input", "--progress-bar", "off")
    venv.run(*pip, str(REPO / "taskkit_core"), cwd=base, timeout=INSTALL_TIMEOUT)
    venv.run(*pip, str(venv.example), "pytest", "pytest-timeout", cwd=base, timeout=INSTALL_TIMEOUT)
    return venv


def install_observer_example(venv: Venv, base: Path) -> None:
    """Install a copy of examples/observer-example/ into ``venv`` (an observer plugin)."""
    ignore = shutil.ignore_patterns("__pycache__", "build", "dist")
    copy = Path(shutil.copytree(OBSERVER_EXAMPLE, base / "observer-example", ignore=ignore))
    pip = ("python", "-m", "pip", "install", "--no-input", "--progress-bar", "off")
    venv.run(*pip, str(copy), cwd=base, timeout=INSTALL_TIMEOUT)
