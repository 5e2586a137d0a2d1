"""taskkit 0.2's import paths, kept so that ``pip install -U taskkit`` breaks no 0.2 program.

Every name here is taskkit_core's own object: a 0.2 program runs on the
0.4 core underneath. Importing this package warns once per process with a
FutureWarning, not a DeprecationWarning: Python hides DeprecationWarnings
raised in modules other than ``__main__``, and an application imports
taskkit from its modules, so its developers would never see one. Worker
processes started by multiprocessing (spawn re-imports the application)
stay quiet: their parent has said it already.
"""

import multiprocessing
import warnings

from taskkit_core import (
    Backend,
    ControlEvent,
    DiscardTask,
    DuplicationPolicy,
    EventBridge,
    Failed,
    InitiateTaskArgs,
    Kit,
    Lock,
    NoResult,
    NotFound,
    OnlyEarliest,
    OnlyLatest,
    RegularSchedule,
    Result,
    ResultGetTimedOut,
    Schedule,
    ScheduleEntriesCompat,
    ScheduleEntriesCompatMapping,
    ScheduleEntry,
    ScheduleEntryCompat,
    ScheduleEntryDict,
    StageInfo,
    Task,
    TaskHandler,
    TaskkitProcess,
)

from .version import VERSION

PORTING_GUIDE = "https://github.com/taskkit/taskkit/blob/main/README.md#porting-from-taskkit-02"

# A spawned child is named by its parent before it re-imports the application.
if multiprocessing.current_process().name == "MainProcess":
    warnings.warn(
        "taskkit 0.2's API now runs on taskkit_core 0.4 and will be removed: import from "
        "taskkit_core instead of taskkit, and replace taskkit.impl.redis.make_kit(redis, handler) "
        f"with taskkit_core.Kit.from_url('redis://host:6379/0', handler); see {PORTING_GUIDE}",
        FutureWarning,
        stacklevel=2,  # the line that imported taskkit (import machinery frames are skipped)
    )

__all__ = [
    "VERSION",
    "Backend",
    "ControlEvent",
    "DiscardTask",
    "DuplicationPolicy",
    "EventBridge",
    "Failed",
    "InitiateTaskArgs",
    "Kit",
    "Lock",
    "NoResult",
    "NotFound",
    "OnlyEarliest",
    "OnlyLatest",
    "RegularSchedule",
    "Result",
    "ResultGetTimedOut",
    "Schedule",
    "ScheduleEntriesCompat",
    "ScheduleEntriesCompatMapping",
    "ScheduleEntry",
    "ScheduleEntryCompat",
    "ScheduleEntryDict",
    "StageInfo",
    "Task",
    "TaskHandler",
    "TaskkitProcess",
]
