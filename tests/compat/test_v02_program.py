"""The acceptance test of the rebuild: a taskkit 0.2 program, ported by its imports.

expected_v02.json is what v02_original.py printed on taskkit 0.2.4 with its
Redis backend (2 worker processes x 4 threads). The ported program must
give the same results on every backend: with worker processes where the
backend allows them, with in-process worker threads on memory://.
"""

from __future__ import annotations

import difflib
import json
from pathlib import Path
from typing import Any

from taskkit_core.testing import OpenConnection

from taskkit_core import Kit, WorkerRuntime

from . import v02_ported

HERE = Path(__file__).parent


def test_the_port_changes_only_imports_and_make_kit() -> None:
    original = (HERE / "v02_original.py").read_text().splitlines()
    ported = (HERE / "v02_ported.py").read_text().splitlines()
    docstring_end = 7  # the module docstrings say which file is which
    changed = [
        line[1:].strip()
        for line in difflib.unified_diff(original[docstring_end:], ported[docstring_end:], n=0)
        if line[:1] in "+-" and not line.startswith(("+++", "---"))
    ]
    assert changed, "the two programs must differ in their imports"
    for line in changed:
        is_import = line.startswith(("from ", "import ")) or not line
        assert is_import or "make_kit(" in line or "Kit.from_url(" in line, line


def start_threads(kit: Kit) -> list[WorkerRuntime]:
    """Two in-process runtimes in place of two worker processes."""
    return [kit.start_threads({v02_ported.GROUP: 4}) for _ in range(2)]


def stop_threads(runtimes: list[WorkerRuntime]) -> list[int]:
    return [0 if runtime.wait(timeout=60) else 1 for runtime in runtimes]


def test_the_ported_program_gives_the_original_results(
    taskkit_open: OpenConnection, taskkit_namespace: str
) -> None:
    connection = taskkit_open()
    kit = Kit(
        connection.backend,
        connection.bridge,
        v02_ported.Handler(),
        backend_options={"namespace": taskkit_namespace},
    )
    if kit.backend.capabilities.multi_process:
        outcome = v02_ported.main(kit, v02_ported.start_processes, v02_ported.join_processes)
    else:
        outcome = v02_ported.main(kit, start_threads, stop_threads)
    expected: dict[str, Any] = json.loads((HERE / "expected_v02.json").read_text())
    assert outcome == expected
