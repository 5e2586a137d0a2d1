"""``create_app``: the dashboard as a Starlette application, served alone or mounted.

Serve it with ``taskkit dashboard`` (uvicorn), or mount it in an
application of your own::

    from starlette.routing import Mount
    from taskkit_core.dashboard import create_app

    routes = [Mount("/taskkit", app=create_app(url="postgresql://app@db/app"))]

(FastAPI: ``app.mount("/taskkit", create_app(url=...))``.) Links follow the
mount path. The dashboard opens its connection when created, starts its
control-event reader when the server starts, and closes both when it stops.
"""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator, Mapping, Sequence
from pathlib import Path
from typing import Any

from starlette.applications import Starlette
from starlette.middleware import Middleware
from starlette.middleware.sessions import SessionMiddleware
from starlette.routing import Mount, Route
from starlette.staticfiles import StaticFiles

from ..backend import Connection
from ..errors import ConfigurationError
from ..opening import connect
from . import actions, pages, signin
from .context import Dashboard
from .settings import DashboardSettings

STATIC = Path(__file__).with_name("static")
SESSION_COOKIE = "taskkit_dashboard"
SESSION_SECONDS = 12 * 3600


def create_app(
    url: str | None = None,
    *,
    connection: Connection | None = None,
    settings: DashboardSettings | None = None,
    schedules: Mapping[str, Sequence[Any]] | None = None,
    **backend_options: Any,
) -> Starlette:
    """A dashboard over ``url`` (opened with ``backend_options``) or over ``connection``.

    ``settings`` default to read-only, credentials from the environment.
    ``schedules`` names the application's schedule entries (as ``Kit.start``
    takes them), for the schedules page. The app closes the connection it
    opened when the server stops; a connection given stays the caller's.
    """
    if (url is None) == (connection is None):
        raise ConfigurationError("create_app needs a backend URL or a connection (one of them)")
    resolved = (settings or DashboardSettings()).resolved()
    owned = connect(url, **backend_options) if url is not None else None
    connection = owned or connection
    assert connection is not None
    board = Dashboard(connection, resolved, schedules)

    @contextlib.asynccontextmanager
    async def lifespan(app: Starlette) -> AsyncIterator[None]:
        board.controls.start()
        try:
            yield
        finally:
            board.controls.stop()
            if owned is not None:
                owned.close()

    app = Starlette(routes=routes(), middleware=middleware(resolved), lifespan=lifespan)
    app.state.dashboard = board
    return app


def routes() -> list[Route | Mount]:
    """Every page, fragment and action of the dashboard."""
    return [
        Route("/", pages.overview, name="overview"),
        Route("/chart", pages.chart, name="chart"),
        Route("/group", pages.group, name="group"),
        Route("/task", pages.task, name="task"),
        Route("/workers", pages.workers, name="workers"),
        Route("/schedules", pages.schedules, name="schedules"),
        Route("/confirm/{action}", actions.confirm, name="confirm"),
        Route("/actions/{action}", actions.perform, methods=["POST"], name="perform"),
        Route("/login", signin.login_page, name="login"),
        Route("/login", signin.login, methods=["POST"], name="login_post"),
        Route("/logout", signin.logout, methods=["POST"], name="logout"),
        Mount("/static", app=StaticFiles(directory=STATIC), name="static"),
    ]


def middleware(settings: DashboardSettings) -> list[Middleware]:
    """The signed session cookie: HttpOnly, SameSite=Strict, HTTPS-only when asked."""
    assert settings.session_secret is not None
    return [
        Middleware(
            SessionMiddleware,
            secret_key=settings.session_secret,
            session_cookie=SESSION_COOKIE,
            max_age=SESSION_SECONDS,
            same_site="strict",
            https_only=settings.secure_cookies,
        )
    ]
