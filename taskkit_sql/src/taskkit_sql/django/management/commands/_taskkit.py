"""What the taskkit_* commands share: running a ``taskkit`` command inside manage.py.

The command line after the command's name goes to the ``taskkit`` command
as it is (``manage.py taskkit_worker --processes 2 --threads default=8``),
so every option, its environment variable, the exit codes and the signal
handling are those of ``taskkit``, documented by ``--help``. Django's own
``--settings`` and ``--pythonpath`` were applied by manage.py already.
"""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand

DJANGO_OPTIONS = ("--settings", "--pythonpath")


def without_django_options(argv: list[str]) -> list[str]:
    """``argv`` less the options manage.py has applied already."""
    kept: list[str] = []
    skip = False
    for arg in argv:
        if skip:
            skip = False
        elif arg in DJANGO_OPTIONS:
            skip = True
        elif not arg.startswith(tuple(f"{o}=" for o in DJANGO_OPTIONS)):
            kept.append(arg)
    return kept


class TaskkitCommand(BaseCommand):
    """A manage.py command that runs ``taskkit <prefix...> <arguments>``."""

    prefix: tuple[str, ...] = ()

    def run_from_argv(self, argv: list[str]) -> None:
        self.run_taskkit(without_django_options(argv[2:]))

    def add_arguments(self, parser: Any) -> None:
        parser.add_argument("taskkit_args", nargs="*", help="arguments of the taskkit command")

    def handle(self, *args: Any, **options: Any) -> None:
        self.run_taskkit([*args, *options.get("taskkit_args", [])])

    def run_taskkit(self, arguments: list[str]) -> None:
        from taskkit_core.cli import main

        main([*self.prefix, *arguments])  # exits with the command's code
