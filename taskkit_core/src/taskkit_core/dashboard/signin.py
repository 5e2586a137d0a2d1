"""The sign-in and sign-out pages."""

from __future__ import annotations

import logging

from starlette.requests import Request
from starlette.responses import RedirectResponse, Response

from .auth import check_csrf, safe_next, sign_in, sign_out
from .pages import dashboard

logger = logging.getLogger("taskkit.dashboard")


def login_page(request: Request) -> Response:
    """The sign-in form (GET)."""
    board = dashboard(request)
    back = safe_next(request.query_params.get("next"), request.url_for("overview").path)
    return board.render(request, "login.html", {"next": back, "failed": False})


async def login(request: Request) -> Response:
    """Sign in with the token, or user and password, the form gives (POST)."""
    board = dashboard(request)
    form = await request.form()
    back = safe_next(str(form.get("next", "")), request.url_for("overview").path)
    if not check_csrf(request, form):
        message = "the sign-in form is out of date: reload the page and try again"
        return board.render(request, "error.html", {"message": message}, status=403)
    name = sign_in(
        request, board.credentials, str(form.get("user", "")), str(form.get("secret", ""))
    )
    client = request.client.host if request.client else "?"
    if name is None:
        logger.warning("dashboard: a sign-in from %s failed", client)
        return board.render(request, "login.html", {"next": back, "failed": True}, status=401)
    logger.info("dashboard: %s signed in from %s", name, client)
    return RedirectResponse(back, status_code=303)


async def logout(request: Request) -> Response:
    """Sign out (POST, with the CSRF token)."""
    form = await request.form()
    if check_csrf(request, form):
        sign_out(request)
    return RedirectResponse(request.url_for("overview").path, status_code=303)
