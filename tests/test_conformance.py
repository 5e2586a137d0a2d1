"""The conformance kit, run against every first-party backend (see conftest.py)."""

from taskkit_core.testing import (
    BackendContract,
    EventBridgeContract,
    KitContract,
    ProcessContract,
)


class TestBackend(BackendContract):
    pass


class TestEventBridge(EventBridgeContract):
    pass


class TestKit(KitContract):
    pass


class TestProcesses(ProcessContract):
    pass
