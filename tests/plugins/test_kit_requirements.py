"""Capability requirements of kit tests: declared on the test, reported at the test.

Each case runs pytest in a subprocess, with the kit loaded by ``-p`` against
``memory://`` (which lacks multi_process and transactional_enqueue), and reads
the ``-ra`` summary a plugin author would read.
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

TESTS = """
from taskkit_core.testing import lacking, require, requires


class TestMine:
    @requires("multi_process")
    def test_needs_processes(self, backend):
        raise AssertionError("runs only where worker processes are possible")

    @lacking("multi_process")
    def test_without_processes(self, backend):
        assert not backend.capabilities.multi_process

    @requires("push_wakeups")
    def test_needs_wakeups(self, backend):
        assert backend.capabilities.push_wakeups

    def test_decides_late(self, capabilities):
        require(capabilities, "transactional_enqueue")
"""


def run_kit(folder: Path, *args: str) -> subprocess.CompletedProcess[str]:
    """pytest with the kit on memory:// in ``folder``, without this run's settings."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("PYTEST_", "TASKKIT_"))}
    command = [sys.executable, "-m", "pytest", "-p", "taskkit_core.testing", "-p"]
    command += ["no:cacheprovider", "--taskkit-url", "memory://", "-ra", *args]
    return subprocess.run(
        command, cwd=folder, env=env, capture_output=True, text=True, timeout=240, check=False
    )


def skip_lines(output: str) -> list[str]:
    return [line for line in output.splitlines() if line.startswith("SKIPPED")]


def line_of(text: str, needle: str) -> int:
    return text.splitlines().index(needle) + 1


def test_a_skip_names_the_test_and_points_at_it(tmp_path: Path) -> None:
    (tmp_path / "test_mine.py").write_text(TESTS)
    done = run_kit(tmp_path, "test_mine.py")
    assert done.returncode == 0, done.stdout + done.stderr
    assert "2 passed, 2 skipped" in done.stdout
    at = line_of(TESTS, '    @requires("multi_process")')
    assert (
        f"SKIPPED [1] test_mine.py:{at}: TestMine::test_needs_processes needs worker "
        "processes sharing the backend (capability multi_process), which memory:// lacks; "
        "the refusal without it was checked instead"
    ) in skip_lines(done.stdout)
    late = line_of(TESTS, "    def test_decides_late(self, capabilities):")
    assert (
        f"SKIPPED [1] test_mine.py:{late}: TestMine::test_decides_late needs enqueue inside an "
        "application transaction (capability transactional_enqueue), which the backend lacks"
    ) in skip_lines(done.stdout)


def test_the_kits_own_skips_point_at_its_area_modules(tmp_path: Path) -> None:
    done = run_kit(tmp_path, "-k", "TestProcesses")
    assert done.returncode == 0, done.stdout + done.stderr
    lines = skip_lines(done.stdout)
    assert len(lines) == 6
    location = re.compile(r"^SKIPPED \[1\] \S+/testing/features/processes\.py:\d+: TestProcesses::")
    assert all(location.match(line) for line in lines), lines


def test_an_unknown_capability_is_an_error_at_collection(tmp_path: Path) -> None:
    (tmp_path / "test_typo.py").write_text(
        "from taskkit_core.testing import requires\n\n"
        "@requires('multi_processes')\n"
        "def test_typo(backend):\n    pass\n"
    )
    done = run_kit(tmp_path, "test_typo.py")
    assert done.returncode != 0
    assert "unknown capability ['multi_processes']; known: multi_process," in done.stdout
