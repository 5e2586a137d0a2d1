"""Forgotten claims: tasks staged to a live worker that never learned of its claim.

A claim whose answer was lost (the connection broke while it committed)
leaves its tasks staged to the worker, and that worker stays alive, so
restoring never frees them. A backend object therefore remembers which
tasks it handed out and which claims failed: the next claim for the same
group and worker first adopts what is staged to that worker and was never
handed out, and only then claims more.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterable, Sequence
from typing import Any

from taskkit_core.backend import Claim, Outcome

from .claims import claims_from


class ForgottenClaims:
    """What one backend object handed out, and where a failed claim may have left tasks."""

    def __init__(self) -> None:
        self._handed_out: dict[str, set[str]] = {}  # group -> ids claimed and not settled
        self._suspects: set[tuple[str, str]] = set()  # (group, worker) after a failed claim
        self._lock = threading.Lock()

    def claim_failed(self, group: str, worker_id: str) -> None:
        """A claim raised: it may have staged tasks whose answer was lost."""
        with self._lock:
            self._suspects.add((group, worker_id))

    def handed_out(self, group: str, claims: Iterable[Claim]) -> None:
        """``claims`` reached their worker."""
        with self._lock:
            self._handed_out.setdefault(group, set()).update(c.task.id for c in claims)

    def settled(self, outcomes: Iterable[Outcome]) -> None:
        """The claims of ``outcomes`` ended."""
        with self._lock:
            for outcome in outcomes:
                task = outcome.claim.task
                self._handed_out.get(task.group, set()).discard(task.id)

    def adopt(
        self, group: str, worker_id: str, limit: int, staged: Callable[[], Sequence[Any]]
    ) -> list[Claim]:
        """Up to ``limit`` forgotten claims of ``worker_id`` in ``group`` (oldest due first).

        ``staged`` reads the rows staged to that worker in that group; it runs
        only after a failed claim of theirs.
        """
        with self._lock:
            if (group, worker_id) not in self._suspects:
                return []
            known = set(self._handed_out.get(group, ()))
        rows = staged()
        with self._lock:
            self._suspects.discard((group, worker_id))
        return claims_from([row for row in rows if row.id not in known], worker_id)[:limit]
