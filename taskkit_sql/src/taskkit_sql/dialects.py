"""The small table of what differs between the databases taskkit-sql serves.

Import-light on purpose (no SQLAlchemy here): the plugin reads the
capabilities when it registers its URL schemes, before any database is
opened. Everything a statement needs to know about a database family is a
field of :class:`Family`; the statements themselves live in
``statements`` and ``claims``.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

from taskkit_core.backend import Capabilities

FamilyName = Literal["sqlite", "postgresql", "mysql"]


@dataclass(frozen=True)
class Family:
    """One database family and how taskkit-sql uses it.

    now_sql: the server clock as float seconds since the epoch, or None
        where the backend uses the core's settable clock (SQLite).
    claim: how ``assign_tasks`` claims (see ``claims``): one CTE ``UPDATE
        ... FROM`` with ``FOR UPDATE SKIP LOCKED`` (PostgreSQL); ``SELECT ...
        FOR UPDATE SKIP LOCKED`` then ``UPDATE`` in one short transaction
        (MySQL/MariaDB); one ``UPDATE ... RETURNING`` under ``BEGIN
        IMMEDIATE`` (SQLite).
    isolation: the isolation level of every transaction taskkit opens.
    """

    name: FamilyName
    capabilities: Capabilities
    now_sql: str | None
    claim: Literal["cte", "lock_then_update", "update_returning"]
    isolation: str | None


FAMILIES: dict[FamilyName, Family] = {
    "sqlite": Family(
        name="sqlite",
        # multi_process: several processes on one host (one database file).
        # push_wakeups: a thread watches the WAL file (see walwatch).
        capabilities=Capabilities(
            multi_process=True, push_wakeups=True, transactional_enqueue=True, server_clock=False
        ),
        now_sql=None,
        claim="update_returning",
        isolation=None,  # SERIALIZABLE by nature: one writer at a time
    ),
    "postgresql": Family(
        name="postgresql",
        capabilities=Capabilities(
            multi_process=True, push_wakeups=True, transactional_enqueue=True, server_clock=True
        ),
        now_sql="CAST(EXTRACT(EPOCH FROM statement_timestamp()) AS DOUBLE PRECISION)",
        claim="cte",
        isolation="READ COMMITTED",
    ),
    "mysql": Family(
        name="mysql",
        capabilities=Capabilities(
            multi_process=True, push_wakeups=False, transactional_enqueue=True, server_clock=True
        ),
        # The session time zone is UTC (see engine), so NOW(6) is unambiguous.
        now_sql="UNIX_TIMESTAMP(NOW(6))",
        claim="lock_then_update",
        # REPEATABLE READ (the server default) takes gap locks that make
        # concurrent claimers and inserters deadlock; nothing here needs it.
        isolation="READ COMMITTED",
    ),
}

# URL scheme -> (family, the SQLAlchemy driver name it maps to).
SCHEMES: dict[str, tuple[FamilyName, str]] = {
    "sqlite": ("sqlite", "sqlite+pysqlite"),
    "sqlite+pysqlite": ("sqlite", "sqlite+pysqlite"),
    "postgresql": ("postgresql", "postgresql+psycopg"),
    "postgres": ("postgresql", "postgresql+psycopg"),
    "postgresql+psycopg": ("postgresql", "postgresql+psycopg"),
    "mysql": ("mysql", "mysql+pymysql"),
    "mysql+pymysql": ("mysql", "mysql+pymysql"),
    "mysql+mysqldb": ("mysql", "mysql+mysqldb"),
    "mariadb": ("mysql", "mariadb+pymysql"),
    "mariadb+pymysql": ("mysql", "mariadb+pymysql"),
    "mariadb+mysqldb": ("mysql", "mariadb+mysqldb"),
}

MINIMUM_VERSIONS: dict[str, tuple[int, ...]] = {
    "SQLite": (3, 35),  # UPDATE ... RETURNING
    "PostgreSQL": (12,),  # WITH ... AS MATERIALIZED
    "MySQL": (8, 0, 1),  # FOR UPDATE SKIP LOCKED
    "MariaDB": (10, 6),  # FOR UPDATE SKIP LOCKED
}
"""The oldest server of each kind that has every statement taskkit-sql runs."""

DESCRIPTIONS: dict[FamilyName, str] = {
    "sqlite": "SQLite file through SQLAlchemy (one host; WAL)",
    "postgresql": "PostgreSQL through SQLAlchemy and psycopg 3 (SKIP LOCKED, LISTEN/NOTIFY)",
    "mysql": "MySQL 8 / MariaDB 10.6+ through SQLAlchemy and PyMySQL (SKIP LOCKED)",
}


def family_of(scheme: str) -> Family:
    """The family serving a URL scheme (KeyError for a scheme not served here)."""
    return FAMILIES[SCHEMES[scheme.lower()][0]]
