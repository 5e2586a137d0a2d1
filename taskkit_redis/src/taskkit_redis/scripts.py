"""The Lua scripts: every multi-key step of the backend, atomic in one round trip.

Each script lives in ``lua/<name>.lua`` with a header naming its KEYS and
ARGV. It is loaded as the shared helpers of ``lua/lib.lua`` followed by the
script, with the layout names (``FIELD_STATE``, ...) replaced by their
values from ``keys`` and ``states`` (see ``lua_layout``). The text is fixed
for a release: data reaches a script only through KEYS and ARGV. redis-py's
``register_script`` computes each SHA once and calls EVALSHA, loading the
script on the first NOSCRIPT reply (for instance after a server restart).
"""

from __future__ import annotations

import functools
from importlib import resources
from typing import TYPE_CHECKING

from .lua_layout import expand

if TYPE_CHECKING:
    from redis.commands.core import Script

    from .client import RedisClient

SCRIPT_NAMES = (
    "put",
    "claim",
    "settle",
    "restore",
    "finish_eager",
    "discard",
    "finished",
    "disposable",
    "refresh_leases",
    "purge_expired_leases",
    "schedule",
    "lock_acquire",
    "lock_release",
    "cancel",
    "retry",
    "purge",
    "index",
    "send_event",
)


def lua_source(name: str) -> str:
    """The text of ``lua/<name>.lua`` as the package ships it."""
    return resources.files(__package__).joinpath("lua", f"{name}.lua").read_text("utf-8")


@functools.cache
def script_text(name: str) -> str:
    """The text of script ``name`` as loaded: lib.lua then the script, layout names expanded."""
    if name not in SCRIPT_NAMES:
        raise KeyError(f"no Lua script named {name!r}")
    return expand(f"{lua_source('lib')}\n{lua_source(name)}")


class Scripts:
    """The scripts registered on one client (one attribute per script)."""

    def __init__(self, client: RedisClient) -> None:
        def load(name: str) -> Script:
            return client.register_script(script_text(name))

        self.put = load("put")
        self.claim = load("claim")
        self.settle = load("settle")
        self.restore = load("restore")
        self.finish_eager = load("finish_eager")
        self.discard = load("discard")
        self.finished = load("finished")
        self.disposable = load("disposable")
        self.refresh_leases = load("refresh_leases")
        self.purge_expired_leases = load("purge_expired_leases")
        self.schedule = load("schedule")
        self.lock_acquire = load("lock_acquire")
        self.lock_release = load("lock_release")
        self.cancel = load("cancel")
        self.retry = load("retry")
        self.purge = load("purge")
        self.index = load("index")
        self.send_event = load("send_event")
