"""taskkit: a distributed task runner. This is its core.

Applications put tasks into a backend chosen by URL (``Kit.from_url``);
worker threads in worker processes run them through the application's
TaskHandler and store results the caller can wait for. Applications
write task functions (``App``, ``@app.task``); ``Kit`` and ``TaskHandler``
are the low-level layer underneath.
"""

# The application layer (taskkit_core.app) imports Kit, so it comes last below.

from .backend import (
    FINISHED_STATES,
    AllCreated,
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

from .app import (  # isort: skip - after the Kit it is built on
    App,
    Call,
    CronSchedule,
    IntervalSchedule,
    JsonCodec,
    NoTaskRunning,
    Retry,
    RetryAfter,
    TaskContext,
    TaskFunction,
    TaskResult,
    UnknownTask,
    current_task,
)
from .json_handler import JsonHandler  # isort: skip

__all__ = [
    "DEFAULT_TASK_TTL",
    "FINISHED_STATES",
    "MAX_NAME_LENGTH",
    "MAX_PAYLOAD_BYTES",
    "MAX_PRIORITY",
    "MIN_PRIORITY",
    "VERSION",
    "AllCreated",
    "App",
    "Backend",
    "BackendRegistry",
    "BackendUnavailable",
    "Call",
    "CancelResult",
    "Cancelled",
    "Capabilities",
    "CapabilityError",
    "Claim",
    "ConfigurationError",
    "Connection",
    "ControlEvent",
    "CronSchedule",
    "DiscardTask",
    "DuplicateTask",
    "DuplicationPolicy",
    "EventBridge",
    "Failed",
    "GroupStats",
    "InitiateTaskArgs",
    "IntervalSchedule",
    "InvalidTaskError",
    "JsonCodec",
    "JsonHandler",
    "Kit",
    "Lock",
    "NoResult",
    "NoTaskRunning",
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
    "Retry",
    "RetryAfter",
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
    "TaskContext",
    "TaskFunction",
    "TaskHandler",
    "TaskInfo",
    "TaskResult",
    "TaskState",
    "TaskTimeout",
    "TaskkitError",
    "TaskkitProcess",
    "Unique",
    "UnknownBackendError",
    "UnknownTask",
    "WorkerRuntime",
    "WorkerSettings",
    "connect",
    "cur_ts",
    "current_attempt",
    "current_claim",
    "current_task",
    "hookimpl",
    "list_backends",
    "migrate",
    "reset_cur_ts_impl",
    "set_cur_ts_impl",
]
