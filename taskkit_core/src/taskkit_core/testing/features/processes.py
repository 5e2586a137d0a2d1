"""Worker processes sharing the backend (capability multi_process)."""

from __future__ import annotations

import os
import signal
import time
from typing import Any

import pytest

from ...errors import CapabilityError
from ...kit import Kit
from ...worker.process import TaskkitProcess
from ..requirements import refused_without, requires
from ..support import (
    task_args,
    wait_until,
)


@refused_without("multi_process")
def _processes_are_refused(request: pytest.FixtureRequest) -> None:
    """Without multi_process, start_processes refuses with a clear error."""
    kit: Kit = request.getfixturevalue("kit")
    with pytest.raises(CapabilityError, match="start_threads"):
        kit.start_processes(1, {"g": 1})


class ProcessContract:
    """start_processes, control events across processes, a SIGKILLed worker."""

    @pytest.fixture
    def processes(self) -> Any:
        started: list[TaskkitProcess] = []
        yield started
        for process in started:
            if process.is_alive():
                process.kill()
            process.join(10)

    @requires("multi_process")
    @pytest.mark.parametrize("start_method", ["fork", "forkserver", "spawn"])
    def test_worker_processes_run_tasks(
        self, kit: Kit, processes: list[TaskkitProcess], start_method: str
    ) -> None:
        results = kit.initiate_tasks(*task_args("pid", range(40)))
        processes += kit.start_processes(
            2, {"g": 2}, polling_interval=0.1, start_method=start_method
        )
        pids = {r.get(timeout=60) for r in results}
        assert pids <= {p.pid for p in processes}
        assert os.getpid() not in pids

    @requires("multi_process")
    def test_shutdown_event_ends_worker_processes(
        self, kit: Kit, processes: list[TaskkitProcess]
    ) -> None:
        processes += kit.start_processes(2, {"g": 1}, polling_interval=0.1)
        # a worker holds its lease only after its event bridge started listening
        wait_until(lambda: len(kit.backend.get_leases()) == 2, timeout=60)
        kit.send_shutdown_event()
        for process in processes:
            process.join(30)
            assert process.exitcode == 0
            assert not process.is_active()

    @requires("multi_process")
    def test_sigterm_lets_the_running_task_finish(
        self, kit: Kit, processes: list[TaskkitProcess]
    ) -> None:
        (process,) = kit.start_processes(1, {"g": 1}, polling_interval=0.1)
        processes.append(process)
        result = kit.initiate_task("g", "sleep", 1.5)
        wait_until(lambda: kit.backend.get_stage_info(10), timeout=30)
        # Staged is not yet started: a claim SIGTERM meets before its thread
        # takes it is released, by design. Half a second in, the task runs.
        time.sleep(0.5)
        assert process.pid is not None
        os.kill(process.pid, signal.SIGTERM)
        process.join(30)
        assert process.exitcode == 0
        assert result.get(timeout=1) == 1.5

    @requires("multi_process")
    def test_the_task_of_a_killed_worker_process_finishes_elsewhere(
        self, kit: Kit, processes: list[TaskkitProcess]
    ) -> None:
        victim = kit.start_processes(1, {"g": 1}, polling_interval=0.1)[0]
        processes.append(victim)
        result = kit.initiate_task("g", "sleep", 1.0)
        (info,) = wait_until(lambda: kit.backend.get_stage_info(10), timeout=30)
        assert victim.pid is not None and info.worker_id.split(":")[1] == str(victim.pid)
        os.kill(victim.pid, signal.SIGKILL)
        killed_at = time.monotonic()
        processes += kit.start_processes(1, {"g": 1}, polling_interval=0.1)
        assert result.get(timeout=60) == 1.0
        settings = kit.settings
        bound = settings.worker_ttl + settings.restore_interval + 0.1 + 1.0 + 1.5 + 5
        assert time.monotonic() - killed_at < bound
