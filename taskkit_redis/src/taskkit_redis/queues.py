"""A group's queues, one per priority it uses, in claim order.

Priority 0 keeps the queue key of taskkit 0.3 (``P q:<hex group>``); each
other priority has ``P q:<hex group>:<priority>`` and is listed in
``P qp:<hex group>`` (see ``keys``). Python reads them in the order claim.lua
takes from them: positive priorities highest first, then 0, then the
negative ones.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from .keys import Keys

if TYPE_CHECKING:
    from .client import RedisClient


def claim_order(priorities: list[int]) -> list[int]:
    """0 and ``priorities`` (non-zero, any order) in claim order."""
    ordered = sorted(priorities, reverse=True)
    return [p for p in ordered if p > 0] + [0] + [p for p in ordered if p < 0]


def queue_keys(client: RedisClient, keys: Keys, group: str) -> list[str]:
    """The keys of a group's queues in claim order (one read of ``P qp:<hex group>``)."""
    members: list[Any] = client.zrange(keys.priorities(group), 0, -1)
    priorities = [int(p) for p in members]
    return [keys.queue(group, p) for p in claim_order(priorities)]
