"""taskkit 0.2's ``taskkit.process``: the worker process, from taskkit_core."""

from taskkit_core import TaskkitProcess

__all__ = ["TaskkitProcess"]
