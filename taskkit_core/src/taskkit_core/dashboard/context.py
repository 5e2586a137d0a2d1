"""What every page of one dashboard shares: the connection, settings, shared reads, templates."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any
from urllib.parse import quote

from jinja2 import Environment, FileSystemLoader, StrictUndefined
from starlette.requests import Request
from starlette.responses import HTMLResponse
from starlette.templating import Jinja2Templates

from ..backend import Backend, Connection
from ..clock import cur_ts
from ..url import mask_url, url_password
from . import text
from .auth import actor, csrf_token
from .charts import Bucket, hour_buckets
from .controls import ControlTracker
from .jobcontrol import JobControlMissing, job_control
from .overview import Stats, read_stats
from .paging import Shared
from .settings import Credentials, DashboardSettings

TEMPLATES = Path(__file__).with_name("templates")

CHART_MAX_AGE = 30.0

SECURITY_HEADERS = {
    # Scripts and styles only from the dashboard's own static files, no frames.
    "Content-Security-Policy": "default-src 'self'; img-src 'self' data:; "
    "frame-ancestors 'none'; form-action 'self'; base-uri 'none'",
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "same-origin",
    "Cache-Control": "no-store",
}


def make_environment() -> Environment:
    """The templates' environment: autoescaping on, every printed string made visible."""
    env = Environment(
        loader=FileSystemLoader(TEMPLATES),
        autoescape=True,
        finalize=text.finalize,
        undefined=StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
    )
    env.filters.update(
        duration=text.duration, clock=text.clock_time, count=text.count, visible=text.visible
    )
    return env


class Dashboard:
    """One dashboard over one backend connection."""

    def __init__(
        self,
        connection: Connection,
        settings: DashboardSettings,
        schedules: Mapping[str, Sequence[Any]] | None,
    ) -> None:
        self.backend, self.bridge = connection.backend, connection.bridge
        self.settings = settings
        self.credentials = settings.credentials or Credentials()
        self.schedules = schedules
        self.controls = ControlTracker(connection.bridge)
        self.stats: Shared[Stats] = Shared(
            lambda: read_stats(self.backend), settings.refresh_seconds
        )
        self.chart: Shared[list[Bucket]] = Shared(
            lambda: hour_buckets(self.backend, self.jobs_or_none()), CHART_MAX_AGE
        )
        self.templates = Jinja2Templates(env=make_environment())
        self._raw_url = self.backend.url
        self._password = url_password(self.backend.url)

    def jobs(self) -> Backend:
        """The backend's job control; JobControlMissing without it."""
        return job_control(self.backend)

    def jobs_or_none(self) -> Backend | None:
        try:
            return self.jobs()
        except JobControlMissing:
            return None

    def scrub(self, message: str) -> str:
        """``message`` without the backend URL's password (a driver may quote the URL)."""
        message = message.replace(self._raw_url, mask_url(self._raw_url))
        if self._password:
            for spelling in {self._password, quote(self._password, safe="")}:
                message = message.replace(spelling, "***")
        return message

    def render(
        self, request: Request, name: str, context: dict[str, Any], status: int = 200
    ) -> HTMLResponse:
        """The template ``name`` with what every page shows (who, where, flash message)."""
        common = {
            "backend_url": mask_url(self.backend.url),
            "namespace": self.backend.namespace,
            "allow_actions": self.settings.allow_actions,
            "actor": actor(request, self.credentials),
            "sign_in": self.credentials.configured,
            "csrf": csrf_token(request),
            "refresh": self.settings.refresh_seconds,
            "flash": request.session.pop("flash", None),
            "since": self.controls.started,
            "now": cur_ts(),
            "part_url": part_url(request),
            "here": here(request),
        }
        response = self.templates.TemplateResponse(
            request, name, {**common, **context}, status_code=status
        )
        response.headers.update(SECURITY_HEADERS)
        return response


def part_url(request: Request) -> str:
    """This page's path and query with ``part=1``: what htmx polls to refresh its table."""
    url = request.url.include_query_params(part="1")
    return f"{url.path}?{url.query}"


def here(request: Request) -> str:
    """This page's path and query without ``part``: where an action returns to."""
    url = request.url.remove_query_params("part")
    return f"{url.path}?{url.query}" if url.query else url.path
