"""The project's workers, as ``taskkit worker`` loads them (``manage.py taskkit_worker``).

``kit`` opens ``django://`` with the project's handler (see ``handler``);
``THREADS`` are worker threads per group: ``TASKKIT["THREADS"]``, else the
App's, else 4 for each queue of every TASKS backend that is taskkit's.
"""

from __future__ import annotations

from typing import Any

from taskkit_core.kit import Kit

from .config import taskkit_settings
from .handler import project_handler

DEFAULT_THREADS = 4


def kit() -> Kit:
    """The Kit of the project's workers (called by the command, after django.setup())."""
    return Kit.from_url("django://", project_handler())


def project_threads() -> dict[str, int]:
    """Worker threads per group (see the module docstring)."""
    configured = taskkit_settings().threads
    if configured is not None:
        return dict(configured)
    app_spec = taskkit_settings().app
    threads: dict[str, int] = {}
    if app_spec:
        from .handler import load_app

        threads |= dict(getattr(load_app(app_spec), "threads", {}) or {})
    for queue in _taskkit_queues():
        threads.setdefault(queue, DEFAULT_THREADS)
    return threads or {"default": DEFAULT_THREADS}


def _taskkit_queues() -> list[str]:
    from django.conf import settings

    queues: list[str] = []
    for params in (getattr(settings, "TASKS", None) or {}).values():
        if str(params.get("BACKEND", "")).startswith(__package__ or "taskkit_sql.django"):
            queues += list(params.get("QUEUES") or ["default"])
    return sorted(set(queues))


def __getattr__(name: str) -> Any:
    if name == "THREADS":  # read by `taskkit worker` when it loads this module
        return project_threads()
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
