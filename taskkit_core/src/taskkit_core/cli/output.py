"""Where the command's words go: stdout for results, stderr for logs and errors.

Every text that leaves the command passes :func:`scrub` first, which hides
the password of every backend URL the command was given (``***``), in any
spelling, even inside a driver's message or a traceback.
"""

from __future__ import annotations

import json
import logging
import re
import sys
from typing import Any
from urllib.parse import quote

import msgspec
from rich.console import Console

from ..url import BackendURL, parse_url, url_password

_URLS: list[BackendURL] = []

# A safety net for URLs the command was not given (one in an app module):
# scheme://user:password@ becomes scheme://user:***@.
_CREDENTIALS = re.compile(r"([A-Za-z][A-Za-z0-9+.\-]*://[^\s:/@'\"]*):[^\s'\"]*@")

LOG_FORMAT = "%(asctime)s %(levelname)-7s %(name)s [%(process)d] %(message)s"


def remember_url(url: str) -> None:
    """Note a URL the user gave, so its password is masked in every output."""
    try:
        _URLS.append(parse_url(url))
    except Exception:  # not a URL at all: mask_url still hides user:password@
        return


def scrub(text: str) -> str:
    """``text`` with the password of every remembered URL replaced by ``***``.

    Only the URLs and passwords are replaced; the rest of the text is kept
    as it is (registry.scrub_password would also mask any ``a:b@c`` in it).
    """
    for url in _URLS:
        text = text.replace(url.raw, url.masked())
        password = url_password(url.raw)
        if password:
            for spelling in {password, quote(password, safe=""), quote(password)}:
                text = text.replace(spelling, "***")
    return _CREDENTIALS.sub(r"\1:***@", text)


def one_line(text: str) -> str:
    """The text on one line: a message that spans lines is joined with ' | '."""
    lines = [line.strip() for line in text.strip().splitlines() if line.strip()]
    return " | ".join(lines)


def stdout() -> Console:
    """A console on stdout for tables and results."""
    return Console(highlight=False, soft_wrap=False)


def stderr() -> Console:
    """A console on stderr for progress bars and notes, never for results."""
    return Console(stderr=True, highlight=False)


def error_line(message: str) -> None:
    """Write ``error: message`` as exactly one (scrubbed) line on stderr."""
    sys.stderr.write(f"error: {one_line(scrub(message))}\n")
    sys.stderr.flush()


def warning_line(message: str) -> None:
    """Write ``warning: message`` as one (scrubbed) line on stderr."""
    sys.stderr.write(f"warning: {one_line(scrub(message))}\n")
    sys.stderr.flush()


def print_json(value: Any) -> None:
    """Write ``value`` as JSON on stdout (dataclasses, datetimes... as msgspec writes them;
    values JSON cannot hold as their repr)."""
    sys.stdout.write(json.dumps(value, default=_plain, ensure_ascii=False) + "\n")
    sys.stdout.flush()


def _plain(value: Any) -> Any:
    try:
        return msgspec.to_builtins(value)
    except TypeError:
        return repr(value)


class ScrubbingFormatter(logging.Formatter):
    """A log formatter that masks the passwords of the command's URLs."""

    def format(self, record: logging.LogRecord) -> str:
        return scrub(super().format(record))


def configure_logging(level: str, formatter: logging.Formatter | None = None) -> None:
    """Send log records at ``level`` and above to stderr, once per process.

    Worker processes inherit this set-up (the level and the formatter, and
    under fork the handler too). ``formatter`` defaults to text lines.
    """
    root = logging.getLogger()
    for handler in root.handlers:
        if getattr(handler, "taskkit_cli", False):
            root.setLevel(level)
            return
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(formatter or ScrubbingFormatter(LOG_FORMAT))
    handler.taskkit_cli = True  # type: ignore[attr-defined]
    root.addHandler(handler)
    root.setLevel(level)
    if level != "DEBUG":
        # Alembic (taskkit-sql's migrations) narrates every step at INFO.
        logging.getLogger("alembic").setLevel(logging.WARNING)
