"""Worker settings and runtime configuration are validated up front."""

from __future__ import annotations

from typing import Any

import pytest
from taskkit_core.errors import CapabilityError, ConfigurationError
from taskkit_core.testing import RecordingHandler
from taskkit_core.worker.plan import RuntimeConfig, WorkerPlan, default_polling_interval

from taskkit_core import Kit, WorkerSettings


def test_defaults_recover_a_dead_worker_well_under_30_seconds() -> None:
    s = WorkerSettings()
    assert s.worker_ttl + s.restore_interval + default_polling_interval(8) < 20
    assert s.heartbeat == pytest.approx(s.worker_ttl / 3)


@pytest.mark.parametrize(
    "kwargs",
    [
        {"worker_ttl": 0},
        {"worker_ttl": float("inf")},
        {"restore_interval": -1},
        {"heartbeat_interval": 6, "worker_ttl": 10},
        {"claim_batch": 0},
        {"shutdown_timeout": -1},
        {"event_wait": "1"},
        {"idle_claim_rate": 0},
        {"idle_claim_rate": float("inf")},
        {"idle_claim_rate": "20"},
    ],
)
def test_bad_settings_are_refused(kwargs: dict[str, Any]) -> None:
    with pytest.raises(ConfigurationError):
        WorkerSettings(**kwargs)


def test_polling_interval_default_grows_with_threads() -> None:
    assert [default_polling_interval(n) for n in (1, 4, 8, 16, 100)] == [1, 1, 2, 4, 4]
    config = RuntimeConfig.build({"a": 8, "b": 1}, polling_interval={"a": 0.5})
    assert config.polling_interval == {"a": 0.5, "b": 1.0}
    assert RuntimeConfig.build({"a": 2}, polling_interval=3).polling_interval == {"a": 3.0}


@pytest.mark.parametrize(
    ("threads", "message"),
    [
        ({"g": -1}, "must be an int >= 0"),
        ({"g": 1.5}, "must be an int >= 0"),
        ({"": 1}, "must not be empty"),
        ([("g", 1)], "must map group names"),
    ],
)
def test_bad_thread_counts_are_refused(threads: Any, message: str) -> None:
    with pytest.raises((ConfigurationError, ValueError), match=message):
        RuntimeConfig.build(threads)


def test_bad_polling_interval_is_refused() -> None:
    with pytest.raises(ConfigurationError, match="polling_interval"):
        RuntimeConfig.build({"g": 1}, polling_interval={"g": -2})
    with pytest.raises(ConfigurationError, match="polling_interval"):
        RuntimeConfig.build({"g": 1}, polling_interval="fast")  # type: ignore[arg-type]


def test_memory_refuses_worker_processes_with_a_clear_error() -> None:
    kit = Kit.from_url("memory://", RecordingHandler())
    with pytest.raises(CapabilityError, match=r"use kit.start_threads"):
        kit.start_processes(2, {"g": 1})
    with pytest.raises(CapabilityError, match="multi_process"):
        kit.start(1, {"g": 1})


def test_a_plan_gives_each_worker_process_its_helper_services_and_stagger() -> None:
    plan = WorkerPlan(RuntimeConfig.build({"g": 1}), processes=4, helper_services=lambda i: i == 0)
    configs = [plan.runtime_for(index) for index in range(4)]
    assert [c.helper_services for c in configs] == [True, False, False, False]
    assert [c.stagger for c in configs] == [0.0, 0.25, 0.5, 0.75]
    assert {c.threads_per_group["g"] for c in configs} == {1}


@pytest.mark.parametrize("processes", [-1, 1.5, True])
def test_a_bad_process_count_is_refused(processes: Any) -> None:
    with pytest.raises(ConfigurationError, match="num_processes"):
        WorkerPlan(RuntimeConfig.build({"g": 1}), processes=processes)


def test_get_result_of_something_not_a_task_id_says_so() -> None:
    kit = Kit.from_url("memory://", RecordingHandler())
    result = kit.initiate_task("g", "t", {})
    with pytest.raises(TypeError, match=r"^get_result takes a task id \(a str\), not a Result$"):
        kit.get_result(result)  # type: ignore[arg-type]
    assert kit.get_result(result.task_id).task_id == result.task_id
