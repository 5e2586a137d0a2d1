"""The dashboard in a real headless Chromium: pause, resume, retry, cancel, live refresh.

Each test checks the backend afterwards, on SQLite and PostgreSQL. One
Chromium serves the whole session; each test gets a server of its own over
a fresh namespace. A failing test saves a screenshot and names it (see
conftest.py). ``TASKKIT_README_SCREENSHOT=docs/dashboard.png`` makes
test_readme_screenshot write the README's picture there: run ``./dev test``
with that variable set.
"""

from __future__ import annotations

import os
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import pytest
from harness.availability import unavailable
from selenium.webdriver.chrome.webdriver import WebDriver
from taskkit_core.testing import FAST_SETTINGS, RecordingHandler, wait_until

from taskkit_core import Connection, Kit, connect, cur_ts

from .browser import CHROMEDRIVER, CHROMIUM, WAIT, Browser, Server, start_chromium
from .support import ACTING, app_over, failed, fresh_namespace, queued, queued_ids, url_of


@pytest.fixture(scope="session")
def chromium(tmp_path_factory: pytest.TempPathFactory) -> Iterator[WebDriver]:
    if not (CHROMIUM.exists() and CHROMEDRIVER.exists()):
        unavailable("no Chromium: apt-get install chromium chromium-driver (.ci/run does)")
    driver = start_chromium(tmp_path_factory.mktemp("chromium-profile"))
    yield driver
    driver.quit()


@dataclass
class Site:
    """A dashboard served over a fresh namespace, and a second connection to check the backend."""

    connection: Connection
    listener: Connection
    base: str


@pytest.fixture(params=["sqlite", "postgresql"])
def site(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Site]:
    with serving(url_of(request.param, tmp_path)) as served:
        yield served


@contextmanager
def serving(url: str) -> Iterator[Site]:
    """A dashboard over a fresh namespace of ``url``, served on a free port."""
    with fresh_namespace(url) as connection:
        listener = connect(url, namespace=connection.backend.namespace)
        try:
            with Server(app_over(connection, ACTING)) as server:
                yield Site(connection, listener, server.base)
        finally:
            listener.close()


@pytest.fixture
def browser(chromium: WebDriver, site: Site) -> Browser:
    chromium.delete_all_cookies()
    return Browser(chromium, site.base)


@pytest.fixture
def sqlite_site(tmp_path: Path) -> Iterator[Site]:
    with serving(url_of("sqlite", tmp_path)) as served:
        yield served


def events(site: Site) -> list[dict[str, object]]:
    """The control events the backend delivers next (waiting for the first, up to WAIT s)."""
    deadline = time.monotonic() + WAIT
    found: list[dict[str, object]] = []
    while not found and time.monotonic() < deadline:
        found = [dict(e) for e in site.listener.bridge.receive_events(timeout=1.0)]
    return found


def test_pause_and_resume_a_group(site: Site, browser: Browser) -> None:
    queued(site.connection.backend, "mail")
    browser.sign_in()
    browser.open("/")
    row = 'tr[data-group="mail"]'
    summary = browser.confirm(f'{row} a[data-action="pause"]')
    assert summary == "pause sent to group 'mail'"
    assert events(site) == [{"name": "pause", "groups": ["mail"]}]
    assert browser.text(f"{row} td.state") == "paused"
    assert browser.confirm(f'{row} a[data-action="resume"]') == "resume sent to group 'mail'"
    assert events(site) == [{"name": "resume", "groups": ["mail"]}]
    assert browser.text(f"{row} td.state") == ""


def test_retry_a_failed_task(site: Site, browser: Browser) -> None:
    task = failed(site.connection.backend, "mail", "ValueError: the SMTP server said no")
    browser.sign_in()
    browser.open("/group?g=mail&state=failed")
    assert "ValueError: the SMTP server said no" in browser.text(f'tr[data-task="{task.id}"]')
    summary = browser.confirm(f'tr[data-task="{task.id}"] a[data-action="retry"]')
    assert summary == "retry: 1 queued"
    assert task.id in queued_ids(site.listener.backend, "mail")


def test_cancel_a_queued_task(site: Site, browser: Browser) -> None:
    task = queued(site.connection.backend, "mail")
    browser.sign_in()
    browser.open(f"/task?id={task.id}")
    assert browser.text("#task-state") == "queued"
    assert browser.confirm('a[data-action="cancel"]') == "cancel: 1 cancelled"
    assert task.id not in queued_ids(site.listener.backend, "mail")
    info = site.connection.backend.read_task(task.id)
    assert info is not None and info.state == "cancelled"
    browser.open(f"/task?id={task.id}")
    assert browser.text("#task-state") == "cancelled"


def test_the_overview_refreshes_without_reloading(site: Site, browser: Browser) -> None:
    queued(site.connection.backend, "mail")
    browser.sign_in()
    browser.open("/")
    browser.driver.execute_script("window.stillTheSamePage = true")
    queued(site.listener.backend, "arrived-later")
    wait_until(lambda: browser.present('tr[data-group="arrived-later"]'), WAIT)
    assert browser.driver.execute_script("return window.stillTheSamePage") is True


def test_readme_screenshot(sqlite_site: Site, chromium: WebDriver, tmp_path: Path) -> None:
    """The picture in README.md: a few groups with work done, some failed, one paused."""
    site, browser = sqlite_site, Browser(chromium, sqlite_site.base)
    chromium.delete_all_cookies()
    backend = site.connection.backend
    kit = Kit(
        site.listener.backend,
        site.listener.bridge,
        RecordingHandler(),
        settings=FAST_SETTINGS,
        backend_options={"namespace": backend.namespace},
    )
    for n in range(40):
        kit.initiate_task("emails", "echo", {"to": f"user{n}@example.com"})
    for n in range(3):
        kit.initiate_task("emails", "fail", f"SMTP 550: mailbox user{n} unavailable")
    for n in range(12):
        kit.initiate_task("reports", "echo", {"report": n})
    with kit.start_threads({"emails": 4, "reports": 2}, polling_interval=0.1):
        wait_until(lambda: not queued_ids(backend, "emails") | queued_ids(backend, "reports"), WAIT)
    for n in range(6):
        kit.initiate_task("reports", "echo", {"report": n}, due=cur_ts() + 3600)
    kit.initiate_task("billing", "echo", {"invoice": 7})
    browser.sign_in()
    browser.open("/")
    browser.confirm('tr[data-group="billing"] a[data-action="pause"]')
    browser.open("/")
    wait_until(lambda: browser.present(".chart svg rect"), WAIT)
    target = Path(os.environ.get("TASKKIT_README_SCREENSHOT") or tmp_path / "dashboard.png")
    target.parent.mkdir(parents=True, exist_ok=True)
    assert browser.driver.save_screenshot(str(target))
    assert target.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
