"""Who is signed in, the sign-in page, and the CSRF token every action carries.

A person signs in with the token or the user and password of
:class:`~.settings.Credentials`; the session cookie (signed, HttpOnly,
SameSite=Strict) then names them. Scripts may instead send
``Authorization: Bearer TOKEN`` or HTTP Basic on each request.

CSRF: each session holds a random token; every form that changes something
carries it in a field (or an ``X-CSRF-Token`` header) and the server
refuses a request whose token is missing or differs. A page on another site
can neither read the token nor, with SameSite=Strict, send the cookie.
"""

from __future__ import annotations

import base64
import binascii
import logging
import secrets
from collections.abc import Mapping
from urllib.parse import urlsplit

from starlette.datastructures import FormData
from starlette.requests import Request
from starlette.responses import RedirectResponse, Response

from .settings import Credentials

logger = logging.getLogger("taskkit.dashboard")

ACTOR = "actor"
CSRF = "csrf"
CSRF_HEADER = "x-csrf-token"


def csrf_token(request: Request) -> str:
    """This session's CSRF token, made on first use."""
    token = request.session.get(CSRF)
    if not isinstance(token, str):
        token = request.session[CSRF] = secrets.token_urlsafe(32)
    return token


def check_csrf(request: Request, form: FormData) -> bool:
    """True when the request carries this session's CSRF token (form field or header)."""
    given = form.get(CSRF) or request.headers.get(CSRF_HEADER) or ""
    expected = request.session.get(CSRF)
    if not (isinstance(given, str) and isinstance(expected, str)):
        return False
    return secrets.compare_digest(given.encode(), expected.encode())


def actor(request: Request, credentials: Credentials) -> str | None:
    """Who is signed in on this request (the session, or an Authorization header)."""
    name = request.session.get(ACTOR)
    if isinstance(name, str):
        return name
    return _from_header(request.headers, credentials)


def _from_header(headers: Mapping[str, str], credentials: Credentials) -> str | None:
    scheme, _, value = headers.get("authorization", "").partition(" ")
    if scheme.lower() == "bearer":
        return credentials.check("", value.strip())
    if scheme.lower() != "basic":
        return None
    try:
        user, _, password = base64.b64decode(value, validate=True).decode().partition(":")
    except (binascii.Error, UnicodeDecodeError):
        return None
    return credentials.check(user, password)


def sign_in(request: Request, credentials: Credentials, user: str, secret: str) -> str | None:
    """Sign the session in as whoever ``user`` and ``secret`` name; None when they name nobody."""
    name = credentials.check(user, secret)
    if name is not None:
        request.session.clear()  # a fresh session: a new CSRF token after signing in
        request.session[ACTOR] = name
    return name


def sign_out(request: Request) -> None:
    request.session.clear()


def safe_next(target: str | None, default: str) -> str:
    """``target`` when it is a path on this site, else ``default`` (no open redirects)."""
    if target and target.startswith("/") and not target.startswith(("//", "/\\")):
        return target
    return default


def to_sign_in(request: Request) -> Response:
    """Send the browser to the sign-in page (htmx: reload the whole page there)."""
    if request.headers.get("hx-request"):
        here = urlsplit(request.headers.get("hx-current-url", ""))
        back = f"{here.path}?{here.query}" if here.query else here.path
        target = request.url_for("login").include_query_params(next=back)
        return Response(status_code=204, headers={"HX-Redirect": str(target)})
    back = f"{request.url.path}?{request.url.query}" if request.url.query else request.url.path
    target = request.url_for("login").include_query_params(next=back)
    return RedirectResponse(str(target), status_code=303)
