"""The job-control methods the task pages use, and what a backend without them gets.

Every first-party backend has ``list_tasks``, ``read_task``,
``retry_tasks``, ``cancel_tasks`` and ``purge_tasks``. A third-party plugin
written for the 0.3 protocol may not: its task pages answer 501 with one
line, while the overview, workers and schedules pages still work.
"""

from __future__ import annotations

from ..backend import Backend
from ..errors import TaskkitError
from ..records import TaskState

METHODS = ("list_tasks", "read_task", "retry_tasks", "cancel_tasks", "purge_tasks")

FINISHED = tuple(state for state in TaskState if state.finished)
"""The states a task never leaves by itself (in display order); purge deletes only these."""


class JobControlMissing(TaskkitError):
    """The backend has no job control (a plugin written for the 0.3 protocol)."""


def job_control(backend: Backend) -> Backend:
    """``backend`` itself when it has the job-control methods; JobControlMissing without them."""
    missing = [name for name in METHODS if not callable(getattr(backend, name, None))]
    if missing:
        raise JobControlMissing(
            f"this backend ({type(backend).__name__}) has no {', '.join(missing)}: "
            "task lists, task pages, retry, cancel and purge need a backend with job control"
        )
    return backend
