"""taskkit's conformance kit, run against acme:// (the URL comes from conftest.py)."""

from taskkit_core import Backend
from taskkit_core.testing import (
    BackendContract,
    EventBridgeContract,
    KitContract,
    ProcessContract,
    make_task,
)


class TestBackend(BackendContract):
    # A method named like a kit test replaces it. The kit lets timestamps
    # round-trip to the microsecond; SQLite's REAL keeps every bit of a
    # float, so acme:// promises more: the task comes back exactly equal.
    def test_timestamps_round_trip_to_the_microsecond(self, backend: Backend) -> None:
        task = make_task(due=1700000000.123456, scheduled=1700000000.654321)
        backend.put_tasks(task)
        assert backend.lookup_tasks(task.id) == {task.id: task}

    # To switch a kit test off, replace it with a skip that says why:
    #
    #     @pytest.mark.skip(reason="acme:// cannot ... because ...")
    #     def test_eight_threads_claim_500_tasks_each_exactly_once(self) -> None: ...


class TestEventBridge(EventBridgeContract):
    pass


class TestKit(KitContract):
    pass


class TestProcesses(ProcessContract):
    pass
