"""Tables and notes of the command: rich on a terminal when it is installed, else plain lines.

rich is optional (``pip install "taskkit[cli]"``). Plain output is also
what a pipe, a file or a pager gets, rich or not: aligned columns with no
width limit, so no word is ever split across lines, and no colour codes.
Every plain line passes :func:`~.output.scrub`, which masks URL passwords.
"""

from __future__ import annotations

import sys
from collections.abc import Sequence
from dataclasses import dataclass, field
from importlib.util import find_spec
from typing import IO, Any

from .output import scrub


@dataclass(frozen=True)
class Styled:
    """Cell or heading text with a rich style ("red", "bold"); plain output shows the text."""

    text: str
    style: str


Cell = str | Styled


@dataclass
class TextTable:
    """A titled table; ``right`` names the right-justified columns."""

    title: str
    columns: Sequence[str]
    right: frozenset[str] = frozenset()
    rows: list[list[Cell] | None] = field(default_factory=list)
    caption: str = ""
    title_style: str = ""

    def add_row(self, *cells: Cell) -> None:
        self.rows.append(list(cells))

    def add_section(self) -> None:
        """A rule before the next row (a total row, for instance)."""
        self.rows.append(None)


def rich_installed() -> bool:
    """Whether rich can be imported, checked without importing it."""
    return find_spec("rich") is not None


def fancy(stream: IO[str]) -> bool:
    """Whether ``stream`` gets rich output: a terminal, and rich installed."""
    return stream.isatty() and rich_installed()


def text_of(cell: Cell) -> str:
    return cell.text if isinstance(cell, Styled) else cell


def plain_lines(table: TextTable) -> list[str]:
    """The table as aligned lines, as wide as its widest cells."""
    body = [[text_of(c) for c in row] for row in table.rows if row is not None]
    widths = [max(len(x) for x in column) for column in zip(table.columns, *body, strict=False)]
    lines = [table.title]
    for row in [list(table.columns), *body]:
        cells = [
            _pad(text, width, name in table.right) for text, width, name in _zip(row, widths, table)
        ]
        lines.append("  ".join(cells).rstrip())
    if table.caption:
        lines.append(table.caption)
    return lines


def _zip(row: list[str], widths: list[int], table: TextTable) -> zip[tuple[str, int, str]]:
    return zip(row, widths, table.columns, strict=True)


def _pad(text: str, width: int, right: bool) -> str:
    return text.rjust(width) if right else text.ljust(width)


def rich_table(table: TextTable) -> Any:
    """The table as a rich Table (only called when rich is installed)."""
    from rich.table import Table

    rendered = Table(title=markup(Styled(table.title, table.title_style)), title_justify="left")
    for name in table.columns:
        if name in table.right:
            rendered.add_column(name, justify="right", overflow="fold")
        else:
            rendered.add_column(name, overflow="fold")
    for row in table.rows:
        if row is None:
            rendered.add_section()
        else:
            rendered.add_row(*(markup(cell) for cell in row))
    rendered.caption = markup(table.caption) or None
    return rendered


def markup(cell: Cell) -> str:
    from rich.markup import escape

    if isinstance(cell, Styled) and cell.style:
        return f"[{cell.style}]{escape(cell.text)}[/{cell.style}]"
    return escape(text_of(cell))


def show(*parts: TextTable | Cell, stream: IO[str] | None = None) -> None:
    """Print headings and tables on ``stream`` (stdout), rich or plain (see module doc)."""
    stream = stream or sys.stdout
    if fancy(stream):
        from rich.console import Console

        console = Console(file=stream, highlight=False, soft_wrap=False)
        for part in parts:
            console.print(rich_table(part) if isinstance(part, TextTable) else markup(part))
        return
    stream.write(scrub("\n\n".join(plain_text(part) for part in parts)) + "\n")
    stream.flush()


def plain_text(part: TextTable | Cell) -> str:
    """One heading or table as plain text."""
    return "\n".join(plain_lines(part)) if isinstance(part, TextTable) else text_of(part)


def note(message: str) -> None:
    """One line for the user on stderr (never for results), password-free."""
    sys.stderr.write(scrub(message) + "\n")
    sys.stderr.flush()
