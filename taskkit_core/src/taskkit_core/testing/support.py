"""Helpers of the conformance kit: a handler that records what ran, and waiting."""

from __future__ import annotations

import json
import os
import threading
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any

from ..backend import Backend, Claim
from ..errors import TaskCancelled
from ..handler import DiscardTask
from ..kit import InitiateTaskArgs, Kit
from ..settings import WorkerSettings
from ..task import Task
from ..worker import current_attempt, current_claim

FAST_SETTINGS = WorkerSettings(
    worker_ttl=2.0,
    heartbeat_interval=0.5,
    restore_interval=0.3,
    purge_interval=1.0,
    discard_interval=0.3,
    shutdown_timeout=5.0,
    event_wait=0.2,
)
"""Short timings so the kit sees restores and expiry within seconds."""


@dataclass(frozen=True)
class Execution:
    """One run of a task, as the handler saw it."""

    task_id: str
    name: str
    retry_count: int
    attempt: int | None
    thread: int
    pid: int
    started: float


class RecordingHandler:
    """A JSON handler whose behaviour is chosen by the task name.

    echo: returns the data. fail: raises ValueError(data). flaky: raises
    until retry_count reaches data["failures"], retried after
    data.get("interval", 0) s. discard: raises DiscardTask.
    discard_on_retry: raises, then get_retry_interval raises DiscardTask.
    retry_raises: raises once; get_retry_interval itself raises, so taskkit
    retries after retry_count + 1 s. sleep: sleeps data seconds.
    wait_result: calls Result.get inside the task (prevented).
    wait_result_allowed: the same with avoid_assertion. pid: returns the
    process id. gate: blocks until ``open_gate()``.
    cooperative: runs up to data seconds, stopping early through
    ``check_cancelled()``. stubborn: sleeps data seconds, never looking at
    the flag. hooked: sets the attempt's ``on_cancel`` hook (records the
    call in ``hook_calls``) and waits up to data seconds for it.
    headers: returns the task's headers. slow_once: cooperative on its
    first run, then returns "fast" (retried at once).
    """

    def __init__(self) -> None:
        self.executions: list[Execution] = []
        self._lock = threading.Lock()
        self._gate = threading.Event()
        self.kit: Kit | None = None
        self.hook_calls: list[str] = []
        self.stopped: list[str] = []

    def __getstate__(self) -> dict[str, Any]:
        return {}  # a worker process starts with a fresh record

    def __setstate__(self, state: dict[str, Any]) -> None:
        self.__init__()  # type: ignore[misc]

    def open_gate(self) -> None:
        self._gate.set()

    def ran(self, task_id: str) -> list[Execution]:
        with self._lock:
            return [e for e in self.executions if e.task_id == task_id]

    def handle(self, task: Task) -> Any:
        with self._lock:
            self.executions.append(
                Execution(
                    task.id,
                    task.name,
                    task.retry_count,
                    claim.attempt if (claim := current_claim()) else None,
                    threading.get_ident(),
                    os.getpid(),
                    time.time(),
                )
            )
        data = json.loads(task.data) if task.data else None
        return self._behaviour(task.name)(task, data)

    def _behaviour(self, name: str) -> Callable[[Task, Any], Any]:
        behaviours: dict[str, Callable[[Task, Any], Any]] = {
            "echo": lambda task, data: data,
            "fail": _fail,
            "flaky": _flaky,
            "discard": _discard,
            "discard_on_retry": _fail,
            "retry_raises": _flaky,
            "sleep": _sleep,
            "wait_result": self._wait_result,
            "wait_result_allowed": self._wait_result,
            "pid": lambda task, data: os.getpid(),
            "gate": self._wait_gate,
            "cooperative": self._cooperative,
            "stubborn": _sleep,
            "hooked": self._hooked,
            "headers": lambda task, data: dict(task.headers),
            "slow_once": lambda task, data: (
                self._cooperative(task, data) if task.retry_count == 0 else "fast"
            ),
        }
        return behaviours[name]

    def _wait_gate(self, task: Task, data: Any) -> Any:
        if not self._gate.wait(timeout=30):
            raise TimeoutError("the test never opened the gate")
        return data

    def _cooperative(self, task: Task, data: Any) -> Any:
        attempt = current_attempt()
        assert attempt is not None, "cooperative runs in a worker"
        deadline = time.monotonic() + float(data)
        try:
            while time.monotonic() < deadline:
                attempt.check_cancelled()
                time.sleep(0.01)
        except TaskCancelled:
            with self._lock:
                self.stopped.append(task.id)
            raise
        return data

    def _hooked(self, task: Task, data: Any) -> Any:
        attempt = current_attempt()
        assert attempt is not None, "hooked runs in a worker"
        called = threading.Event()

        def hook() -> None:
            with self._lock:
                self.hook_calls.append(task.id)
            called.set()

        attempt.on_cancel = hook
        called.wait(float(data))
        return data

    def _wait_result(self, task: Task, data: Any) -> Any:
        assert self.kit is not None, "set handler.kit to use wait_result"
        other = self.kit.initiate_task("other", "echo", 1, eager=True)
        return other.get(avoid_assertion=task.name == "wait_result_allowed")

    def get_retry_interval(self, task: Task, exception: Exception) -> float | None:
        if task.name == "flaky":
            data = json.loads(task.data)
            return float(data.get("interval", 0))
        if task.name == "slow_once":
            return 0.0
        if task.name == "discard_on_retry":
            raise DiscardTask
        if task.name == "retry_raises":
            raise RuntimeError("get_retry_interval failed")
        return None

    def encode_data(self, group: str, task_name: str, data: Any) -> bytes:
        return json.dumps(data).encode()

    def encode_result(self, task: Task, result: Any) -> bytes:
        return json.dumps(result).encode()

    def decode_result(self, task: Task, encoded: bytes) -> Any:
        return json.loads(encoded)


def _fail(task: Task, data: Any) -> Any:
    raise ValueError(f"failing on purpose: {data}")


def _flaky(task: Task, data: Any) -> Any:
    failures = data.get("failures", 1) if isinstance(data, dict) else 1
    if task.retry_count < failures:
        raise ValueError(f"flaky failure {task.retry_count + 1} of {failures}")
    return {"retry_count": task.retry_count}


def _discard(task: Task, data: Any) -> Any:
    raise DiscardTask


def _sleep(task: Task, data: Any) -> Any:
    time.sleep(float(data))
    return data


def wait_until(predicate: Callable[[], Any], timeout: float = 10.0, interval: float = 0.02) -> Any:
    """Poll ``predicate`` until it returns something truthy; fail after ``timeout`` s."""
    deadline = time.monotonic() + timeout
    while True:
        value = predicate()
        if value:
            return value
        if time.monotonic() > deadline:
            raise AssertionError(f"condition not met within {timeout} s: {predicate}")
        time.sleep(interval)


def task_args(name: str, datas: Iterable[Any], group: str = "g") -> list[InitiateTaskArgs]:
    """initiate_tasks items: one task named ``name`` per data value."""
    return [{"group": group, "name": name, "data": data} for data in datas]


def make_task(group: str = "g", name: str = "echo", data: Any = None, **kwargs: Any) -> Task:
    """A task with JSON data, as the RecordingHandler expects."""
    return Task.init(group, name, json.dumps(data).encode(), **kwargs)


Start = Any
"""The ``start_threads`` fixture's type, as the kit's tests annotate it."""


def claim_one(backend: Backend, group: str = "g", worker: str = "w1") -> Claim:
    claims = backend.claim_tasks(group, worker, 1)
    assert len(claims) == 1, f"expected one due task in {group!r}, got {claims}"
    return claims[0]


def alive(backend: Backend, *workers: str, ttl: float = 60) -> None:
    backend.refresh_leases(set(workers), ttl)


def gone(backend: Backend, task_id: str) -> bool:
    return backend.lookup_tasks(task_id)[task_id] is None
