"""A group's queue in memory://: claim order by priority, then due, then id.

Two heaps per group: ``waiting`` holds tasks by due time, ``ready`` holds
the due ones by claim order (priority DESC, due ASC, id ASC). A claim first
moves what became due from ``waiting`` to ``ready``, then takes from
``ready``; so a high-priority task that is not yet due never blocks a due
one of lower priority.

Slots are never removed from the middle of a heap: a task that left the
queue (claimed, cancelled, discarded) or was queued again leaves a stale
slot behind, recognised by its generation number and skipped when it
reaches the top.
"""

from __future__ import annotations

import heapq
from collections.abc import Callable
from dataclasses import dataclass, field

from ..task import Task

Slot = tuple[float, float, str, int]
"""(due, -priority, task id, generation) in ``waiting``; (-priority, due, ...) in ``ready``."""

IsCurrent = Callable[[str, int], bool]
"""Whether the slot of (task id, generation) still stands for a queued task."""


@dataclass
class GroupQueue:
    """The queued tasks of one group, in claim order."""

    waiting: list[Slot] = field(default_factory=list)
    ready: list[Slot] = field(default_factory=list)

    def push(self, task: Task, generation: int) -> None:
        """Queue ``task``; ``generation`` tells this slot from older ones of the same task."""
        heapq.heappush(self.waiting, (task.due, -task.priority, task.id, generation))

    def pop_due(self, now: float, is_current: IsCurrent) -> str | None:
        """The id of the next due task in claim order, taken off the queue; None if none is due."""
        self._promote(now, is_current)
        while self.ready:
            _, _, task_id, generation = heapq.heappop(self.ready)
            if is_current(task_id, generation):
                return task_id
        return None

    def _promote(self, now: float, is_current: IsCurrent) -> None:
        while self.waiting and self.waiting[0][0] <= now:
            due, rank, task_id, generation = heapq.heappop(self.waiting)
            if is_current(task_id, generation):
                heapq.heappush(self.ready, (rank, due, task_id, generation))
