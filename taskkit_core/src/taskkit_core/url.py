"""Backend URLs: the scheme that picks a backend, and masking of passwords.

A password in a URL must never reach a log line, a repr or an error
message. :func:`mask_url` replaces it with ``***`` even when the URL is
malformed (an unescaped ``@`` or ``/`` in the password, a bad port), so
every message about a URL goes through it; :func:`scrub_password` hides it
inside any other text (a driver's error message, a log line).
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from urllib.parse import parse_qsl, quote, unquote, urlsplit

from .errors import ConfigurationError

_SCHEME = re.compile(r"^([A-Za-z][A-Za-z0-9+.\-]*)://")


def mask_url(url: str) -> str:
    """``url`` with the password part of its credentials replaced by ``***``.

    The credentials end at the last ``@`` before the path, query or end, so
    a password holding ``@``, ``/`` or ``:`` is still hidden whole.
    """
    match = _SCHEME.match(url)
    if match is None:
        return _mask_schemeless(url)
    head, rest = url[: match.end()], url[match.end() :]
    at = rest.rfind("@")
    if at < 0:
        return url
    credentials, host_part = rest[:at], rest[at + 1 :]
    user, sep, _password = credentials.partition(":")
    return f"{head}{user}{':***' if sep else ''}@{host_part}"


def _mask_schemeless(text: str) -> str:
    # Not a URL at all: it may still be "user:password@host"; hide everything
    # between the first ':' and the last '@'.
    at = text.rfind("@")
    colon = text.find(":")
    if at > 0 and 0 <= colon < at:
        return f"{text[:colon]}:***{text[at:]}"
    return text


@dataclass(frozen=True)
class BackendURL:
    """A parsed backend URL; its repr and str show the password as ``***``."""

    raw: str = field(repr=False)
    scheme: str

    def masked(self) -> str:
        return mask_url(self.raw)

    def query(self) -> dict[str, str]:
        """The query string as options (last value wins)."""
        return dict(parse_qsl(urlsplit(self.raw).query, keep_blank_values=True))

    def __str__(self) -> str:
        return self.masked()

    def __repr__(self) -> str:
        return f"BackendURL({self.masked()!r})"


def parse_url(url: object) -> BackendURL:
    """Check that ``url`` looks like ``scheme://...`` and return it parsed.

    Raises ConfigurationError with a one-line, password-free message.
    """
    if not isinstance(url, str):
        raise ConfigurationError(f"a backend URL must be a str, got {type(url).__name__}")
    if not url.strip():
        raise ConfigurationError("the backend URL is empty; expected e.g. sqlite:///tasks.db")
    match = _SCHEME.match(url)
    if match is None:
        raise ConfigurationError(
            f"malformed backend URL {mask_url(url)!r}: expected scheme://..., "
            "e.g. postgresql://user@host/db"
        )
    return BackendURL(raw=url, scheme=match.group(1).lower())


def url_password(url: str) -> str | None:
    """The (unquoted) password of ``url``, if it has one; used to build canaries in tests."""
    match = _SCHEME.match(url)
    rest = url[match.end() :] if match else url
    at = rest.rfind("@")
    if at < 0:
        return None
    _user, sep, password = rest[:at].partition(":")
    return unquote(password) if sep else None


_CREDENTIALS = re.compile(r"([A-Za-z][A-Za-z0-9+.\-]*://[^\s:/@'\"]*):[^\s'\"]*@")


def mask_credentials(text: str) -> str:
    """``text`` with every ``scheme://user:password@`` in it as ``scheme://user:***@``.

    A safety net for URLs nobody named; the rest of the text is kept as it is.
    """
    return _CREDENTIALS.sub(r"\1:***@", text)


def scrub_password(url: BackendURL, text: str) -> str:
    """``text`` with the URL, and the URL's password in any spelling, masked.

    Only URL credentials are touched: mask_url over the whole text would
    also turn an unrelated ``a: b@c`` in a message into ``a:***@c``.
    """
    text = mask_credentials(text.replace(url.raw, url.masked()))
    password = url_password(url.raw)
    if password:
        for spelling in {password, quote(password, safe=""), quote(password)}:
            text = text.replace(spelling, "***")
    return text


def first_line(text: str) -> str:
    """The first line of ``text`` (stripped), for one-line error messages."""
    stripped = text.strip()
    return stripped.splitlines()[0] if stripped else ""
