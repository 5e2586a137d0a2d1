"""``manage.py taskkit_move_v02``: move taskkit 0.2's unfinished tasks into taskkit 0.4's tables."""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand, CommandError
from taskkit_core.errors import TaskkitError

from ...config import taskkit_settings
from ...v02 import BATCH, Mover


class Command(BaseCommand):
    help = (
        "Move every unfinished task (queued, scheduled, retrying, held by a gone worker) and "
        "the scheduler states of taskkit 0.2's Django backend into taskkit's tables in the "
        "same database. Stop every 0.2 worker first; safe to run again if interrupted."
    )

    def add_arguments(self, parser: Any) -> None:
        parser.add_argument(
            "--database",
            help="the alias of the database holding 0.2's tables (default: TASKKIT['DATABASE'])",
        )
        parser.add_argument("--batch", type=int, default=BATCH, help="tasks per transaction")
        parser.add_argument("--namespace", help="taskkit's namespace (default: TASKKIT's)")

    def handle(self, *args: Any, **options: Any) -> None:
        alias = options["database"] or taskkit_settings().database
        try:
            mover = Mover(alias, options["batch"], options["namespace"])
            moved = mover.run(progress=self.stdout.write)
        except TaskkitError as exc:
            raise CommandError(str(exc)) from None
        self.stdout.write(
            f"moved {moved.tasks} task(s) and {moved.states} scheduler state(s) from taskkit "
            f"0.2's tables in database {alias!r}; {moved.finished_left} finished task(s) "
            "stay in taskkit_task"
        )
