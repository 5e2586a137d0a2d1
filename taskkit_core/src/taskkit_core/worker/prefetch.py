"""How many tasks a group claims ahead of its threads, fixed or fitted to the tasks.

The tasks claimed ahead are what the threads run while the next claim
is on its way: with T threads and tasks of d seconds they last d, so
when a claim round trip takes longer than d (short tasks, a loaded
server) the threads wait for work. Unless the application fixed it
(``WorkerSettings.prefetch``), the line is sized to hold ``COVER`` claim
round trips of work, ``T * COVER * claim time / task time``, but never
less than T (the plain default, which long tasks keep) nor more than
``MAX_FACTOR * T``.
"""

from __future__ import annotations

import math

COVER = 2.0
"""Claim round trips of work the line should hold."""

MAX_FACTOR = 4
"""The line never grows past this many times the threads."""

TASK_WEIGHT = 0.1
"""Weight of the newest task duration in its moving average."""

CLAIM_DECAY = 0.8
"""How slowly a claim time forgets a slow round trip (a slower one counts at once)."""


class Prefetch:
    """Tasks to claim ahead of ``threads`` threads: ``fixed``, or fitted when None."""

    def __init__(self, threads: int, fixed: int | None) -> None:
        self.threads = threads
        self.fixed = fixed
        self.extra = threads if fixed is None else fixed
        self._task_time = 0.0
        self._claim_time = 0.0

    def task_ran(self, seconds: float) -> None:
        """A thread spent ``seconds`` on one task (called under the pool's lock)."""
        if self._task_time == 0.0:
            self._task_time = seconds
        else:
            self._task_time += TASK_WEIGHT * (seconds - self._task_time)

    def claimed(self, seconds: float) -> None:
        """A claim round trip took ``seconds``: size the line again."""
        if self.fixed is not None:
            return
        decayed = CLAIM_DECAY * self._claim_time + (1 - CLAIM_DECAY) * seconds
        self._claim_time = max(seconds, decayed)
        if self._task_time > 0.0:
            wanted = math.ceil(self.threads * COVER * self._claim_time / self._task_time)
            self.extra = min(max(self.threads, wanted), MAX_FACTOR * self.threads)
