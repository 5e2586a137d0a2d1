"""Warnings about the backend's server, logged once per worker process at start.

A backend may define ``server_warnings() -> list[str]``: settings of its
server that can lose acknowledged tasks or slow workers down (Redis
without AOF or with an evicting policy, PostgreSQL without autovacuum).
It is optional (a backend without it has nothing to say) and it is asked
only when a worker runtime starts, so `taskkit status`, `enqueue`,
`pause` and applications putting tasks never print it: the people who
run workers do. Each line is logged once per process.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable

from ..backend import Backend

logger = logging.getLogger("taskkit.server")

_logged: set[str] = set()
_lock = threading.Lock()


def log_server_warnings(backend: Backend, scrub: Callable[[str], str] = str) -> None:
    """Log what ``backend.server_warnings()`` says, each line once in this process."""
    ask = getattr(backend, "server_warnings", None)
    if ask is None:
        return
    try:
        lines = list(ask())
    except Exception as exc:  # a check that cannot run must not stop the worker
        logger.debug("could not check the server's settings: %s", scrub(str(exc)))
        return
    for line in lines:
        with _lock:
            if line in _logged:
                continue
            _logged.add(line)
        logger.warning("%s", scrub(line))
