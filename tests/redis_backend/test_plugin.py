"""The plugin: cheap to load, one opener, capabilities declared once."""

from __future__ import annotations

import subprocess
import sys

import pytest
from taskkit_core.opening import lookup_backend
from taskkit_core.plugins import list_backends

import taskkit_redis
from taskkit_redis import backend, opener

CHECK_IMPORTS = """
import sys
import taskkit_redis.plugin
from taskkit_core.plugins import list_backends
list_backends()
print(",".join(m for m in ("redis", "hiredis") if m in sys.modules))
"""


def test_loading_the_plugin_imports_no_redis_library() -> None:
    command = [sys.executable, "-c", CHECK_IMPORTS]
    done = subprocess.run(command, check=False, capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == ""


@pytest.mark.parametrize("scheme", ["redis", "rediss", "unix", "redis+sentinel", "redis+cluster"])
def test_each_scheme_is_opened_by_the_one_open_redis(scheme: str) -> None:
    (info,) = [b for b in list_backends() if b.scheme == scheme]
    assert info.distribution == "taskkit-redis"
    assert info.capabilities == [
        "multi_process",
        "push_wakeups",
        "server_clock",
        "priorities",
        "unique_tasks",
    ]
    _parsed, entry = lookup_backend(f"{scheme}://localhost/0")
    assert entry.opener is opener.open_redis is taskkit_redis.open_redis
    assert entry.capabilities is backend.RedisBackend.capabilities
