"""Fixtures of the dashboard tests.

HTTP-level tests run the app in-process through Starlette's TestClient,
mostly on memory://. Browser tests (test_browser.py) drive one headless
Chromium per session against a real uvicorn server, on SQLite and
PostgreSQL.
"""

from __future__ import annotations

import tempfile
from collections.abc import Iterator
from pathlib import Path

import pytest
from starlette.testclient import TestClient

from taskkit_core import Connection

from .support import ACTING, app_over, fresh_namespace, url_of


@pytest.fixture
def connection(tmp_path: Path) -> Iterator[Connection]:
    """A memory:// connection with job control, in a namespace of its own."""
    with fresh_namespace(url_of("memory", tmp_path)) as opened:
        yield opened


@pytest.fixture
def client(connection: Connection) -> Iterator[TestClient]:
    """A client of a dashboard that allows actions (not signed in yet)."""
    with TestClient(app_over(connection, ACTING)) as test_client:
        yield test_client


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item: pytest.Item, call: pytest.CallInfo[None]) -> Iterator[None]:
    """When a browser test fails, save what the browser showed and name the file in the failure."""
    outcome = yield
    report = outcome.get_result()  # type: ignore[attr-defined]
    browser = getattr(item, "funcargs", {}).get("browser")
    if report.when != "call" or not report.failed or browser is None:
        return
    directory = Path(tempfile.mkdtemp(prefix="taskkit-dashboard-failure-"))
    shot = directory / f"{item.name.replace('/', '_')}.png"
    browser.driver.save_screenshot(str(shot))
    (directory / "page.html").write_text(browser.driver.page_source)
    note = f"screenshot {shot} (page source beside it) of {browser.driver.current_url}"
    if hasattr(report.longrepr, "addsection"):
        report.longrepr.addsection("browser", note)
    else:
        report.sections.append(("browser", note))
