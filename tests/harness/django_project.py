"""The Django test project (tests/django/project): its manage.py and the environment it needs.

tests/django has no __init__.py on purpose: the tests directory is on the
import path, and a package named ``django`` there would hide Django itself.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

PROJECT = Path(__file__).parents[1] / "django" / "project"


def manage(*args: str) -> list[str]:
    """The command line of ``manage.py`` in the test project."""
    return [sys.executable, str(PROJECT / "manage.py"), *args]


def project_env(**extra: str) -> dict[str, str]:
    """The environment a manage.py subprocess needs (the session's databases)."""
    root = str(Path(__file__).parents[2])
    path = os.pathsep.join([str(PROJECT), root, os.environ.get("PYTHONPATH", "")])
    return {**os.environ, "PYTHONPATH": path, **extra}


@contextmanager
def taskkit_worker(*options: str, **env: str) -> Iterator[subprocess.Popen[bytes]]:
    """``manage.py taskkit_worker OPTIONS`` running; stopped with SIGTERM, which must exit 0."""
    command = manage("taskkit_worker", *options)
    process = subprocess.Popen(command, env=project_env(**env), stderr=subprocess.PIPE)
    try:
        yield process
    finally:
        process.send_signal(signal.SIGTERM)
        _out, err = process.communicate(timeout=60)
        assert process.returncode == 0, err.decode()[-2000:]
