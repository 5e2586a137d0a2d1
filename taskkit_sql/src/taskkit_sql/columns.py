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
- :class:`EventId`: the events table's autoincrement key (BIGINT; SQLite's
  INTEGER, the rowid).
- :class:`JsonText`: a small JSON document as text (a task's headers), kept
  as UTF-8 on every database (MySQL: utf8mb4 whatever the table's default
  character set). The caller encodes and decodes the JSON.
- :data:`Timestamp`: float seconds since the epoch in a DOUBLE (microsecond
  exact for present-day times on every database).

What a family stores each as is its hook (``Family.name_type``,
``payload_type``, ``event_id_type``, ``text_type``, ``names_as_bytes``); a dialect
taskkit-sql does not serve gets the generic type.
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from sqlalchemy import BigInteger, Double, LargeBinary, String, Text
from sqlalchemy.engine import Dialect
from sqlalchemy.types import TypeDecorator, TypeEngine

from .databases import family_of_dialect

if TYPE_CHECKING:
    from .databases.base import Family


@functools.cache
def _family(dialect_name: str) -> Family | None:
    """The family of a dialect; None for one taskkit-sql does not serve (generic types)."""
    try:
        return family_of_dialect(dialect_name)
    except KeyError:
        return None


@functools.cache
def _names_as_bytes(dialect_name: str) -> bool:
    family = _family(dialect_name)
    return family is not None and family.names_as_bytes


def _type_of(
    dialect: Dialect, chosen: Callable[[Family], TypeEngine[Any]], generic: TypeEngine[Any]
) -> TypeEngine[Any]:
    """The family's choice of column type (``generic`` for a dialect not served here)."""
    family = _family(dialect.name)
    return dialect.type_descriptor(generic if family is None else chosen(family))


class Name(TypeDecorator[str]):
    """A name of up to ``length`` characters, compared and stored byte for byte."""

    impl = String
    cache_ok = True

    def __init__(self, length: int) -> None:
        super().__init__(length)
        self.length = length

    def load_dialect_impl(self, dialect: Dialect) -> TypeEngine[Any]:
        return _type_of(dialect, lambda family: family.name_type(self.length), String(self.length))

    def process_bind_param(self, value: str | None, dialect: Dialect) -> Any:
        if value is not None and _names_as_bytes(dialect.name):
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
        return _type_of(dialect, lambda family: family.payload_type(), LargeBinary())

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


class EventId(TypeDecorator[int]):
    """The increasing number of a control event: an autoincrement primary key."""

    impl = BigInteger
    cache_ok = True

    def load_dialect_impl(self, dialect: Dialect) -> TypeEngine[Any]:
        return _type_of(dialect, lambda family: family.event_id_type(), BigInteger())


class JsonText(TypeDecorator[str]):
    """A JSON document as UTF-8 text (up to 64 KiB on MySQL, its TEXT)."""

    impl = Text
    cache_ok = True

    def load_dialect_impl(self, dialect: Dialect) -> TypeEngine[Any]:
        return _type_of(dialect, lambda family: family.text_type(), Text())


def Timestamp() -> Double[float]:
    """Float seconds since the epoch (DOUBLE PRECISION / DOUBLE / REAL)."""
    return Double()
