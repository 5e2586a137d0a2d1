"""A real headless Chromium (Debian's chromium + chromium-driver) and a uvicorn server for it.

Selenium is pointed at /usr/bin/chromedriver, so Selenium Manager never
runs (nothing is downloaded); the flags keep Chromium off the network.
"""

from __future__ import annotations

import socket
import threading
from pathlib import Path

import uvicorn
from selenium import webdriver
from selenium.webdriver.chrome.webdriver import WebDriver
from selenium.webdriver.common.by import By
from selenium.webdriver.remote.webelement import WebElement
from selenium.webdriver.support import expected_conditions
from selenium.webdriver.support.wait import WebDriverWait
from starlette.applications import Starlette
from taskkit_core.testing import wait_until

from .support import TOKEN

CHROMIUM = Path("/usr/bin/chromium")
CHROMEDRIVER = Path("/usr/bin/chromedriver")
FLAGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--window-size=1280,860",
]
WAIT = 30.0  # generous: the machine may be busy with other test runs


def start_chromium(profile: Path) -> WebDriver:
    """Chromium with a fresh profile in ``profile``."""
    options = webdriver.ChromeOptions()
    options.binary_location = str(CHROMIUM)
    for flag in [*FLAGS, f"--user-data-dir={profile}"]:
        options.add_argument(flag)
    service = webdriver.ChromeService(executable_path=str(CHROMEDRIVER))
    return webdriver.Chrome(service=service, options=options)


class Server:
    """uvicorn serving ``app`` on a free loopback port, on a thread of its own."""

    def __init__(self, app: Starlette) -> None:
        self._socket = socket.socket()
        self._socket.bind(("127.0.0.1", 0))
        self.base = f"http://127.0.0.1:{self._socket.getsockname()[1]}"
        config = uvicorn.Config(app, log_level="warning", lifespan="on")
        self._server = uvicorn.Server(config)
        self._thread = threading.Thread(
            target=self._server.run, kwargs={"sockets": [self._socket]}, daemon=True
        )

    def __enter__(self) -> Server:
        self._thread.start()
        wait_until(lambda: self._server.started, WAIT)
        return self

    def __exit__(self, *exc: object) -> None:
        self._server.should_exit = True
        self._thread.join(timeout=WAIT)
        self._socket.close()


class Browser:
    """The shared Chromium pointed at one server, with the waits the tests need."""

    def __init__(self, driver: WebDriver, base: str) -> None:
        self.driver, self.base = driver, base

    def open(self, path: str) -> None:
        self.driver.get(self.base + path)

    def sign_in(self, secret: str = TOKEN) -> None:
        self.open("/login")
        self.find("input[name=secret]").send_keys(secret)
        self.find("#sign-in").click()
        wait_until(lambda: "/login" not in self.driver.current_url, WAIT)

    def find(self, css: str) -> WebElement:
        wait = WebDriverWait(self.driver, WAIT)
        found: WebElement = wait.until(
            expected_conditions.element_to_be_clickable((By.CSS_SELECTOR, css))
        )
        return found

    def text(self, css: str) -> str:
        return str(self.driver.find_element(By.CSS_SELECTOR, css).text)

    def present(self, css: str) -> bool:
        return bool(self.driver.find_elements(By.CSS_SELECTOR, css))

    def confirm(self, link_css: str) -> str:
        """Click an action link, then the confirmation page's button; the one-line summary."""
        self.find(link_css).click()
        self.find("#confirm").click()
        return str(wait_until(lambda: self.present(".flash") and self.text(".flash"), WAIT))
