"""The four distributions built once per session, and one fresh virtualenv per extra.

See builds.py for how; the four virtualenvs are made in parallel, so the
session pays for the slowest one only.
"""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest

from .builds import EXTRAS, Venv, make_venv, run, uv


@pytest.fixture(scope="session")
def dist(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A folder with the wheel and sdist of taskkit, taskkit-core, taskkit-sql, taskkit-redis."""
    out = tmp_path_factory.mktemp("dist")
    run(uv(), "build", "--all-packages", "--out-dir", out)
    return out


@pytest.fixture(scope="session")
def venvs(dist: Path, tmp_path_factory: pytest.TempPathFactory) -> dict[str, Venv]:
    """One fresh virtualenv per extra, made in parallel."""
    base = tmp_path_factory.mktemp("venvs")
    with ThreadPoolExecutor(len(EXTRAS)) as pool:
        made = pool.map(lambda extra: make_venv(dist, base, extra), EXTRAS)
        return {venv.extra: venv for venv in made}
