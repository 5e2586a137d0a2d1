"""``--log-format json``: one JSON object per log record, for log shippers.

Each line holds ``time`` (ISO 8601, UTC), ``level``, ``logger``,
``process``, ``thread`` and ``message``; a record about a task adds its
fields (``task_id``, ``task``, ``attempt``, ``retry_in``), and a record with
an exception its ``traceback``. Passwords of the command's URLs are masked,
as in text logs.
"""

from __future__ import annotations

import json
import logging
from datetime import UTC, datetime
from typing import Any

from .output import ScrubbingFormatter, scrub

FIELD_PREFIX = "taskkit_"


class JsonLogFormatter(ScrubbingFormatter):
    """Formats a record as one line of JSON; worker processes get it too (spawn included)."""

    taskkit_portable = True

    def format(self, record: logging.LogRecord) -> str:
        entry: dict[str, Any] = {
            "time": datetime.fromtimestamp(record.created, UTC).isoformat(),
            "level": record.levelname,
            "logger": record.name,
            "process": record.process,
            "thread": record.threadName,
            "message": record.getMessage(),
        }
        entry.update(_task_fields(record))
        if record.exc_info:
            entry["traceback"] = self.formatException(record.exc_info)
        return scrub(json.dumps(entry, default=str, ensure_ascii=False))


def _task_fields(record: logging.LogRecord) -> dict[str, Any]:
    """The ``taskkit_*`` extras of a record, without the prefix."""
    return {
        key.removeprefix(FIELD_PREFIX): value
        for key, value in vars(record).items()
        if key.startswith(FIELD_PREFIX)
    }
