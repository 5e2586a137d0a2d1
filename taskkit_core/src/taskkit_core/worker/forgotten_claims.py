"""Forgotten claims: stages the backend holds for this live worker that it does not hold.

Only a backend that lost an acknowledged write shows one (the reply of a
claim, or the write of an outcome, was lost; see ``holdings.py``). The
worker's lease stays fresh, so the restorer never takes such a task back;
this service does.
"""

from __future__ import annotations

import logging

from ..backend import Backend, Claim, Outcome, StageInfo
from .holdings import ClaimKey, Holdings

logger = logging.getLogger("taskkit.services")

STAGE_LIMIT = 10_000
"""Most stages one round of ReleaseForgottenClaims reads (longest-held first)."""


class ReleaseForgottenClaims:
    """Hands back tasks the backend says this process holds but it does not.

    Only a backend that lost an acknowledged write shows such a task (see
    ``holdings``). A stage of this worker that two rounds in a row find
    neither held nor touched since the previous round is settled as
    released: the task goes back to the queue and runs again (at least
    once). Such a stage existed at the first round, so the claim call that
    made it had started by then; the second round judges only once every
    call then in flight has returned (and would have made its claims held),
    else it starts over.
    """

    def __init__(
        self, backend: Backend, worker_id: str, holdings: Holdings, interval: float
    ) -> None:
        self.backend = backend
        self.worker_id = worker_id
        self.holdings = holdings
        self.interval = interval
        self._suspects: set[ClaimKey] = set()
        self._calls_in_flight: frozenset[int] = frozenset()

    def __call__(self) -> float:
        staged = {
            (info.task_id, info.attempt): info
            for info in self.backend.get_stage_info(STAGE_LIMIT)
            if info.worker_id == self.worker_id
        }
        look = self.holdings.look()
        suspects = set(staged) - look.seen
        if self._calls_in_flight & look.calls_in_flight:
            forgotten: set[ClaimKey] = set()  # a call that may have staged them is still out
        else:
            forgotten = suspects & self._suspects
        self._suspects = suspects - forgotten
        self._calls_in_flight = look.calls_in_flight
        if forgotten:
            self._release([staged[key] for key in sorted(forgotten)])
        return self.interval

    def _release(self, infos: list[StageInfo]) -> None:
        tasks = self.backend.lookup_tasks(*{info.task_id for info in infos})
        outcomes = [
            Outcome.released(Claim(task, self.worker_id, info.attempt, info.began))
            for info in infos
            if (task := tasks.get(info.task_id)) is not None
        ]
        for outcome, accepted in zip(outcomes, self.backend.settle(*outcomes), strict=True):
            if accepted:
                logger.warning(
                    "task %s (attempt %d) was staged to this worker, which had no claim on "
                    "it (the backend lost a write); it goes back to the queue",
                    outcome.claim.task.id,
                    outcome.claim.attempt,
                )
