"""The taskkit plugin of taskkit-acme: it registers the ``acme://`` URL scheme.

taskkit imports this module through the entry point in pyproject.toml and
calls its hook once per process. It stays import-light: the backend
itself is imported only when a URL is opened.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from taskkit_core import BackendRegistry, Capabilities, Connection, hookimpl

CAPABILITIES = Capabilities(
    multi_process=True,  # worker processes on this host share the database file
    push_wakeups=False,  # workers poll for new tasks
    transactional_enqueue=False,  # put_tasks cannot join the application's transaction
    server_clock=False,  # leases use taskkit's clock (taskkit_core.cur_ts)
    priorities=True,  # claims read the (grp, priority DESC, due, id) index
    unique_tasks=True,  # puts check the key's holder inside their write transaction
)


def open_acme(url: str, options: Mapping[str, Any]) -> Connection:
    """Open ``acme:///path/to/file.db``; taskkit calls this for every connection."""
    from .backend import open_connection

    return open_connection(url, options)


def migrate_acme(url: str, options: Mapping[str, Any], sql_only: bool) -> str | None:
    """Create the database file and the namespace's tables (``taskkit_core.migrate``)."""
    from .schema import migrate

    return migrate(url, options, sql_only)


def drop_acme(url: str, options: Mapping[str, Any]) -> None:
    """Remove the namespace's tables (``taskkit_core.registry.drop``)."""
    from .schema import drop

    drop(url, options)


@hookimpl
def taskkit_register_backends(registry: BackendRegistry) -> None:
    """Tell taskkit that this distribution serves acme:// URLs."""
    registry.add(
        "acme",
        open_acme,
        capabilities=CAPABILITIES,
        migrate=migrate_acme,
        drop=drop_acme,
        description="SQLite file shared by the worker processes of one host (example plugin)",
    )
