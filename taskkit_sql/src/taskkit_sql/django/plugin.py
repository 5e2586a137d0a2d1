"""Registers ``django://`` through the ``taskkit`` plugin hook.

Import-light: Django and SQLAlchemy are imported by the opener, migrator and
dropper, so listing backends stays cheap and works without Django.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from taskkit_core.backend import Capabilities, Connection
from taskkit_core.hookspecs import hookimpl
from taskkit_core.registry import BackendRegistry

CAPABILITIES = Capabilities(
    multi_process=True, push_wakeups=False, transactional_enqueue=True, server_clock=False
)
"""What every database Django can name offers; the opened backend tells its own (more)."""


def _open(url: str, options: Mapping[str, Any]) -> Connection:
    from .opener import open_django

    return open_django(url, options)


def _migrate(url: str, options: Mapping[str, Any], sql_only: bool) -> str | None:
    from .opener import migrate_django

    return migrate_django(url, options, sql_only)


def _drop(url: str, options: Mapping[str, Any]) -> None:
    from .opener import drop_django

    drop_django(url, options)


@hookimpl
def taskkit_register_backends(registry: BackendRegistry) -> None:
    registry.add(
        "django",
        _open,
        capabilities=CAPABILITIES,
        migrate=_migrate,
        drop=_drop,
        description="a database of the Django project's DATABASES setting (docs/django.md)",
        drivers={"django": "taskkit[django]"},
    )
