"""Every contract class of the kit, collected against --taskkit-url."""

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
