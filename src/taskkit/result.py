"""taskkit 0.2's ``taskkit.result``: waiting for a task's outcome, from taskkit_core."""

from taskkit_core import Result, ResultGetPrevented, ResultGetTimedOut

__all__ = ["Result", "ResultGetPrevented", "ResultGetTimedOut"]
