"""Named locks: one key per lock holding its holder's random token, with a lease.

``acquire`` is ``SET NX PX`` (or a lease extension when this object already
holds the lock); ``release`` deletes the key only while it still holds this
object's token, so a holder whose lease ran out can never free a lock that
another process took since. A holder that dies frees the lock when its
lease ends (LOCK_LEASE).
"""

from __future__ import annotations

import secrets
from typing import TYPE_CHECKING

from .keys import Keys

if TYPE_CHECKING:
    from .scripts import Scripts

LOCK_LEASE = 30.0
"""Seconds a lock outlives a holder that died without releasing it."""


class RedisLock:
    """A non-blocking lock on ``target`` in one namespace (the backend's Lock)."""

    def __init__(self, scripts: Scripts, keys: Keys, target: str) -> None:
        self._scripts = scripts
        self._keys = keys
        self._key = keys.lock(target)
        self.target = target
        self._token = secrets.token_hex(16)

    def __repr__(self) -> str:
        return f"RedisLock({self.target!r}, namespace={self._keys.namespace!r})"

    def acquire(self) -> bool:
        """Take the lock without waiting; True if this object holds it now."""
        lease_ms = str(int(LOCK_LEASE * 1000))
        held = self._scripts.lock_acquire(
            keys=[self._key], args=[self._keys.prefix, self._token, lease_ms]
        )
        return bool(held)

    def release(self) -> None:
        """Free the lock if this object holds it (a no-op otherwise)."""
        self._scripts.lock_release(keys=[self._key], args=[self._keys.prefix, self._token])
