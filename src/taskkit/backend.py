"""taskkit 0.2's ``taskkit.backend``: the storage protocol and its errors, from taskkit_core."""

from taskkit_core import Backend, Failed, Lock, NoResult, NotFound

__all__ = ["Backend", "Failed", "Lock", "NoResult", "NotFound"]
