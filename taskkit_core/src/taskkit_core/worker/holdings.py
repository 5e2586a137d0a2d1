"""What a worker process holds: the claims it took and has not yet settled.

The backend keeps its own record of the tasks staged to each worker, and
the two agree unless the backend lost an acknowledged write (a Redis
failover to a replica that had not received the settle). Then the backend
still shows a task staged to a live worker that finished with it long ago;
the worker's lease stays fresh, so the restorer never takes the task back.
:class:`~taskkit_core.worker.forgotten_claims.ReleaseForgottenClaims`
compares the two records and hands such tasks back.

A claim is staged on the backend before its answer reaches the worker, and
under GIL pressure that gap can last seconds, so the claim calls still in
flight are counted too: a stage is only judged once every call that may
have made it has returned.
"""

from __future__ import annotations

import itertools
import threading
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass

from ..backend import Claim, Outcome

ClaimKey = tuple[str, int]
"""(task id, attempt): one claim of one task."""


@dataclass(frozen=True)
class Look:
    """What a process held at one moment, and the claim calls then in flight."""

    seen: frozenset[ClaimKey]
    """Claims held now or at any moment since the previous look."""
    calls_in_flight: frozenset[int]
    """Numbers of the claim calls that had not returned yet."""


class Holdings:
    """The claims of one worker process, from its claim call to its written outcome."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._held: set[ClaimKey] = set()
        self._touched: set[ClaimKey] = set()
        self._call_numbers = itertools.count()
        self._calls_in_flight: set[int] = set()

    @contextmanager
    def claiming(self) -> Iterator[None]:
        """Around a claim call: until it returns, what it staged is not yet held."""
        with self._lock:
            number = next(self._call_numbers)
            self._calls_in_flight.add(number)
        try:
            yield
        finally:
            with self._lock:
                self._calls_in_flight.discard(number)

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

    def look(self) -> Look:
        """What is held now or was since the previous look, and the calls in flight."""
        with self._lock:
            seen = frozenset(self._held | self._touched)
            self._touched = set()
            return Look(seen, frozenset(self._calls_in_flight))
