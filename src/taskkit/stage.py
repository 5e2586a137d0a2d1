"""taskkit 0.2's ``taskkit.stage``: a backend's record of a claim, from taskkit_core."""

from taskkit_core import StageInfo

__all__ = ["StageInfo"]
