"""The Django app ``taskkit_sql.django``: ``manage.py migrate`` also migrates taskkit's tables.

Why a ``post_migrate`` hook and not a Django migration: taskkit's schema has
its own history (Alembic revisions, shared with ``taskkit migrate`` and every
non-Django user), and each taskkit upgrade may add a revision. A Django
migration would have to be added in step with each of them and would record
the schema twice; the hook runs taskkit's own upgrade, which does nothing
when the tables are current. ``manage.py taskkit_migrate --sql`` prints the
DDL for teams that apply it themselves.
"""

from __future__ import annotations

from typing import Any

from django.apps import AppConfig
from django.db.models.signals import post_migrate

from ._needs_django import django  # noqa: F401 - a clear line when Django is missing


class TaskkitConfig(AppConfig):
    """taskkit's app: management commands and the post_migrate hook (no models)."""

    name = "taskkit_sql.django"
    label = "taskkit_sql"  # taskkit 0.2's app was "taskkit": its migration records stay apart
    verbose_name = "taskkit"

    def ready(self) -> None:
        post_migrate.connect(migrate_taskkit_tables, sender=self)


def migrate_taskkit_tables(
    sender: AppConfig, using: str, verbosity: int = 1, **kwargs: Any
) -> None:
    """After ``manage.py migrate`` of taskkit's database, bring its tables up to date."""
    from taskkit_core.opening import migrate

    from .config import taskkit_settings

    if using != taskkit_settings().database:
        return
    message = migrate(f"django://{using}")
    stdout = kwargs.get("stdout")
    if message and verbosity >= 1 and stdout is not None:
        stdout.write(f"  taskkit: {message}\n")
