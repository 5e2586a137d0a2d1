"""taskkit in a Django project: settings, atomic enqueue, commands, django.tasks, moving from 0.2.

Add ``"taskkit_sql.django"`` to ``INSTALLED_APPS``. taskkit then keeps its
tables in the database of ``DATABASES["default"]`` (or ``TASKKIT["DATABASE"]``),
reachable as the backend URL ``django://``; ``manage.py migrate`` creates
them; tasks put inside ``transaction.atomic()`` commit or roll back with the
ORM's writes; ``manage.py taskkit_worker`` runs the workers;
``TASKS = {"default": {"BACKEND": "taskkit_sql.django.tasks.TaskkitBackend"}}``
makes taskkit the backend of Django's Tasks framework. See docs/django.md.

Importing this package needs no Django; its modules that do raise one
ImportError line naming ``taskkit[django]`` when Django is missing.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from .atomic import DjangoBackend, borrowed
    from .config import database_url, taskkit_settings
    from .opener import open_django

_HOMES = {
    "DjangoBackend": "atomic",
    "borrowed": "atomic",
    "database_url": "config",
    "open_django": "opener",
    "taskkit_settings": "config",
}

__all__ = ["DjangoBackend", "borrowed", "database_url", "open_django", "taskkit_settings"]


def __getattr__(name: str) -> Any:
    home = _HOMES.get(name)
    if home is None:
        raise AttributeError(f"module 'taskkit_sql.django' has no attribute {name!r}")
    return getattr(importlib.import_module(f".{home}", __name__), name)
