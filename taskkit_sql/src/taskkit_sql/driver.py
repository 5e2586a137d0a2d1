"""The hot statements, compiled once and run straight on the driver's cursor.

A claim, a settle, a put or a heartbeat through ``Connection.execute``
costs SQLAlchemy's execution machinery on every call (compile-cache lookup,
execution context, result set-up): on a 2-core machine about as much CPU
as the round trip itself. The statements a worker runs thousands of times
a second are therefore built once as SQLAlchemy Core constructs (the
single source of their SQL, quoting and dialect details), compiled once
per backend into a :class:`Prepared` (SQL text, parameter order, the
types' bind and result processors), and executed with the DBAPI cursor of
a pooled connection. Everything else still goes through SQLAlchemy.

Errors are wrapped the way SQLAlchemy wraps them (``DBAPIError`` subclasses,
parameters hidden), so callers see one family of exceptions either way.
"""

from __future__ import annotations

from collections import namedtuple
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import ColumnElement
from sqlalchemy.engine import Dialect
from sqlalchemy.sql import ClauseElement
from sqlalchemy.sql.compiler import SQLCompiler
from sqlalchemy.types import TypeDecorator

Processor = Callable[[Any], Any]


def _bind_processor(type_: Any, dialect: Dialect) -> Processor | None:
    processor: Processor | None = type_.dialect_impl(dialect).bind_processor(dialect)
    return processor


def _result_processor(type_: Any, dialect: Dialect) -> Processor | None:
    # Only taskkit's own column types need converting (names as bytes on MySQL,
    # payloads as memoryview); numbers are converted where they are read.
    if not isinstance(type_, TypeDecorator):
        return None
    processor: Processor | None = type_.dialect_impl(dialect).result_processor(dialect, None)
    return processor


def _row_maker(columns: Sequence[ColumnElement[Any]]) -> Callable[[Iterable[Any]], Any]:
    """Makes rows whose values are read by column key (a named tuple of them)."""
    keys = [str(column.key) for column in columns]
    row: Any = namedtuple("Row", keys)  # type: ignore[misc]  # keys known at run time only
    make: Callable[[Iterable[Any]], Any] = row._make
    return make


@dataclass(frozen=True)
class Prepared:
    """One statement compiled for one dialect, ready for ``cursor.execute``.

    sql: the text in the driver's parameter style.
    names: the bound parameters in the order a positional style needs them
        (None for a named style: parameters then travel as a dict).
    defaults: values SQLAlchemy bound itself (literals such as ``attempt + 1``).
    binds: the bind processors of the parameters that have one.
    results: one result processor (or None) per column of the result rows.
    make_row: builds a result row whose values are read by column name
        (``row.attempt``), a named tuple of the columns' keys.
    """

    sql: str
    names: tuple[str, ...] | None
    defaults: Mapping[str, Any]
    binds: Mapping[str, Processor]
    results: tuple[Processor | None, ...]
    make_row: Callable[[Iterable[Any]], Any]

    @classmethod
    def of(
        cls,
        statement: ClauseElement,
        dialect: Dialect,
        columns: Iterable[ColumnElement[Any]] = (),
        column_keys: Sequence[str] | None = None,
    ) -> Prepared:
        """Compile ``statement``; ``columns`` are what its rows hold, in order (by key).

        ``column_keys``: the columns an INSERT without values sets (each bound
        under its own name).
        """
        compiled = statement.compile(
            dialect=dialect, column_keys=list(column_keys) if column_keys else None
        )
        assert isinstance(compiled, SQLCompiler)
        defaults: dict[str, Any] = {}
        binds: dict[str, Processor] = {}
        for bind, name in compiled.bind_names.items():
            if not bind.required:
                defaults[name] = bind.effective_value
            processor = _bind_processor(bind.type, dialect)
            if processor is not None:
                binds[name] = processor
        positions = compiled.positiontup
        columns = list(columns)
        return cls(
            sql=compiled.string,
            names=tuple(positions) if positions is not None else None,
            defaults=defaults,
            binds=binds,
            results=tuple(_result_processor(column.type, dialect) for column in columns),
            make_row=_row_maker(columns),
        )

    def parameters(self, values: Mapping[str, Any]) -> Any:
        """The driver's parameters for ``values`` (a dict, or a tuple for positional styles)."""
        if self.names is not None and not self.defaults:  # a put's row: no copy of ``values``
            binds = self.binds
            return tuple(
                [
                    binds[name](values[name]) if name in binds else values[name]
                    for name in self.names
                ]
            )
        merged = {**self.defaults, **values} if self.defaults else dict(values)
        for name, processor in self.binds.items():
            if name in merged:
                merged[name] = processor(merged[name])
        if self.names is None:
            return merged
        return tuple(merged[name] for name in self.names)

    def rows(self, raw: Sequence[Sequence[Any]]) -> list[Any]:
        """The fetched rows, named (see ``make_row``), with each column's result processor."""
        make_row = self.make_row
        if not any(self.results):
            return [make_row(row) for row in raw]
        processors = self.results
        return [
            make_row(
                value if processor is None or value is None else processor(value)
                for processor, value in zip(processors, row, strict=False)
            )
            for row in raw
        ]


def execute(cursor: Any, prepared: Prepared, values: Mapping[str, Any]) -> Any:
    """Run ``prepared`` with ``values`` on a DBAPI cursor; returns the cursor."""
    cursor.execute(prepared.sql, prepared.parameters(values))
    return cursor


def fetch(cursor: Any, prepared: Prepared, values: Mapping[str, Any]) -> list[Any]:
    """Run ``prepared`` and return its processed rows."""
    cursor.execute(prepared.sql, prepared.parameters(values))
    return prepared.rows(cursor.fetchall())
