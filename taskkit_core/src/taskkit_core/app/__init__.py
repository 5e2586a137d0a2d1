"""Tasks as typed Python functions: the application layer over Kit and TaskHandler.

``App`` registers task functions (``@app.task``, ``@app.periodic``), puts
their calls into the backend (``f.delay``), and runs workers; underneath it
builds a TaskHandler and a Kit, which stay the low-level protocol.
"""

from .app import App, TaskDecorator
from .calls import Call, TaskOptions
from .codecs import Codec, CodecFactory, JsonCodec, ResultEncodeError
from .context import NoTaskRunning, TaskContext, current_task
from .handler import AppHandler
from .periodic import CronSchedule, IntervalSchedule
from .registry import UnknownTask
from .results import TaskResult
from .retry import Retry, RetryAfter
from .task_function import (
    ArgumentsDecodeError,
    AsyncTaskFunction,
    BaseTaskFunction,
    TaskCaller,
    TaskFunction,
)

__all__ = [
    "App",
    "AppHandler",
    "ArgumentsDecodeError",
    "AsyncTaskFunction",
    "BaseTaskFunction",
    "Call",
    "Codec",
    "CodecFactory",
    "CronSchedule",
    "IntervalSchedule",
    "JsonCodec",
    "NoTaskRunning",
    "ResultEncodeError",
    "Retry",
    "RetryAfter",
    "TaskCaller",
    "TaskContext",
    "TaskDecorator",
    "TaskFunction",
    "TaskOptions",
    "TaskResult",
    "UnknownTask",
    "current_task",
]
