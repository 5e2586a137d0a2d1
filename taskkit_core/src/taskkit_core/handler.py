"""The application's side of the contract: how tasks run and how data is encoded."""

from __future__ import annotations

from typing import Any, Protocol

from .task import Task


class DiscardTask(Exception):
    """Raise from ``handle`` or ``get_retry_interval`` to delete the task without a result."""


class TaskHandler(Protocol):
    """Runs tasks and encodes their data; written by the application.

    A worker calls ``handle`` on one of its threads. What ``handle`` returns
    goes through ``encode_result`` and is stored as the task's result. When
    ``handle`` raises, ``get_retry_interval`` decides: a number of seconds
    retries the task after that delay, None fails it with the traceback as
    its message, DiscardTask deletes it. An exception from
    ``get_retry_interval`` itself still retries, after ``retry_count + 1``
    seconds.
    """

    def handle(self, task: Task) -> Any:
        """Do the work of ``task``; raise DiscardTask to drop it."""
        ...

    def get_retry_interval(self, task: Task, exception: Exception) -> float | None:
        """Seconds until the failed task runs again, or None to fail it for good."""
        ...

    def encode_data(self, group: str, task_name: str, data: Any) -> bytes:
        """The payload as bytes, called when a task is initiated."""
        ...

    def encode_result(self, task: Task, result: Any) -> bytes:
        """The value ``handle`` returned, as bytes to store."""
        ...

    def decode_result(self, task: Task, encoded: bytes) -> Any:
        """The stored result bytes back as a value, for ``Result.get``."""
        ...
