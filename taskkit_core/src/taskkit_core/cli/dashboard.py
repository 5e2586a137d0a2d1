"""``taskkit dashboard``: serve the web dashboard of a backend (extra ``taskkit[dashboard]``)."""

from __future__ import annotations

from typing import Any

import click

from ..errors import ConfigurationError
from ..settings import WorkerSettings
from .connection import app_option, load_optional_app, opened, warn_if_private
from .options import namespace_option, option, taskkit_command, url_option
from .output import warning_line

LOOPBACK = ("127.0.0.1", "::1", "localhost")


def _server() -> Any:
    """uvicorn and create_app, or a one-line error naming the extra to install."""
    try:
        import uvicorn

        from ..dashboard import DashboardSettings, create_app
    except ImportError as exc:
        raise ConfigurationError(
            f"the dashboard needs its extra (no module {exc.name!r}): "
            'pip install "taskkit[dashboard]"'
        ) from None
    return uvicorn, create_app, DashboardSettings


@click.command("dashboard")
@url_option
@namespace_option
@app_option
@option(
    "--host",
    env="TASKKIT_DASHBOARD_HOST",
    default="127.0.0.1",
    show_default=True,
    help="Address to listen on. Anything but loopback shows the dashboard to the network: "
    "set credentials and put it behind TLS.",
)
@option(
    "--port",
    env="TASKKIT_DASHBOARD_PORT",
    type=click.IntRange(1, 65535),
    default=8233,
    show_default=True,
    help="Port to listen on.",
)
@option(
    "--allow-actions",
    env="TASKKIT_DASHBOARD_ALLOW_ACTIONS",
    is_flag=True,
    help="Offer pause, resume, shutdown, retry, cancel and purge, each with a confirmation, "
    "to people signed in with TASKKIT_DASHBOARD_TOKEN or TASKKIT_DASHBOARD_PASSWORD "
    "(environment only). Without it the dashboard is read-only.",
)
@option(
    "--root-path",
    env="TASKKIT_DASHBOARD_ROOT_PATH",
    default="",
    help="The path prefix under which a reverse proxy serves the dashboard.",
)
@option(
    "--secure-cookies",
    env="TASKKIT_DASHBOARD_SECURE_COOKIES",
    is_flag=True,
    help="Send the session cookie over HTTPS only (behind a TLS proxy).",
)
@taskkit_command
def dashboard_command(
    url: str | None,
    namespace: str | None,
    app_spec: str | None,
    host: str,
    port: int,
    allow_actions: bool,
    root_path: str,
    secure_cookies: bool,
) -> int:
    """Serve a web page showing groups, tasks, workers and schedules, live.

    Credentials come from the environment only: TASKKIT_DASHBOARD_TOKEN, or
    TASKKIT_DASHBOARD_PASSWORD (user TASKKIT_DASHBOARD_USER, default admin).
    Once one is set every page asks for it. With --app, the schedules page
    lists the app's SCHEDULE. Ctrl-C stops it.
    """
    uvicorn, create_app, dashboard_settings = _server()
    app = load_optional_app(app_spec)
    ttl = (app.settings() if app else WorkerSettings()).worker_ttl
    settings = dashboard_settings(
        allow_actions=allow_actions, worker_ttl=ttl, secure_cookies=secure_cookies
    ).resolved()
    if host not in LOOPBACK:
        warning_line(f"listening on {host}: everyone who can reach port {port} sees the dashboard")
    with opened(url, namespace, app) as connection:
        warn_if_private(connection, "the dashboard shows only its own (empty) state")
        web = create_app(
            connection=connection, settings=settings, schedules=app.schedule if app else None
        )
        mode = "actions allowed" if allow_actions else "read-only"
        click.echo(f"taskkit dashboard on http://{_netloc(host, port)}{root_path}/ ({mode})")
        uvicorn.run(
            web,
            host=host,
            port=port,
            root_path=root_path,
            log_config=None,
            access_log=False,
            server_header=False,
        )
    return 0


def _netloc(host: str, port: int) -> str:
    return f"[{host}]:{port}" if ":" in host else f"{host}:{port}"
