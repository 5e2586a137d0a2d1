"""The dashboard's security: read-only by default, sign-in, CSRF, escaping, no password leaks."""

from __future__ import annotations

import base64
from collections.abc import Iterator
from pathlib import Path

import pytest
from starlette.testclient import TestClient
from taskkit_core.cli.dashboard import dashboard_command
from taskkit_core.dashboard import Credentials, DashboardSettings, create_app

from taskkit_core import (
    BackendUnavailable,
    ConfigurationError,
    Connection,
    RegularSchedule,
    ScheduleEntry,
    Task,
)

from .support import (
    ACTING,
    CREDENTIALS,
    READ_ONLY,
    TOKEN,
    Hostile,
    app_over,
    csrf_of,
    failed,
    fresh_namespace,
    queued,
    queued_ids,
    refresh_lease,
    sign_in,
    url_of,
)

PAGES = ["/", "/?part=1", "/chart", "/workers", "/schedules", "/login"]


def test_it_listens_on_loopback_unless_told_otherwise() -> None:
    host = next(p for p in dashboard_command.params if p.name == "host")
    assert host.default == "127.0.0.1"


def test_it_is_read_only_by_default(connection: Connection) -> None:
    task = failed(connection.backend, "mail", "x")
    with TestClient(create_app(connection=connection, settings=READ_ONLY)) as client:
        page = client.get("/group", params={"g": "mail", "state": "failed"}).text
        assert "read-only" in page and "/confirm/" not in page
        csrf = csrf_of(client.get("/login").text)
        reply = client.post("/actions/retry", data={"csrf": csrf, "task": task.id})
    assert reply.status_code == 403 and "start it with --allow-actions" in reply.text
    assert task.id not in queued_ids(connection.backend, "mail")


def test_actions_need_credentials_from_the_environment(connection: Connection) -> None:
    with pytest.raises(ConfigurationError, match="TASKKIT_DASHBOARD_TOKEN or TASKKIT_DASHBOARD"):
        create_app(
            connection=connection,
            settings=DashboardSettings(allow_actions=True, credentials=Credentials()),
        )
    env = {"TASKKIT_DASHBOARD_PASSWORD": "pw", "TASKKIT_DASHBOARD_USER": "bo"}
    assert Credentials.from_env(env).check("bo", "pw") == "bo"
    assert "pw" not in repr(Credentials.from_env(env))
    assert not [p for p in dashboard_command.params if "token" in p.name or "pass" in p.name]


def test_with_credentials_every_page_asks_for_them(client: TestClient) -> None:
    for path in ["/", "/workers", "/group?g=mail", "/confirm/pause?group=mail"]:
        reply = client.get(path, follow_redirects=False)
        assert reply.status_code == 303 and "/login?next=" in reply.headers["location"]
    fragment = client.get("/?part=1", headers={"HX-Request": "true"}, follow_redirects=False)
    assert fragment.headers["HX-Redirect"].startswith("http://testserver/login?next=")


def test_a_wrong_secret_signs_nobody_in(client: TestClient) -> None:
    page = client.get("/login")
    reply = client.post(
        "/login", data={"csrf": csrf_of(page.text), "user": "ann", "secret": "nope", "next": "/"}
    )
    assert reply.status_code == 401
    assert client.get("/", follow_redirects=False).status_code == 303


def test_scripts_may_send_a_bearer_token_or_basic_auth(client: TestClient) -> None:
    basic = base64.b64encode(b"ann:ann-secret-9f2").decode()
    assert client.get("/", headers={"Authorization": f"Bearer {TOKEN}"}).status_code == 200
    assert client.get("/", headers={"Authorization": f"Basic {basic}"}).status_code == 200
    wrong = client.get("/", headers={"Authorization": "Bearer x"}, follow_redirects=False)
    assert wrong.status_code == 303


def test_an_action_without_a_sign_in_is_refused(client: TestClient, connection: Connection) -> None:
    task = failed(connection.backend, "mail", "x")
    csrf = csrf_of(client.get("/login").text)
    reply = client.post("/actions/retry", data={"csrf": csrf, "task": task.id})
    assert reply.status_code == 401
    assert task.id not in queued_ids(connection.backend, "mail")


def test_an_action_without_this_sessions_csrf_token_is_refused(
    client: TestClient, connection: Connection
) -> None:
    """Fails if the CSRF check in actions.perform is removed (see the report)."""
    task = failed(connection.backend, "mail", "x")
    sign_in(client)
    for form in ({"task": task.id}, {"task": task.id, "csrf": "forged-token"}):
        reply = client.post("/actions/retry", data=form)
        assert reply.status_code == 403 and "CSRF token" in reply.text
    assert task.id not in queued_ids(connection.backend, "mail")
    csrf = csrf_of(client.get("/").text)
    assert client.post("/actions/retry", data={"task": task.id, "csrf": csrf}).status_code == 200
    assert task.id in queued_ids(connection.backend, "mail")


def test_the_session_cookie_is_httponly_and_samesite_strict(client: TestClient) -> None:
    cookie = client.get("/login").headers["set-cookie"].lower()
    assert "httponly" in cookie and "samesite=strict" in cookie


def test_pages_forbid_framing_and_foreign_scripts(client: TestClient) -> None:
    policy = client.get("/login").headers["content-security-policy"]
    assert "default-src 'self'" in policy and "frame-ancestors 'none'" in policy


def test_sign_in_never_sends_the_browser_off_site(client: TestClient) -> None:
    page = client.get("/login")
    for target in ["//evil.example/", "https://evil.example/", "/\\evil.example"]:
        reply = client.post(
            "/login",
            data={"csrf": csrf_of(page.text), "secret": TOKEN, "next": target},
            follow_redirects=False,
        )
        assert reply.headers["location"] == "/"
        page = client.get("/login")


def test_stored_text_is_shown_escaped_everywhere(connection: Connection) -> None:
    """Fails if the templates' autoescaping, or the control-character filter, is turned off."""
    evil = Hostile()
    backend = connection.backend
    group, name = evil.text("g"), evil.text("n")
    task = Task.init(
        group, name, evil.text("payload").encode(), headers={evil.text("k"): evil.text("v")}
    )
    backend.put_tasks(task)
    broken = failed(backend, group, evil.text("Traceback\nError: "), name=name)
    refresh_lease(backend, evil.text("host") + ":1:x")
    entry = ScheduleEntry(evil.text("key"), RegularSchedule(), group, name, b"")
    app = app_over(connection, ACTING, schedules={evil.text("s"): [entry]})
    with TestClient(app) as client:
        sign_in(client)
        pages = [client.get(p).text for p in ["/", "/?part=1", "/workers", "/schedules"]]
        for state in ("queued", "failed"):
            pages.append(client.get("/group", params={"g": group, "state": state}).text)
        for shown in (task, broken):
            pages.append(client.get("/task", params={"id": shown.id}).text)
        pages.append(client.get("/confirm/pause", params={"group": group}).text)
        pages.append(client.get("/confirm/purge", params={"group": group}).text)
        error = client.get("/group", params={"g": group, "state": evil.text("s")})
        assert error.status_code == 400 and "unknown state" in error.text
        pages.append(error.text)
    for body in pages:
        evil.assert_escaped(body)
    task_page, failed_page = pages[6], pages[7]
    for label in ("k", "v", "payload"):  # header key and value, payload preview
        assert f"{label}&lt;script&gt;alert(&#39;pwn&#39;)" in task_page
    assert "Error: &lt;script&gt;alert(" in failed_page  # the error, with its traceback
    assert 'data-group="g&lt;script&gt;' in pages[0] and "&#34;&gt;&lt;img" in pages[0]


PASSWORD = "Dash-CANARY-5e1b"


@pytest.fixture
def postgres_with_password(tmp_path: Path) -> Iterator[Connection]:
    url = url_of("postgresql", tmp_path).replace("postgres@", f"postgres:{PASSWORD}@", 1)
    assert PASSWORD in url, "TASKKIT_TEST_POSTGRES_URL must name the user postgres"
    with fresh_namespace(url) as opened:
        yield opened


class Unreachable:
    """A backend whose group_stats fails quoting the URL, as a driver's error might."""

    def __init__(self, inner: object, url: str) -> None:
        self.inner, self.url_given = inner, url

    def __getattr__(self, name: str) -> object:
        return getattr(self.inner, name)

    def group_stats(self, since: float) -> object:
        raise BackendUnavailable(f"cannot reach {self.url_given} (password {PASSWORD})")


def test_the_backend_password_never_reaches_a_page(postgres_with_password: Connection) -> None:
    backend = postgres_with_password.backend
    assert PASSWORD in backend.url
    task = failed(backend, "mail", "x")
    queued(backend, "mail")
    bodies = []
    with TestClient(app_over(postgres_with_password, ACTING)) as client:
        sign_in(client)
        for path in [*PAGES, "/group?g=mail", "/group?g=mail&state=failed", f"/task?id={task.id}"]:
            reply = client.get(path)
            bodies.append(f"{reply.headers}\n{reply.text}")
        assert "postgresql://postgres:***@" in bodies[0]
    failing = Connection(Unreachable(backend, backend.url), postgres_with_password.bridge)  # type: ignore[arg-type]
    with TestClient(app_over(failing, ACTING)) as client:
        sign_in(client)
        reply = client.get("/")
        assert reply.status_code == 503 and "cannot reach postgresql://postgres:***@" in reply.text
        bodies.append(f"{reply.headers}\n{reply.text}")
    for body in bodies:
        assert PASSWORD not in body


def test_credentials_default_to_the_environment(
    connection: Connection, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("TASKKIT_DASHBOARD_TOKEN", "from-env")
    with TestClient(create_app(connection=connection, settings=DashboardSettings())) as client:
        assert client.get("/", follow_redirects=False).status_code == 303
        sign_in(client, secret="from-env")
        assert client.get("/").status_code == 200
    assert CREDENTIALS.check("", TOKEN) == "token"
