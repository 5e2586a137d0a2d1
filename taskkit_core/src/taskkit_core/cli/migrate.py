"""``taskkit migrate``: create or upgrade a backend's storage, or print the SQL it would run."""

from __future__ import annotations

import click

from ..opening import lookup_backend, migrate
from .connection import app_option, load_optional_app
from .options import (
    backend_options,
    namespace_option,
    need_url,
    option,
    taskkit_command,
    url_option,
)
from .output import remember_url


@click.command("migrate")
@url_option
@namespace_option
@app_option
@option(
    "--sql",
    "sql_only",
    env=("TASKKIT_MIGRATE_SQL", "TASKKIT_SQL"),
    is_flag=True,
    help="Change nothing; print the DDL that would run.",
)
@taskkit_command
def migrate_command(
    url: str | None, namespace: str | None, app_spec: str | None, sql_only: bool
) -> int:
    """Create or upgrade the tables (or keys) of the backend at --url (or of --app).

    Safe to run again: an up-to-date storage is left as it is. Run it with a
    user allowed to change the schema; workers need only read and write.
    """
    options = backend_options(namespace)
    app = load_optional_app(app_spec) if url is None else None
    if app is not None:
        url, options = app.backend_url(options)
        remember_url(url or "")
    url = need_url(url)
    parsed, entry = lookup_backend(url)
    if entry.migrate is None:
        click.echo(f"{parsed.scheme}:// needs no migration: nothing to do")
        return 0
    report = migrate(url, sql_only=sql_only, **options)
    if sql_only:
        click.echo(report or f"-- {parsed.masked()} is up to date: no DDL to run")
    else:
        click.echo(report or f"{parsed.masked()} is up to date")
    return 0
