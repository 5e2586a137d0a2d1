"""``manage.py taskkit_worker [taskkit worker options]``: run the project's workers."""

from __future__ import annotations

from ._taskkit import TaskkitCommand


class Command(TaskkitCommand):
    help = (
        "Run taskkit workers for this project's tasks (django.tasks functions and the "
        "TASKKIT['APP'] tasks of every installed app's tasks module). Options are those "
        "of `taskkit worker` (--processes, --threads GROUP=N, ...): see --help."
    )
    prefix = ("worker", "taskkit_sql.django.worker:kit")
