"""S1 injection corpus, S2 namespaces, S3 wildcards, S9 opaque payloads, S12 static gate."""

from __future__ import annotations

import ast
import pickle
import time
from pathlib import Path

import pytest
from taskkit_core.events import make_event
from taskkit_core.testing import OpenConnection, RecordingHandler, make_task, wait_until

from taskkit_core import Backend, ConfigurationError, Kit, Outcome, connect

CORPUS = [
    "'",
    "''",
    "\\'",
    "trailing\\",
    "'; DROP TABLE tasks;--",
    '" OR 1=1 --',
    "*/",
    "$$",
    "%",
    "_",
    "\u02bc",
    "\uff07",
    "cr\rlf\n",
    "'" * 300,
    "{hash}tag:x",
]

SOURCES = [
    Path(__file__).parents[2] / package / "src"
    for package in ("taskkit_core", "taskkit_sql", "taskkit_redis")
]


def test_s1_every_string_field_round_trips_byte_for_byte(
    backend: Backend, taskkit_open: OpenConnection
) -> None:
    tasks = [make_task(group=text, name=text, data=text) for text in CORPUS]
    backend.put_tasks(*tasks)
    for task in tasks:
        (claim,) = backend.claim_tasks(task.group, "w'; --", 5)
        assert (claim.task.group, claim.task.name, claim.task.data) == (
            task.group,
            task.name,
            task.data,
        )
        assert backend.settle(Outcome.failed(claim, task.group)) == [True]
    for text in CORPUS:
        lock = backend.get_lock(text)
        assert lock.acquire()
        lock.release()
        assert backend.persist_scheduler_state_and_put_tasks(text, text.encode(), expected=None)
        assert backend.get_scheduler_state(text) == text.encode()
    backend.refresh_leases(set(CORPUS), 60)
    assert {w for w, _ in backend.get_leases()} == set(CORPUS)
    other = taskkit_open(namespace=f"{backend.namespace}_x").backend
    assert other.group_stats(0) == [], "nothing leaked into another namespace"
    assert len(backend.get_done_task_ids(None, None, 100)) == len(CORPUS)


@pytest.mark.parametrize("namespace", ["a b", "x;drop", "tasks.x", "q'uote", "x" * 42, "select-1"])
def test_s2_unsafe_namespaces_are_refused_before_reaching_storage(
    taskkit_url: str, namespace: str
) -> None:
    with pytest.raises(ConfigurationError, match="namespace"):
        connect(taskkit_url, namespace=namespace)


def test_s3_wildcards_in_group_names_match_only_themselves(
    kit: Kit, handler: RecordingHandler, start_threads: object
) -> None:
    groups = ["50%", "500", "a_c", "abc", "a*", "a?", "a[b]"]
    runtime = start_threads(dict.fromkeys(groups, 1))  # type: ignore[operator]
    kit.bridge.send_event(make_event("pause", ["a*", "50%", "a_c"]))
    wait_until(lambda: runtime.pools["a*"].paused and runtime.pools["a_c"].paused)
    time.sleep(0.3)
    assert {g for g, pool in runtime.pools.items() if pool.paused} == {"a*", "50%", "a_c"}
    results = {g: kit.initiate_task(g, "echo", g) for g in groups}
    for group in ("500", "abc", "a?", "a[b]"):
        assert results[group].get(timeout=10) == group
    assert not handler.ran(results["a*"].task_id)


def test_s9_a_pickle_payload_stays_opaque_bytes(backend: Backend, tmp_path: Path) -> None:
    canary = tmp_path / "pwned"

    class Gadget:
        def __reduce__(self) -> tuple[object, tuple[str]]:
            return (canary.touch, ())  # type: ignore[return-value]

    payload = pickle.dumps(Gadget())
    task = make_task()
    backend.put_tasks(task.__class__(**{**task.to_dict(), "data": payload}))
    (claim,) = backend.claim_tasks("g", "w", 1)
    assert claim.task.data == payload
    backend.settle(Outcome.succeeded(claim, payload))
    assert backend.get_result(task.id)[1] == payload
    assert not canary.exists(), "nothing was unpickled"


def _calls(tree: ast.AST) -> list[str]:
    names = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Call):
            func = node.func
            name = func.attr if isinstance(func, ast.Attribute) else getattr(func, "id", "")
            names.append(name)
            if any(k.arg == "shell" and getattr(k.value, "value", False) for k in node.keywords):
                names.append("shell=True")
    return names


def test_s12_no_eval_exec_pickle_or_shell_in_the_packages() -> None:
    """Backend data is never unpickled or evaluated, and nothing runs a shell."""
    unsafe_modules = {"pickle", "marshal", "dill", "yaml", "shelve"}
    found = []
    for source in SOURCES:
        for path in source.rglob("*.py"):
            tree = ast.parse(path.read_text())
            for node in ast.walk(tree):
                if isinstance(node, ast.Import | ast.ImportFrom):
                    modules = [a.name for a in node.names] + [getattr(node, "module", "") or ""]
                    found += [f"{path}: imports {m}" for m in modules if m in unsafe_modules]
                elif (
                    isinstance(node, ast.Call)
                    and isinstance(node.func, ast.Attribute)
                    and node.func.attr in {"system", "popen"}
                ):
                    found.append(f"{path}:{node.lineno}: {node.func.attr}")
            found += [f"{path}: {c}" for c in _calls(tree) if c in {"eval", "exec", "shell=True"}]
    assert found == []
