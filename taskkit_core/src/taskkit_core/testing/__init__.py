"""The conformance kit: the whole backend contract as pytest tests against a URL.

Opt in with ``-p taskkit_core.testing`` (it never loads itself):

    pytest -p taskkit_core.testing --taskkit-url sqlite:///kit.db

runs every contract test against that URL. Or write two short files (see
plugins.md): a conftest.py with ``pytest_plugins = ["taskkit_core.testing"]``
and a ``taskkit_url`` fixture, and a test module that subclasses the
contract classes, where one test can be overridden or switched off.

The tests live one module per area in ``features/`` (leases, puts, claims,
settling, restores, results, scheduler, coordination, namespaces, events,
processes, kit); ``contracts`` gathers them into the four classes a plugin
subclasses: BackendContract, EventBridgeContract, KitContract and
ProcessContract.
Each test gets a namespace of its own, created through the backend's
migrator and dropped afterwards. A test that needs a capability declares it
(``@requires("push_wakeups")``) and skips, under its own name, where the
backend lacks it.
"""

from __future__ import annotations

from .contracts import BackendContract, EventBridgeContract, KitContract, ProcessContract
from .features.claims import ClaimContract
from .features.coordination import CoordinationContract
from .features.events import ControlEventContract
from .features.kit import TaskRunContract
from .features.leases import LeaseContract
from .features.namespaces import NamespaceContract
from .features.puts import PutContract
from .features.restores import RecoveryContract, RestoreContract
from .features.results import ResultContract, ResultWaitContract
from .features.scheduler import ScheduleContract, SchedulerStateContract
from .features.settling import SettleContract
from .plugin import OpenConnection, StartThreads
from .requirements import CAPABILITY_SENTENCES, lacking, require, requires
from .support import FAST_SETTINGS, RecordingHandler, make_task, wait_until

pytest_plugins = ["taskkit_core.testing.plugin"]

__all__ = [
    "CAPABILITY_SENTENCES",
    "FAST_SETTINGS",
    "BackendContract",
    "ClaimContract",
    "ControlEventContract",
    "CoordinationContract",
    "EventBridgeContract",
    "KitContract",
    "LeaseContract",
    "NamespaceContract",
    "OpenConnection",
    "ProcessContract",
    "PutContract",
    "RecordingHandler",
    "RecoveryContract",
    "RestoreContract",
    "ResultContract",
    "ResultWaitContract",
    "ScheduleContract",
    "SchedulerStateContract",
    "SettleContract",
    "StartThreads",
    "TaskRunContract",
    "lacking",
    "make_task",
    "require",
    "requires",
    "wait_until",
]
