"""The settler: writes the outcomes of a group's tasks, many per round trip.

Worker threads hand their outcomes over and go straight back to work; one
settler thread per group writes whatever has piled up in a single
``backend.settle`` call. Under light load that is one outcome per call, as
before; under heavy load the calls grow (group commit), which is what
lets a backend with a per-commit cost keep up. A write that fails (the
backend is down) is retried with backoff until it succeeds or the process
gives up on its tasks; fencing makes the retry safe.
"""

from __future__ import annotations

import logging
import threading
from collections import deque
from collections.abc import Callable

from ..backend import Backend, Outcome
from ..observers.hub import hub
from ..outages import OutageLog
from .holdings import Holdings

logger = logging.getLogger("taskkit.worker")
settle_log = logging.getLogger("taskkit.settle")
"""One DEBUG record per settled outcome, with the Outcome and whether it was accepted."""

MAX_BATCH = 256


class Settler:
    """One thread that settles the outcomes handed to it, in batches."""

    def __init__(
        self,
        backend: Backend,
        name: str,
        holdings: Holdings | None = None,
        scrub: Callable[[str], str] = str,
    ) -> None:
        self.backend = backend
        self.holdings = holdings or Holdings()
        self._pending: deque[Outcome] = deque()
        self._cond = threading.Condition()
        self._closing = False
        self._abandoned = threading.Event()
        self._outage = OutageLog(f"settling outcomes of {name}", scrub)
        self._thread = threading.Thread(
            target=self._run, name=f"taskkit-settler[{name}]", daemon=True
        )

    def start(self) -> None:
        self._thread.start()

    def put(self, outcome: Outcome) -> None:
        """Queue an outcome for writing; returns at once."""
        with self._cond:
            self._pending.append(outcome)
            self._cond.notify()

    def close(self, timeout: float) -> bool:
        """Write what is pending, then stop; True if everything was written in time."""
        with self._cond:
            self._closing = True
            self._cond.notify()
        self._thread.join(timeout)
        return not self._thread.is_alive()

    def abandon(self) -> list[Outcome]:
        """Stop retrying (the process is exiting); return the outcomes not written yet.

        The caller writes those once itself: releases of tasks claimed ahead,
        for one, would otherwise wait for the restorer.
        """
        self._abandoned.set()
        with self._cond:
            left, self._pending = list(self._pending), deque()
        self.close(0)
        return left

    def _run(self) -> None:
        while batch := self._next_batch():
            self._write(batch)

    def _next_batch(self) -> list[Outcome]:
        with self._cond:
            while not self._pending and not self._closing:
                self._cond.wait()
            count = min(len(self._pending), MAX_BATCH)
            return [self._pending.popleft() for _ in range(count)]

    def _write(self, batch: list[Outcome]) -> None:
        while not self._abandoned.is_set():
            try:
                accepted = self.backend.settle(*batch)
            except Exception as exc:
                self._abandoned.wait(self._outage.failed(exc))
                continue
            self._outage.succeeded()
            self.holdings.settled(batch)
            for outcome, ok in zip(batch, accepted, strict=True):
                _audit(outcome, ok)
            return


def _audit(outcome: Outcome, accepted: bool) -> None:
    claim = outcome.claim
    settle_log.debug(
        "%s %s attempt %d: %s",
        outcome.kind.value,
        claim.task.id,
        claim.attempt,
        "accepted" if accepted else "refused",
        extra={"taskkit_outcome": outcome, "taskkit_accepted": accepted},
    )
    if not accepted and hub.active:
        hub.refused(outcome)
    if not accepted:
        logger.warning(
            "lease lost: task %s (attempt %d) was taken over from worker %s; "
            "its %s outcome was refused",
            claim.task.id,
            claim.attempt,
            claim.worker_id,
            outcome.kind.value,
        )
