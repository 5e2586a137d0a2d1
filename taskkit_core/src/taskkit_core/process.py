"""Moved in taskkit-core 0.4: worker processes live in :mod:`taskkit_core.worker.process`.

TODO(merge): delete this module once tests/redis_backend imports
taskkit_core.TaskkitProcess (its branch still names this path).
"""

from .worker.process import TaskkitProcess

__all__ = ["TaskkitProcess"]
