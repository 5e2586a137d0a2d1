"""Opening ``django://[alias]``: the SQL backend of a database of the project's DATABASES.

``django://`` uses ``TASKKIT["DATABASE"]`` (default ``"default"``),
``django://reports`` the alias ``reports``. The URL of the database is
built from its DATABASES entry (see ``config``), and ``TASKKIT["OPTIONS"]``
are the backend options (options given in code win). The backend puts
tasks through Django's connection inside ``transaction.atomic()`` (see
``atomic``). Only the settings are read, so this works before
``django.setup()``; worker processes set Django up when they unpickle
their handler (see ``handler``).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, cast
from urllib.parse import urlsplit

from taskkit_core.backend import Backend, Connection
from taskkit_core.errors import ConfigurationError, StorageNotReady

from ..migrations import drop as drop_sql
from ..migrations import migrate as migrate_sql
from ..opener import open_sql
from .atomic import DjangoBackend
from .config import database_url, taskkit_settings

MIGRATE_HINT = "python manage.py migrate (or manage.py taskkit_migrate)"


def alias_of(url: str) -> str:
    """The database alias ``url`` names (its host part), else TASKKIT["DATABASE"]."""
    parts = urlsplit(url)
    if parts.path.strip("/") or parts.query or "@" in parts.netloc or ":" in parts.netloc:
        raise ConfigurationError(
            f"malformed URL {url!r}: expected django:// or django://<database alias>"
        )
    return parts.netloc or taskkit_settings().database  # netloc keeps the alias's case


def resolve(url: str, options: Mapping[str, Any]) -> tuple[str, str, dict[str, Any]]:
    """The alias, the SQL URL and the backend options of a django:// URL."""
    alias = alias_of(url)
    return alias, database_url(alias), {**taskkit_settings().options, **options}


def open_django(url: str, options: Mapping[str, Any]) -> Connection:
    """The backend and event bridge of ``django://[alias]`` (see the module docstring)."""
    alias, sql_url, sql_options = resolve(url, options)
    try:
        connection = open_sql(sql_url, sql_options)
    except StorageNotReady as exc:
        raise StorageNotReady(
            f"{str(exc).split('; ')[0]} (database {alias!r}); "
            f"create or upgrade them with: {MIGRATE_HINT}"
        ) from None
    backend = DjangoBackend(connection.backend, alias, url)
    return Connection(backend=cast(Backend, backend), bridge=connection.bridge)


def migrate_django(url: str, options: Mapping[str, Any], sql_only: bool) -> str | None:
    """Create or upgrade taskkit's tables in the database ``url`` names."""
    alias, sql_url, sql_options = resolve(url, options)
    message = migrate_sql(sql_url, sql_options, sql_only)
    if sql_only or message is None:
        return message
    return message.replace(_masked(sql_url), f"database {alias!r}")


def drop_django(url: str, options: Mapping[str, Any]) -> None:
    """Drop taskkit's tables (of the namespace) from the database ``url`` names."""
    _alias, sql_url, sql_options = resolve(url, options)
    drop_sql(sql_url, sql_options)


def _masked(sql_url: str) -> str:
    from taskkit_core.url import mask_url

    return repr(mask_url(sql_url))
