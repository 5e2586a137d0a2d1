"""taskkit's configuration, read from the Django project's settings.

Everything is optional; the defaults put taskkit's tables in the database of
``DATABASES["default"]``::

    TASKKIT = {
        "DATABASE": "default",               # the alias in DATABASES holding taskkit's tables
        "OPTIONS": {"namespace": "taskkit"},  # backend options (taskkit_sql.SqlOptions)
        "APP": "myproject.taskapp:app",      # the project's taskkit App, if it has one
        "THREADS": {"default": 4},           # worker threads per group (manage.py taskkit_worker)
    }

The backend URL is built from the ``DATABASES`` entry (engine, name, user,
password, host, port and the driver options that matter), so nothing is
written twice. Worker processes open the database with taskkit's own
drivers: psycopg 3 for PostgreSQL, PyMySQL for MySQL/MariaDB, the standard
library for SQLite.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from taskkit_core.errors import ConfigurationError

from ._needs_django import django  # noqa: F401 - a clear line when Django is missing

ENGINES = {
    "django.db.backends.postgresql": "postgresql",
    "django.contrib.gis.db.backends.postgis": "postgresql",
    "django.db.backends.mysql": "mysql",
    "django.contrib.gis.db.backends.mysql": "mysql",
    "django.db.backends.sqlite3": "sqlite",
    "django.contrib.gis.db.backends.spatialite": "sqlite",
}
"""Django database engines taskkit can keep its tables in, and their database family."""

DRIVERS = {"postgresql": "postgresql+psycopg", "mysql": "mysql+pymysql", "sqlite": "sqlite"}
"""The scheme (and so the driver) taskkit's own connections use per family."""

DJANGO_ONLY_OPTIONS = frozenset(
    {"isolation_level", "server_side_binding", "pool", "assume_role", "cursor_factory"}
)
"""PostgreSQL OPTIONS that Django interprets itself; the others are libpq parameters."""

MYSQL_SSL_KEYS = {"ca": "ssl_ca", "cert": "ssl_cert", "key": "ssl_key"}


@dataclass(frozen=True)
class TaskkitSettings:
    """The ``TASKKIT`` setting, checked."""

    database: str = "default"
    options: Mapping[str, Any] = field(default_factory=dict)
    app: str | None = None
    threads: Mapping[str, int] | None = None


def taskkit_settings() -> TaskkitSettings:
    """``settings.TASKKIT`` (every key optional), checked; ConfigurationError names a bad key."""
    raw = _setting("TASKKIT", {})
    if not isinstance(raw, Mapping):
        raise ConfigurationError(f"settings.TASKKIT must be a dict, got {type(raw).__name__}")
    known = {"DATABASE", "OPTIONS", "APP", "THREADS"}
    unknown = sorted(set(raw) - known)
    if unknown:
        raise ConfigurationError(
            f"settings.TASKKIT has unknown key(s) {', '.join(unknown)}; "
            f"known: {', '.join(sorted(known))}"
        )
    return TaskkitSettings(
        database=_typed(raw, "DATABASE", str, "default"),
        options=dict(_typed(raw, "OPTIONS", Mapping, {})),
        app=_typed(raw, "APP", str, None),
        threads=_typed(raw, "THREADS", Mapping, None),
    )


def _typed(raw: Mapping[str, Any], key: str, kind: type, default: Any) -> Any:
    value = raw.get(key, default)
    if value is not default and not isinstance(value, kind):
        raise ConfigurationError(
            f"settings.TASKKIT[{key!r}] must be a {kind.__name__}, got {type(value).__name__}"
        )
    return value


def _setting(name: str, default: Any) -> Any:
    from django.conf import settings
    from django.core.exceptions import ImproperlyConfigured

    try:
        return getattr(settings, name, default)
    except ImproperlyConfigured:
        raise ConfigurationError(
            "taskkit reads the Django project's settings, but Django is not configured: "
            "set DJANGO_SETTINGS_MODULE (manage.py does) or call settings.configure()"
        ) from None


def database_settings(alias: str) -> Mapping[str, Any]:
    """The ``DATABASES`` entry of ``alias`` as Django uses it now (test databases included)."""
    from django.db import connections

    databases = _setting("DATABASES", {})
    if alias not in databases:
        known = ", ".join(sorted(databases)) or "none"
        raise ConfigurationError(
            f"taskkit's database alias {alias!r} is not in settings.DATABASES (known: {known}); "
            "set TASKKIT['DATABASE'] to one of them"
        )
    # The connection's copy: Django's test runner renames NAME there, not in settings.
    return connections[alias].settings_dict


def family_of(alias: str) -> str:
    """postgresql, mysql or sqlite: the family of the database ``alias``."""
    return engine_family(alias, str(database_settings(alias).get("ENGINE", "")))


def engine_family(alias: str, engine: str) -> str:
    """The family of a Django ENGINE; ConfigurationError naming the supported ones."""
    family = ENGINES.get(engine)
    if family is None:
        supported = ", ".join(sorted(ENGINES))
        raise ConfigurationError(
            f"taskkit cannot keep its tables in database {alias!r}: its ENGINE {engine!r} is "
            f"not supported; supported: {supported}"
        )
    return family


def database_url(alias: str) -> str:
    """The taskkit backend URL of the database ``alias`` (it holds the password: mask it)."""
    return url_of(alias, family_of(alias), database_settings(alias))


def url_of(alias: str, family: str, entry: Mapping[str, Any]) -> str:
    """The taskkit backend URL of a DATABASES entry of ``family``."""
    from sqlalchemy.engine import URL

    if family == "sqlite":
        return f"sqlite:///{_sqlite_path(alias, entry)}"
    host = str(entry.get("HOST") or "")
    query = _query(family, entry.get("OPTIONS") or {})
    port = str(entry.get("PORT") or "")
    if host.startswith("/"):  # a Unix socket directory (PostgreSQL) or file (MySQL)
        query["host" if family == "postgresql" else "unix_socket"] = host
        host = port = ""
    url = URL.create(
        DRIVERS[family],
        username=str(entry.get("USER") or "") or None,
        password=str(entry.get("PASSWORD") or "") or None,
        host=host or None,
        port=int(port) if port else None,
        database=str(entry.get("NAME") or "") or None,
        query=query,
    )
    return url.render_as_string(hide_password=False)


def _sqlite_path(alias: str, entry: Mapping[str, Any]) -> str:
    name = str(entry.get("NAME") or "")
    if not name or name == ":memory:" or name.startswith("file:") or "mode=memory" in name:
        raise ConfigurationError(
            f"database {alias!r} is an in-memory SQLite database, which taskkit's worker "
            "processes cannot share; use a file (for tests: DATABASES[alias]['TEST']['NAME'])"
        )
    return str(Path(name).absolute())


def _query(family: str, options: Mapping[str, Any]) -> dict[str, str]:
    """The driver options of a DATABASES entry that taskkit's connections need too."""
    if family == "postgresql":
        return {
            key: str(value)
            for key, value in options.items()
            if key not in DJANGO_ONLY_OPTIONS and isinstance(value, str | int)
        }
    query = {}
    if isinstance(options.get("unix_socket"), str):
        query["unix_socket"] = options["unix_socket"]
    ssl = options.get("ssl")
    if isinstance(ssl, Mapping):
        query |= {MYSQL_SSL_KEYS[k]: str(v) for k, v in ssl.items() if k in MYSQL_SSL_KEYS}
    return query
