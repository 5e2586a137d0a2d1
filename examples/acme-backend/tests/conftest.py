"""Points taskkit's conformance kit at acme://, a database file in a temporary directory."""

from pathlib import Path

import pytest

pytest_plugins = ["taskkit_core.testing"]


@pytest.fixture
def taskkit_url(tmp_path: Path) -> str:
    """The backend URL under test; every test also gets a namespace of its own."""
    return f"acme://{tmp_path}/tasks.db"
