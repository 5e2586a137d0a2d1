"""What a worker process holds: the claims it took and has not yet settled.

The backend keeps its own record of the tasks staged to each worker, and
the two agree unless the backend lost an acknowledged write (a Redis
failover to a replica that had not received the settle). Then the backend
still shows a task staged to a live worker that finished with it long ago;
the worker's lease stays fresh, so the restorer never takes the task back.
:class:`~taskkit_core.services.ReleaseForgottenClaims` compares the two
records and hands such tasks back.
"""

from __future__ import annotations

import threading
from collections.abc import Iterable

from .backend import Claim, Outcome

ClaimKey = tuple[str, int]
"""(task id, attempt): one claim of one task."""


class Holdings:
    """The claims of one worker process, from its claim to its written outcome."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._held: set[ClaimKey] = set()
        self._touched: set[ClaimKey] = set()

    def took(self, claims: Iterable[Claim]) -> None:
        """Claims the backend returned to this process."""
        keys = {(c.task.id, c.attempt) for c in claims}
        with self._lock:
            self._held |= keys
            self._touched |= keys

    def settled(self, outcomes: Iterable[Outcome]) -> None:
        """Outcomes the backend answered (accepted or refused): their claims are over."""
        with self._lock:
            self._held -= {(o.claim.task.id, o.claim.attempt) for o in outcomes}

    def look(self) -> set[ClaimKey]:
        """Claims held now or at any moment since the previous look."""
        with self._lock:
            seen = self._held | self._touched
            self._touched = set()
            return seen
