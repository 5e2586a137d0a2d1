"""``manage.py taskkit_status [taskkit status options]``: tasks per group, workers."""

from __future__ import annotations

from ._taskkit import TaskkitCommand


class Command(TaskkitCommand):
    help = (
        "Show taskkit's groups (queued, due, running, done, failed) in this project's "
        "database. Options are those of `taskkit status` (--json, --watch): see --help."
    )
    prefix = ("status", "--url", "django://")
