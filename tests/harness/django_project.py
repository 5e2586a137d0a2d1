"""The Django test project (tests/django/project): its manage.py and the environment it needs.

tests/django has no __init__.py on purpose: the tests directory is on the
import path, and a package named ``django`` there would hide Django itself.
"""

from __future__ import annotations

import os
import sys
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
