"""Every error taskkit raises, in one hierarchy.

Catch :class:`TaskkitError` to catch them all. Messages say what happened,
show the offending value (with any password masked) and, where there is
one, the next step.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from .task import Task


class TaskkitError(Exception):
    """Base class of taskkit's errors."""


class ConfigurationError(TaskkitError, ValueError):
    """A URL, option or argument is not usable; nothing was changed."""


class UnknownBackendError(ConfigurationError):
    """No installed backend serves the URL's scheme."""


class PluginError(TaskkitError):
    """A backend plugin could not be loaded or clashes with another one."""


class SchemeConflictError(PluginError):
    """Two installed distributions add the same URL scheme; no backend can be chosen."""


class BackendUnavailable(TaskkitError):
    """The backend cannot be reached (server down, driver missing, bad credentials)."""


class StorageNotReady(TaskkitError):
    """The backend's storage is missing or older than this version; run its migration."""


class CapabilityError(TaskkitError):
    """The backend lacks a capability the requested operation needs."""


class InvalidTaskError(TaskkitError, ValueError):
    """A task's group, name, payload, due time or ttl is not acceptable."""


class PayloadTooLarge(InvalidTaskError):
    """An encoded payload or result is larger than the backend accepts."""


class NotFound(TaskkitError):
    """No task with this id exists (never created, discarded, or expired)."""


class NoResult(TaskkitError):
    """The task exists but has not finished yet."""

    def __init__(self, task: Task) -> None:
        super().__init__(f"task {task.id} has not finished yet")
        self.task = task


class Failed(TaskkitError):
    """The task finished without a result; ``message`` holds the error."""

    def __init__(self, task: Task, message: str) -> None:
        super().__init__(message)
        self.task = task
        self.message = message


class Cancelled(Failed):
    """The task was cancelled: it never started, or a cancel request stopped it.

    A subclass of Failed, so code that catches Failed (as taskkit 0.2 code
    does) also catches a cancelled task.
    """


class DuplicateTask(TaskkitError):
    """A task with the same unique key is already held; ``task_id`` names the holder."""

    def __init__(self, task_id: str, key: str) -> None:
        super().__init__(f"a task with unique key {key!r} already exists: {task_id}")
        self.task_id = task_id
        self.key = key


class TaskCancelled(TaskkitError):
    """Raised inside a handler by ``check_cancelled()`` once a cancel request reached it.

    The attempt's outcome is already settled as cancelled; raising lets a
    long handler stop early.
    """


class TaskTimeout(TaskCancelled):
    """Raised inside a handler by ``check_cancelled()`` once its timeout has passed.

    The attempt's outcome is already decided (retried or failed, by the
    retry policy, with this error's message).
    """
