"""JsonHandler: the TaskHandler protocol with JSON data and results, for Kit users.

Subclass it and write ``handle`` (and ``get_retry_interval`` to retry):
data and results go through the standard library's ``json``, as the
hand-written handlers of taskkit 0.2 applications did. Task functions
(``taskkit_core.App``) need no handler at all.
"""

from __future__ import annotations

import json
from typing import Any

from .task import Task


class JsonHandler:
    """Encodes data and results as JSON; ``handle`` is the subclass's.

    ``data(task)`` is the task's data decoded. Failures are not retried
    unless ``get_retry_interval`` is overridden.
    """

    def handle(self, task: Task) -> Any:
        raise NotImplementedError(f"{type(self).__qualname__} must define handle(task)")

    def get_retry_interval(self, task: Task, exception: Exception) -> float | None:
        return None

    def data(self, task: Task) -> Any:
        """The task's data, decoded from JSON."""
        return json.loads(task.data)

    def encode_data(self, group: str, task_name: str, data: Any) -> bytes:
        return json.dumps(data).encode()

    def encode_result(self, task: Task, result: Any) -> bytes:
        return json.dumps(result).encode()

    def decode_result(self, task: Task, encoded: bytes) -> Any:
        return json.loads(encoded)
