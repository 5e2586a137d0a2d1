"""taskkit: a distributed task runner. This is its core.

Applications put tasks into a backend chosen by URL (``Kit.from_url``);
worker threads in worker processes run them through the application's
TaskHandler and store results the caller can wait for.
"""

from .backend import (
    FINISHED_STATES,
    Backend,
    CancelResult,
    Capabilities,
    Claim,
    Connection,
    GroupStats,
    Lock,
    Outcome,
    OutcomeKind,
    PutResult,
    RetryResult,
    StageInfo,
    Subscription,
    TaskInfo,
    TaskState,
)
from .clock import cur_ts, reset_cur_ts_impl, set_cur_ts_impl
from .compat import (
    ScheduleEntriesCompat,
    ScheduleEntriesCompatMapping,
    ScheduleEntryCompat,
    ScheduleEntryDict,
)
from .errors import (
    BackendUnavailable,
    Cancelled,
    CapabilityError,
    ConfigurationError,
    DuplicateTask,
    Failed,
    InvalidTaskError,
    NoResult,
    NotFound,
    PayloadTooLarge,
    PluginError,
    StorageNotReady,
    TaskCancelled,
    TaskkitError,
    TaskTimeout,
    UnknownBackendError,
)
from .events import ControlEvent, EventBridge
from .handler import DiscardTask, TaskHandler
from .hookspecs import hookimpl
from .kit import InitiateTaskArgs, Kit
from .opening import connect, migrate
from .plugins import list_backends
from .registry import BackendRegistry
from .result import Result, ResultGetPrevented, ResultGetTimedOut
from .scheduler import (
    DuplicationPolicy,
    OnlyEarliest,
    OnlyLatest,
    RegularSchedule,
    Schedule,
    ScheduleEntry,
)
from .settings import WorkerSettings
from .task import (
    DEFAULT_TASK_TTL,
    MAX_NAME_LENGTH,
    MAX_PAYLOAD_BYTES,
    MAX_PRIORITY,
    MIN_PRIORITY,
    Task,
    Unique,
)
from .version import VERSION
from .worker import (
    RunningAttempt,
    Service,
    TaskkitProcess,
    WorkerRuntime,
    current_attempt,
    current_claim,
)

__all__ = [
    "DEFAULT_TASK_TTL",
    "FINISHED_STATES",
    "MAX_NAME_LENGTH",
    "MAX_PAYLOAD_BYTES",
    "MAX_PRIORITY",
    "MIN_PRIORITY",
    "VERSION",
    "Backend",
    "BackendRegistry",
    "BackendUnavailable",
    "CancelResult",
    "Cancelled",
    "Capabilities",
    "CapabilityError",
    "Claim",
    "ConfigurationError",
    "Connection",
    "ControlEvent",
    "DiscardTask",
    "DuplicateTask",
    "DuplicationPolicy",
    "EventBridge",
    "Failed",
    "GroupStats",
    "InitiateTaskArgs",
    "InvalidTaskError",
    "Kit",
    "Lock",
    "NoResult",
    "NotFound",
    "OnlyEarliest",
    "OnlyLatest",
    "Outcome",
    "OutcomeKind",
    "PayloadTooLarge",
    "PluginError",
    "PutResult",
    "RegularSchedule",
    "Result",
    "ResultGetPrevented",
    "ResultGetTimedOut",
    "RetryResult",
    "RunningAttempt",
    "Schedule",
    "ScheduleEntriesCompat",
    "ScheduleEntriesCompatMapping",
    "ScheduleEntry",
    "ScheduleEntryCompat",
    "ScheduleEntryDict",
    "Service",
    "StageInfo",
    "StorageNotReady",
    "Subscription",
    "Task",
    "TaskCancelled",
    "TaskHandler",
    "TaskInfo",
    "TaskState",
    "TaskTimeout",
    "TaskkitError",
    "TaskkitProcess",
    "Unique",
    "UnknownBackendError",
    "WorkerRuntime",
    "WorkerSettings",
    "connect",
    "cur_ts",
    "current_attempt",
    "current_claim",
    "hookimpl",
    "list_backends",
    "migrate",
    "reset_cur_ts_impl",
    "set_cur_ts_impl",
]
