"""The four contract classes a plugin's tests subclass, gathered from the areas.

Each gathers the areas of one side of the contract (see ``features/``), so
``class TestBackend(BackendContract)`` runs every storage test, and a method
named like a kit test, defined in the subclass, replaces that test. The
areas' own classes can be subclassed one by one as well.
"""

from __future__ import annotations

from .features.claims import ClaimContract
from .features.coordination import CoordinationContract
from .features.events import ControlEventContract, EventBridgeContract
from .features.kit import TaskRunContract
from .features.leases import LeaseContract
from .features.namespaces import NamespaceContract
from .features.processes import ProcessContract
from .features.puts import PutContract
from .features.restores import RecoveryContract, RestoreContract
from .features.results import ResultContract, ResultWaitContract
from .features.scheduler import ScheduleContract, SchedulerStateContract
from .features.settling import SettleContract

__all__ = ["BackendContract", "EventBridgeContract", "KitContract", "ProcessContract"]


class BackendContract(
    LeaseContract,
    PutContract,
    ClaimContract,
    SettleContract,
    RestoreContract,
    ResultContract,
    SchedulerStateContract,
    CoordinationContract,
    NamespaceContract,
):
    """Storage: putting, claiming, settling, restoring, reading, locks, namespaces."""


class KitContract(
    TaskRunContract,
    ResultWaitContract,
    ControlEventContract,
    RecoveryContract,
    ScheduleContract,
):
    """Kit, Result, worker threads, services, control events and schedules."""
