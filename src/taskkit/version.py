"""``taskkit.version.VERSION`` of 0.2: now the version of taskkit_core underneath."""

from taskkit_core import VERSION

__all__ = ["VERSION"]
