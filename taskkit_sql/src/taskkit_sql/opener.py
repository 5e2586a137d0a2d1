"""Opening a SQL backend: URL and options in, a checked Connection out.

``open_sql`` is what ``plugin`` registers for every scheme taskkit-sql
serves. This module stays import-light (SQLAlchemy and the drivers load on
the first open), so that listing backends stays cheap.

Opening runs no DDL: it refuses a namespace that differs from an existing
one only in case (see ``namespaces``; a namespace made before that check
gets its record now), checks that the namespace's schema is at the
revision this package needs and raises StorageNotReady (with the command
to run) when it is missing or older. Then the family chooses where work
that needs a lasting server session runs (``Family.set_up_sessions``: on
PostgreSQL behind a connection pooler, the ``direct_url`` or nowhere),
checks its server (``Family.check_server``: its version, and on PostgreSQL
whether it autovacuums) and sets up its change source
(``Family.change_source``).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

from taskkit_core.backend import Connection
from taskkit_core.url import parse_url, scrub_password


def open_sql(url: str, options: Mapping[str, Any]) -> Connection:
    """The backend and event bridge of ``url`` (see the module docstring)."""
    from .backend import SqlBackend
    from .engine import Database, make_engine
    from .events import SqlEventBridge
    from .migrations import check_ready
    from .namespaces import check_namespace_free, record_on_open
    from .schema import build_tables
    from .urls import resolve

    sql_url, opts = resolve(url, options)
    family = sql_url.family
    tables = build_tables(opts.namespace, family)
    family.check_storage(sql_url, opts)
    db = Database(make_engine(sql_url, opts), family)
    try:
        with db.read() as conn:
            recorded = check_namespace_free(conn, tables, family)
            check_ready(conn, tables, sql_url, opts.namespace)
        if not recorded:
            record_on_open(db, tables, family)
        family.set_up_sessions(db, sql_url, opts)
        family.check_server(db, sql_url, tables)
        changes = family.change_source(db, tables, sql_url, scrubber(url))
        backend = SqlBackend(url, sql_url.masked(), db, tables, changes)
        bridge = SqlEventBridge(db, tables, changes)
    except BaseException:
        db.close()
        raise
    return Connection(backend=backend, bridge=bridge)


def scrubber(url: str) -> Callable[[str], str]:
    """A function that masks ``url``'s password in any text (for log lines)."""
    parsed = parse_url(url)
    return lambda text: scrub_password(parsed, text)
