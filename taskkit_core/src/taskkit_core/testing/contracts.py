"""The four contract classes a plugin's tests subclass, gathered from the areas.

Each gathers the areas of one side of the contract (see ``features/``), so
``class TestBackend(BackendContract)`` runs every storage test, and a method
named like a kit test, defined in the subclass, replaces that test. The
areas' own classes can be subclassed one by one as well.
"""

from __future__ import annotations

from .features.cancellation import CancelContract, CancelRunContract
from .features.claims import ClaimContract
from .features.coordination import CoordinationContract
from .features.events import ControlEventContract, EventBridgeContract
from .features.headers import HeaderContract, HeaderKitContract
from .features.job_input import JobInputContract
from .features.kit import TaskRunContract
from .features.leases import LeaseContract
from .features.listing import ListingContract, ListingKitContract
from .features.namespaces import NamespaceContract
from .features.priorities import PriorityContract, PriorityRunContract
from .features.processes import ProcessContract
from .features.puts import PutContract
from .features.restores import RecoveryContract, RestoreContract
from .features.results import ResultContract, ResultWaitContract
from .features.scheduler import ScheduleContract, SchedulerStateContract
from .features.settling import SettleContract
from .features.timeouts import TimeoutContract
from .features.uniqueness import UniqueContract, UniqueKitContract

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
    PriorityContract,
    UniqueContract,
    CancelContract,
    ListingContract,
    HeaderContract,
):
    """Storage: putting, claiming, settling, restoring, reading, locks, namespaces,
    and job control (priorities, unique keys, cancellation, listing, headers)."""


class KitContract(
    TaskRunContract,
    ResultWaitContract,
    ControlEventContract,
    RecoveryContract,
    ScheduleContract,
    PriorityRunContract,
    UniqueKitContract,
    CancelRunContract,
    TimeoutContract,
    ListingKitContract,
    HeaderKitContract,
    JobInputContract,
):
    """Kit, Result, worker threads, services, control events, schedules and job control."""
