"""Large payloads on MySQL/MariaDB, written in pieces that fit ``max_allowed_packet``.

PyMySQL sends bytes hex-encoded inside the statement text, so a 10 MiB
payload becomes a 20 MiB statement, over MariaDB's default 16 MiB packet
limit. A value longer than PIECE bytes (a family's ``piece_bytes``; only
MySQL/MariaDB sets it) is therefore written as its first piece, then
appended with ``UPDATE ... SET col = CONCAT(col, piece)`` in the same
transaction. Reading needs nothing special. Other databases take any value
in one statement.
"""

from __future__ import annotations

from sqlalchemy import Table, Update, bindparam, func, update
from sqlalchemy.engine import Connection

from .columns import Payload
from .databases.base import Family

PIECE = 4 * 1024 * 1024
"""Bytes per statement (8 MiB on the wire), safely under a 16 MiB packet."""


def in_pieces(family: Family, *values: bytes) -> bool:
    """True when ``values`` together are too long for one statement on ``family``."""
    limit = family.piece_bytes
    return limit is not None and sum(len(value) for value in values) > limit


def head(family: Family, value: bytes | None) -> bytes | None:
    """What the first statement writes: all of ``value``, or its first piece."""
    if value is None or not in_pieces(family, value):
        return value
    return value[: family.piece_bytes]


class Appender:
    """Appends the pieces after the first to a column of one row (by ``id``)."""

    def __init__(self, table: Table, *columns: str) -> None:
        piece = bindparam("b_piece", type_=Payload())
        self._statements: dict[str, Update] = {
            name: update(table)
            .where(table.c.id == bindparam("b_row"))
            .values({name: func.concat(table.c[name], piece)})
            for name in columns
        }

    def rest(
        self, conn: Connection, column: str, row_id: str, value: bytes | None, start: int = PIECE
    ) -> None:
        """Append ``value`` from ``start`` (by default: after its first piece) piece by piece."""
        if value is None:
            return
        statement = self._statements[column]
        for offset in range(start, len(value), PIECE):
            conn.execute(statement, {"b_row": row_id, "b_piece": value[offset : offset + PIECE]})
