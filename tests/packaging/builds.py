"""Building the four distributions and installing an extra of taskkit from them.

``uv build --all-packages`` builds every wheel and sdist of the workspace
into a temporary folder. Each extra of ``taskkit`` is then installed with
``uv pip install --find-links DIST "taskkit[EXTRA]==VERSION"`` into a
virtualenv of its own: the taskkit distributions can only come from the
built files (no index holds this version), third-party dependencies come
from the machine's package index through uv's cache.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

import pytest
from harness.availability import unavailable

from taskkit_core import VERSION

REPO = Path(__file__).resolve().parents[2]
EXTRAS = ("sqlite", "postgres", "mysql", "redis")
TIMEOUT = 300.0


def uv() -> str:
    """The uv binary: the one running this session (``uv run`` sets UV), or PATH's."""
    found = os.environ.get("UV") or shutil.which("uv")
    if not found:
        unavailable("uv is not installed; the packaging tests build and install with it")
    return found


def run(*args: str | Path, cwd: Path = REPO) -> subprocess.CompletedProcess[str]:
    """Run a command to the end; fail the test with its output if it fails."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("VIRTUAL_ENV", "UV_PY"))}
    done = subprocess.run(
        [str(a) for a in args],
        cwd=cwd,
        env=env,
        capture_output=True,
        text=True,
        timeout=TIMEOUT,
        check=False,
    )
    if done.returncode != 0:
        pytest.fail(f"{' '.join(map(str, args))} exited {done.returncode}:\n{done.stderr[-4000:]}")
    return done


@dataclass(frozen=True)
class Venv:
    """A virtualenv holding ``taskkit[extra]`` from the built files."""

    extra: str
    root: Path

    @property
    def python(self) -> Path:
        return self.root / "bin" / "python"

    def installed(self) -> set[str]:
        listed = run(uv(), "pip", "list", "--python", self.python, "--format", "freeze")
        return {line.partition("==")[0].lower() for line in listed.stdout.split()}


def make_venv(dist: Path, base: Path, extra: str) -> Venv:
    venv = Venv(extra, base / extra)
    run(uv(), "venv", "--quiet", "--python", sys.executable, venv.root)
    requirement = f"taskkit[{extra}]=={VERSION}"
    run(uv(), "pip", "install", "--python", venv.python, "--find-links", dist, requirement)
    return venv
