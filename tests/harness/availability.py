"""What a test does when the server or tool it needs is missing.

On a developer's machine it skips and says how to enable it; in CI
(TASKKIT_REQUIRE_ALL_BACKENDS=1) every backend must run, so it fails.
"""

from __future__ import annotations

import os
from typing import NoReturn

import pytest


def require_all() -> bool:
    """True where no test may skip for a missing server (CI)."""
    return os.environ.get("TASKKIT_REQUIRE_ALL_BACKENDS") == "1"


def unavailable(reason: str) -> NoReturn:
    """Skip, or fail where every backend must run (TASKKIT_REQUIRE_ALL_BACKENDS=1)."""
    if require_all():
        pytest.fail(f"{reason} (TASKKIT_REQUIRE_ALL_BACKENDS=1 forbids skipping)")
    pytest.skip(reason)
