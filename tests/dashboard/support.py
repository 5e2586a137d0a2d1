"""Helpers of the dashboard tests: backends in fresh namespaces, signed-in clients, hostile text."""

from __future__ import annotations

import os
import re
import secrets
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from harness.availability import unavailable
from starlette.applications import Starlette
from starlette.testclient import TestClient
from taskkit_core.dashboard import Credentials, DashboardSettings, create_app
from taskkit_core.opening import connect, drop, migrate

from taskkit_core import Backend, Connection, Task, cur_ts

TOKEN = "test-token-3c1d"
CREDENTIALS = Credentials(token=TOKEN, user="ann", password="ann-secret-9f2")
ACTING = DashboardSettings(allow_actions=True, credentials=CREDENTIALS, refresh_seconds=1.0)
READ_ONLY = DashboardSettings(credentials=Credentials(), refresh_seconds=1.0)

SERVERS = {"postgresql": "TASKKIT_TEST_POSTGRES_URL"}


def url_of(name: str, directory: Path) -> str:
    """The URL of backend ``name``: memory, a SQLite file in ``directory``, or a server."""
    if name == "memory":
        return f"memory://dash_{secrets.token_hex(4)}"
    if name == "sqlite":
        return f"sqlite:///{directory / 'dashboard.db'}"
    url = os.environ.get(SERVERS[name])
    if not url:
        unavailable(f"{SERVERS[name]} is not set; set it to run the dashboard's {name} tests")
    return url


@contextmanager
def fresh_namespace(url: str) -> Iterator[Connection]:
    """A connection to a new namespace, dropped after."""
    namespace = f"tkd_{secrets.token_hex(5)}"
    migrate(url, namespace=namespace)
    connection = connect(url, namespace=namespace)
    try:
        yield connection
    finally:
        connection.backend.destroy_all()
        connection.close()
        drop(url, namespace=namespace)


def app_over(
    connection: Connection, settings: DashboardSettings = ACTING, **kw: object
) -> Starlette:
    return create_app(connection=connection, settings=settings, **kw)  # type: ignore[arg-type]


CSRF_FIELD = re.compile(r'name="csrf" value="([^"]+)"')


def csrf_of(html: str) -> str:
    """The CSRF token a page's forms carry."""
    match = CSRF_FIELD.search(html)
    assert match, "the page has no CSRF field"
    return match.group(1)


def sign_in(client: TestClient, user: str = "", secret: str = TOKEN) -> None:
    """Sign ``client`` in through the sign-in form."""
    page = client.get("/login")
    reply = client.post(
        "/login",
        data={"csrf": csrf_of(page.text), "user": user, "secret": secret, "next": "/"},
        follow_redirects=False,
    )
    assert reply.status_code == 303, reply.text


def queued(backend: Backend, group: str, name: str = "echo", data: bytes = b"{}") -> Task:
    """A task put in the queue of ``group``."""
    task = Task.init(group, name, data)
    backend.put_tasks(task)
    return task


def failed(backend: Backend, group: str, error: str, name: str = "boom") -> Task:
    """A task stored as failed with ``error`` (as eager mode stores one)."""
    task = Task.init(group, name, b"{}")
    backend.put_done_task(task, error=error)
    return task


def queued_ids(backend: Backend, group: str) -> set[str]:
    return {t.id for t in backend.get_queued_tasks(group, 1000)}


def refresh_lease(backend: Backend, worker_id: str, ttl: float = 10.0) -> None:
    """Give ``worker_id`` a lease (refresh_leases; set_worker_ttl before the 0.4 renames)."""
    refresh = getattr(backend, "refresh_leases", None) or getattr(backend, "set_worker_ttl")  # noqa: B009
    refresh([worker_id], ttl)


@dataclass(frozen=True)
class Hostile:
    """Text an attacker might store: markup, quotes that close attributes, control characters."""

    marker: str = "<script>alert('pwn')</script>"
    attribute: str = '"><img src=x onerror=alert(1)>'
    control: str = "\x1b[31m\u202e"

    def text(self, label: str) -> str:
        return f"{label}{self.marker}{self.attribute}{self.control}"

    def assert_escaped(self, body: str) -> None:
        """None of the hostile pieces appears raw in ``body``; their escaped forms do."""
        assert "<script>alert(" not in body
        assert "<img src=x" not in body
        assert "\x1b" not in body and "\u202e" not in body
        assert "&lt;script&gt;alert(" in body
        assert "\\x1b[31m" in body and "\\u202e" in body


def now() -> float:
    return cur_ts()
