"""Moved in taskkit-core 0.4: Backoff and OutageLog live in :mod:`taskkit_core.outages`.

TODO(merge): delete this module once taskkit_sql and taskkit_redis import
them from taskkit_core.outages (their branches still name this path).
"""

from .outages import Backoff, OutageLog

__all__ = ["Backoff", "OutageLog"]
