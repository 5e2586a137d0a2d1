"""Where the command's words go: stdout for results, stderr for logs and errors.

Every text that leaves the command passes :func:`scrub` first, which hides
the password of every backend URL the command was given (``***``), in any
spelling, even inside a driver's message or a traceback.
"""

from __future__ import annotations

import json
import logging
import sys
from typing import Any

import msgspec

from ..url import BackendURL, mask_credentials, parse_url, scrub_password

_URLS: list[BackendURL] = []

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
    as it is. Credentials of URLs the command was not given (one in an app
    module) are masked too: ``scheme://user:password@`` becomes
    ``scheme://user:***@``.
    """
    for url in _URLS:
        text = scrub_password(url, text)
    return mask_credentials(text)


def one_line(text: str) -> str:
    """The text on one line: a message that spans lines is joined with ' | '."""
    lines = [line.strip() for line in text.strip().splitlines() if line.strip()]
    return " | ".join(lines)


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
