"""taskkit 0.2's ``taskkit.event``: control events and their bridge, from taskkit_core."""

from taskkit_core import ControlEvent, EventBridge

__all__ = ["ControlEvent", "EventBridge"]
