"""Each kit test for a promise of plugins.md fails against a backend that breaks that promise.

For every case, pytest runs in a subprocess with the kit and one kit test
selected, against two URLs: the sound backend (memory:// or the acme
example), where the test must pass, and its broken variant, where it must
fail. The variants (``variants``, ``acme_variants``) are installed through
an entry point, so worker processes the kit starts find them too.
"""

from __future__ import annotations

import os
import subprocess
import sys
import xml.etree.ElementTree as ET
from dataclasses import dataclass
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]
ACME_SOURCE = REPO / "examples" / "acme-backend" / "src"

ENTRY_POINTS = """\
[taskkit]
acme = taskkit_acme.plugin
broken-variants = kit_self_test.plugin
"""

KIT_TESTS = """\
from taskkit_core.testing import BackendContract, EventBridgeContract


class TestBackend(BackendContract):
    pass


class TestEventBridge(EventBridgeContract):
    pass
"""

CONFTEST = """\
import pytest

pytest_plugins = ["taskkit_core.testing"]


@pytest.fixture(params=[{sound!r}, {broken!r}], ids=["sound", "broken"])
def taskkit_url(request, tmp_path):
    return request.param.format(folder=tmp_path)
"""


@dataclass(frozen=True)
class Case:
    """A broken variant, what it breaks, and the kit test that must catch it."""

    scheme: str
    kit_test: str
    breaks: str
    says: str
    """Words of the kit test's failure message: it failed where it checks the promise."""

    @property
    def on_acme(self) -> bool:
        return self.scheme.startswith("broken-acme-")

    def urls(self) -> tuple[str, str]:
        """(the sound backend's URL, the variant's); ``{folder}`` is the test's tmp_path."""
        if self.on_acme:
            return "acme://{folder}/tasks.db", f"{self.scheme}://{{folder}}/tasks.db"
        return "memory://", f"{self.scheme}://"


CASES = [
    Case(
        "broken-memory-folding",
        "TestBackend::test_a_namespace_differing_only_in_case_is_refused",
        "namespaces keyed by their lowered name without a refusal (as SQLite does tables)",
        "opened next to",
    ),
    Case(
        "broken-acme-eternal-lock",
        "TestBackend::test_a_lock_held_by_a_killed_process_comes_free",
        "a lock row without a lease: a killed holder's lock is never freed",
        "a lock whose holder was killed is still taken",
    ),
    Case(
        "broken-memory-counter-reset",
        "TestEventBridge::test_events_arrive_after_destroy_all",
        "destroy_all starts the event counter again, below the receivers' positions",
        "Right contains one more item",
    ),
    Case(
        "broken-acme-cursor-kept",
        "TestEventBridge::test_events_arrive_after_drop_and_migrate",
        "the bridge keeps its cursor when drop and migrate made the table anew",
        "Right contains one more item",
    ),
    Case(
        "broken-memory-lapsing-events",
        "TestEventBridge::test_events_sent_while_a_receiver_was_away_arrive",
        "a receiver away for more than a second resumes from the newest event",
        "Right contains 2 more items",
    ),
    Case(
        "broken-memory-partial-put",
        "TestBackend::test_a_put_that_fails_stores_none_of_its_tasks",
        "put_tasks stores task by task and stops at a bad one",
        "a put that raised stored 2 of its 4 tasks",
    ),
    Case(
        "broken-memory-held-lock",
        "TestBackend::test_no_call_leaves_a_transaction_open",
        "claim_tasks keeps the store's lock (a transaction left open)",
        "waited more than 10 s: a call left a transaction",
    ),
    Case(
        "broken-memory-stale-restore",
        "TestBackend::test_a_worker_racing_a_restore_keeps_its_task_or_loses_it",
        "restore_abandoned writes back copies of what it read a moment before",
        "the worker's outcome was written and the task was restored too",
    ),
]


@pytest.fixture(scope="module")
def site(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A folder that installs the variants' plugin when it is on PYTHONPATH."""
    folder = tmp_path_factory.mktemp("site")
    info = folder / "taskkit_broken_variants-0.0.dist-info"
    info.mkdir()
    (info / "METADATA").write_text(
        "Metadata-Version: 2.1\nName: taskkit-broken-variants\nVersion: 0.0\n"
    )
    (info / "entry_points.txt").write_text(ENTRY_POINTS)
    return folder


def run_kit_test(case: Case, site: Path, folder: Path) -> dict[str, tuple[str, str]]:
    """Outcome and message of the case's kit test on the sound URL and the variant, by id."""
    sound, broken = case.urls()
    (folder / "conftest.py").write_text(CONFTEST.format(sound=sound, broken=broken))
    (folder / "test_kit.py").write_text(KIT_TESTS)
    report = folder / "report.xml"
    env = {k: v for k, v in os.environ.items() if not k.startswith(("PYTEST_", "TASKKIT_"))}
    env["PYTHONPATH"] = os.pathsep.join(map(str, [site, REPO / "tests", ACME_SOURCE]))
    test_class, test_name = case.kit_test.split("::")
    command = [sys.executable, "-m", "pytest", "-p", "no:cacheprovider", "-p", "no:xdist"]
    command += [f"--junit-xml={report}", "-k", f"{test_class} and {test_name}", "test_kit.py"]
    done = subprocess.run(
        command, cwd=folder, env=env, capture_output=True, text=True, timeout=300, check=False
    )
    outcomes = outcomes_of(report) if report.exists() else {}
    assert set(outcomes) == {"sound", "broken"}, done.stdout[-3000:] + done.stderr[-3000:]
    return outcomes


OUTCOMES = {"failure": "failed", "error": "error", "skipped": "skipped"}


def outcomes_of(report: Path) -> dict[str, tuple[str, str]]:
    """Each test of a JUnit report: its parameter id -> (passed/failed/error/skipped, message)."""
    outcomes = {}
    for case in ET.parse(report).getroot().iter("testcase"):  # noqa: S314 - our own report
        marks = [child for child in case if child.tag in OUTCOMES]
        outcome = (OUTCOMES[marks[0].tag], marks[0].get("message", "")) if marks else ("passed", "")
        outcomes[case.attrib["name"].rpartition("[")[2].rstrip("]")] = outcome
    return outcomes


@pytest.mark.parametrize("case", CASES, ids=[case.scheme for case in CASES])
def test_the_kit_test_catches_the_broken_variant(case: Case, site: Path, tmp_path: Path) -> None:
    outcomes = run_kit_test(case, site, tmp_path)
    assert outcomes["sound"] == ("passed", ""), f"{case.kit_test} fails on the sound backend"
    outcome, message = outcomes["broken"]
    assert outcome == "failed", f"{case.kit_test} did not catch: {case.breaks}"
    assert case.says in message, message
