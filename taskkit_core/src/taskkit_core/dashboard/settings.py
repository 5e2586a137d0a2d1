"""What a dashboard is allowed to do and who may do it.

Credentials come from the environment only (a command line is visible to
every user of the machine in ``ps``): ``TASKKIT_DASHBOARD_TOKEN``, or
``TASKKIT_DASHBOARD_PASSWORD`` with ``TASKKIT_DASHBOARD_USER`` (default
``admin``). Once any is set, every page asks for it; actions always do.
"""

from __future__ import annotations

import os
import secrets
from collections.abc import Mapping
from dataclasses import dataclass, field, replace

from ..errors import ConfigurationError

TOKEN_VARIABLE = "TASKKIT_DASHBOARD_TOKEN"  # noqa: S105 (the name of a variable)
PASSWORD_VARIABLE = "TASKKIT_DASHBOARD_PASSWORD"  # noqa: S105 (a name)
USER_VARIABLE = "TASKKIT_DASHBOARD_USER"
SECRET_VARIABLE = "TASKKIT_DASHBOARD_SECRET"  # noqa: S105 (a name)


@dataclass(frozen=True)
class Credentials:
    """A token, or a user and password, that signs a person in; never shown in a repr."""

    token: str | None = field(default=None, repr=False)
    user: str = "admin"
    password: str | None = field(default=None, repr=False)

    @classmethod
    def from_env(cls, environ: Mapping[str, str] | None = None) -> Credentials:
        """The credentials the environment gives (none: an open, read-only dashboard)."""
        env = os.environ if environ is None else environ
        return cls(
            token=env.get(TOKEN_VARIABLE) or None,
            user=env.get(USER_VARIABLE) or "admin",
            password=env.get(PASSWORD_VARIABLE) or None,
        )

    @property
    def configured(self) -> bool:
        """True when someone can sign in at all."""
        return bool(self.token or self.password)

    def check(self, user: str, secret: str) -> str | None:
        """Who signs in with ``user`` and ``secret`` ("token" or the user), or None."""
        if self.token and _same(secret, self.token):
            return "token"
        if self.password and _same(user, self.user) & _same(secret, self.password):
            return self.user
        return None


def _same(given: str, expected: str) -> bool:
    """Compare in constant time, so the time taken tells nothing about the secret."""
    return secrets.compare_digest(given.encode("utf-8"), expected.encode("utf-8"))


@dataclass(frozen=True)
class DashboardSettings:
    """How a dashboard behaves; ``credentials`` None means "read them from the environment".

    allow_actions: pause, resume, shutdown, retry, cancel and purge are offered
        (each needs a signed-in person and a confirmation); off by default.
    page_size: rows per page of groups and tasks.
    refresh_seconds: how often pages refresh their tables in place.
    worker_ttl: the workers' lease ttl, to estimate a worker's last heartbeat.
    secure_cookies: send the session cookie over HTTPS only (set it behind TLS).
    session_secret: signs session cookies; default TASKKIT_DASHBOARD_SECRET or a
        random one per process (sessions then end when the process restarts).
    preview_bytes: at most this much of a payload is shown.
    """

    allow_actions: bool = False
    credentials: Credentials | None = None
    page_size: int = 50
    refresh_seconds: float = 5.0
    worker_ttl: float = 10.0
    secure_cookies: bool = False
    session_secret: str | None = field(default=None, repr=False)
    preview_bytes: int = 4096

    def resolved(self) -> DashboardSettings:
        """These settings with credentials and secret filled in and checked."""
        credentials = self.credentials or Credentials.from_env()
        if self.allow_actions and not credentials.configured:
            raise ConfigurationError(
                f"actions need a sign-in: set {TOKEN_VARIABLE} or {PASSWORD_VARIABLE} "
                "in the environment (never on the command line)"
            )
        if not 1 <= self.page_size <= 1000:
            raise ConfigurationError(f"page_size must be 1 to 1000, got {self.page_size}")
        secret = self.session_secret or os.environ.get(SECRET_VARIABLE) or secrets.token_urlsafe(32)
        return replace(self, credentials=credentials, session_secret=secret)
