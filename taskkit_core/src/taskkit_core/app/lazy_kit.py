"""The app's backend, opened on first use and never at import.

The URL is the one given to the App, else TASKKIT_URL (or the file named by
TASKKIT_URL_FILE), else the embedded default: a SQLite file ``taskkit.db``
in the working directory (memory:// when taskkit-sql is not installed),
created and migrated on first use and announced once per process with a
warning, so nobody runs production on it by accident. The namespace is the
one given, else TASKKIT_NAMESPACE. A process forked after the backend was
opened opens its own.
"""

from __future__ import annotations

import logging
import os
import threading
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

from ..errors import ConfigurationError, UnknownBackendError
from ..handler import TaskHandler
from ..kit import Kit
from ..opening import lookup_backend, migrate
from ..settings import WorkerSettings
from ..url import mask_url

logger = logging.getLogger("taskkit.app")

EMBEDDED_FILE = "taskkit.db"

_announced: set[str] = set()


def embedded_url() -> str:
    """The SQLite file ``taskkit.db`` here, or memory:// without taskkit-sql."""
    url = f"sqlite:///{Path.cwd() / EMBEDDED_FILE}"
    try:
        lookup_backend(url)
    except UnknownBackendError:
        return "memory://"
    return url


def _announce(url: str) -> None:
    if url not in _announced:
        _announced.add(url)
        logger.warning(
            "no backend URL (App(url=...) or TASKKIT_URL): using the embedded default %s, "
            "which is for development on one machine",
            url,
        )


def _url_from_environment() -> str | None:
    url = os.environ.get("TASKKIT_URL")
    path = os.environ.get("TASKKIT_URL_FILE")
    if not url and path:
        try:
            url = Path(path).read_text(encoding="utf-8").strip()
        except OSError as exc:
            raise ConfigurationError(f"cannot read TASKKIT_URL_FILE {path!r}: {exc}") from None
    return url or None


class LazyKit:
    """The Kit of an app, made when first asked for."""

    def __init__(
        self,
        handler: Callable[[], TaskHandler],
        url: str | None,
        options: Mapping[str, Any],
        settings: WorkerSettings | None,
    ) -> None:
        self._handler = handler
        self._url = url
        self._options = dict(options)
        self._settings = settings
        self._lock = threading.Lock()
        self._kit: Kit | None = None
        self._pid = 0

    @property
    def url(self) -> str:
        """The backend URL this app uses (resolved now, without connecting)."""
        return self._url or _url_from_environment() or embedded_url()

    @property
    def embedded(self) -> bool:
        """True when no URL was given anywhere, so the embedded default is used."""
        return not (self._url or _url_from_environment())

    @property
    def options(self) -> dict[str, Any]:
        """The backend options (the namespace from TASKKIT_NAMESPACE when not given)."""
        options = dict(self._options)
        if "namespace" not in options and os.environ.get("TASKKIT_NAMESPACE"):
            options["namespace"] = os.environ["TASKKIT_NAMESPACE"]
        return options

    @property
    def settings(self) -> WorkerSettings:
        return self._settings or WorkerSettings()

    @property
    def opened(self) -> bool:
        return self._kit is not None and self._pid == os.getpid()

    def configure(
        self, url: str | None = None, settings: WorkerSettings | None = None, **options: Any
    ) -> None:
        """Use another URL, settings or options; only before the backend is opened."""
        with self._lock:
            if self.opened:
                raise ConfigurationError(
                    "the app's backend is already open; configure it before its first use"
                )
            self._url = url or self._url
            self._settings = settings or self._settings
            self._options.update(options)

    def overrides(self) -> tuple[str | None, dict[str, Any]]:
        """What was given in code (URL, options), for a worker process to apply."""
        return self._url, dict(self._options)

    def get(self) -> Kit:
        """The Kit, opened now if it is not yet (or was opened by a parent process)."""
        kit = self._kit
        if kit is not None and self._pid == os.getpid():
            return kit
        with self._lock:
            if self._kit is None or self._pid != os.getpid():
                self._kit, self._pid = self._open(), os.getpid()
            return self._kit

    def _open(self) -> Kit:
        url, options = self.url, self.options
        if self.embedded:
            _announce(mask_url(url))
            migrate(url, **options)
        return Kit.from_url(url, self._handler(), settings=self._settings, **options)

    def close(self) -> None:
        """Close the backend if this process opened it."""
        with self._lock:
            kit, self._kit = self._kit, None
            if kit is not None and self._pid == os.getpid():
                kit.close()
