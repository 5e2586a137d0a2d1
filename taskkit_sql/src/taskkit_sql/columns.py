"""Column types that behave the same on SQLite, PostgreSQL and MySQL/MariaDB.

- :class:`Name`: group, task, worker and scheduler names, compared byte for
  byte. MariaDB's default collation folds case, accents and trailing spaces
  (even ``utf8mb4_bin`` is PAD SPACE, so 'Foo' = 'Foo '), so on MySQL the
  column is VARBINARY holding UTF-8, at 4 bytes per character: a 400-character
  name takes 1600 bytes, which keeps the claim index under InnoDB's
  3072-byte key limit. PostgreSQL uses the "C" collation (byte order, and
  faster index comparisons); SQLite compares bytes already.
- :class:`Payload`: opaque bytes up to 10 MiB. MySQL's BLOB stops at 64 KiB,
  so LONGBLOB there; BYTEA on PostgreSQL, BLOB on SQLite.
- :class:`Message`: text kept as UTF-8 in a Payload column, so any string
  (NUL characters included, which PostgreSQL text refuses) round-trips.
- :data:`Timestamp`: float seconds since the epoch in a DOUBLE (microsecond
  exact for present-day times on every database).
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import Double, LargeBinary, String
from sqlalchemy.dialects import mysql, postgresql
from sqlalchemy.engine import Dialect
from sqlalchemy.types import TypeDecorator, TypeEngine

MYSQL_DIALECTS = ("mysql", "mariadb")


def is_mysql(dialect: Dialect) -> bool:
    """True for the MySQL and MariaDB dialects."""
    return dialect.name in MYSQL_DIALECTS


class Name(TypeDecorator[str]):
    """A name of up to ``length`` characters, compared and stored byte for byte."""

    impl = String
    cache_ok = True

    def __init__(self, length: int) -> None:
        super().__init__(length)
        self.length = length

    def load_dialect_impl(self, dialect: Dialect) -> TypeEngine[Any]:
        if is_mysql(dialect):
            return dialect.type_descriptor(mysql.VARBINARY(4 * self.length))
        if dialect.name == "postgresql":
            return dialect.type_descriptor(postgresql.VARCHAR(self.length, collation="C"))
        return dialect.type_descriptor(String(self.length))

    def process_bind_param(self, value: str | None, dialect: Dialect) -> Any:
        if value is not None and is_mysql(dialect):
            return value.encode("utf-8")
        return value

    def process_result_value(self, value: Any, dialect: Dialect) -> str | None:
        if isinstance(value, bytes | bytearray | memoryview):
            return bytes(value).decode("utf-8")
        return value  # type: ignore[no-any-return]


class Payload(TypeDecorator[bytes]):
    """Opaque bytes up to 10 MiB (LONGBLOB on MySQL, BYTEA, BLOB)."""

    impl = LargeBinary
    cache_ok = True

    def load_dialect_impl(self, dialect: Dialect) -> TypeEngine[Any]:
        if is_mysql(dialect):
            return dialect.type_descriptor(mysql.LONGBLOB())
        return dialect.type_descriptor(LargeBinary())

    def process_result_value(self, value: Any, dialect: Dialect) -> bytes | None:
        return None if value is None else bytes(value)


class Message(TypeDecorator[str]):
    """Text stored as UTF-8 bytes, so every Python string round-trips."""

    impl = LargeBinary
    cache_ok = True

    def load_dialect_impl(self, dialect: Dialect) -> TypeEngine[Any]:
        return Payload().load_dialect_impl(dialect)

    def process_bind_param(self, value: str | None, dialect: Dialect) -> bytes | None:
        return None if value is None else value.encode("utf-8", "surrogatepass")

    def process_result_value(self, value: Any, dialect: Dialect) -> str | None:
        return None if value is None else bytes(value).decode("utf-8", "surrogatepass")


def Timestamp() -> Double[float]:
    """Float seconds since the epoch (DOUBLE PRECISION / DOUBLE / REAL)."""
    return Double()
