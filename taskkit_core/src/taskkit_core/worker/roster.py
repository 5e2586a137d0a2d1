"""The roster: what each live worker process serves, for ``taskkit status``, pause and enqueue.

A lease says only that a worker lives (its id and expiry). Commands also
need to know which groups a worker serves, with how many threads, and
which of them it has paused, which the control events alone cannot tell
(a bridge only delivers events sent after it was opened). So each worker
runtime writes a card (:class:`WorkerCard`) into one document of the
namespace, which readers match against the live leases.

The document is stored with the compare-and-set every backend already has
for scheduler states (``persist_scheduler_state_and_put_tasks`` with no
task, under the reserved name :data:`ROSTER`): no change to the Backend
protocol, and atomic on every backend, third-party ones included. A
worker writes only when its card changes (start, pause, resume, shutdown
of a group, stop) and looks once a minute that its card is still there;
a write also drops the cards of workers whose lease is gone. Heartbeats
stay one round trip. A worker of taskkit 0.3 (or one that crashed before
its first write) holds a lease without a card: readers then cannot say
which groups it serves, and say so.
"""

from __future__ import annotations

import json
import logging
import os
import random
import socket
import time
from collections.abc import Callable, Mapping
from dataclasses import asdict, dataclass, field
from typing import TYPE_CHECKING, Protocol

from ..backend import Backend
from ..clock import cur_ts

if TYPE_CHECKING:
    from ..settings import WorkerSettings
    from .pool import GroupPool

logger = logging.getLogger("taskkit.worker")

ROSTER = "taskkit.roster"
"""The scheduler-state name of the roster (schedules should not use names starting taskkit.)."""
CHECK_INTERVAL = 60.0
"""Seconds between looks that this worker's card is still in the roster."""
TICK = 1.0
"""Seconds between checks of this worker's state for changes (no I/O when unchanged)."""
WRITE_ATTEMPTS = 20


class RuntimeLike(Protocol):
    """What the roster reads from a worker runtime."""

    worker_id: str
    backend: Backend
    settings: WorkerSettings
    pools: dict[str, GroupPool]


@dataclass(frozen=True)
class WorkerCard:
    """What one worker runtime serves: its groups with their threads, and what it paused."""

    worker_id: str
    host: str
    pid: int
    started: float
    threads: dict[str, int]
    paused: list[str] = field(default_factory=list)
    stopped: list[str] = field(default_factory=list)
    """Groups a shutdown event stopped (the worker no longer serves them)."""
    worker_ttl: float = 10.0

    @property
    def serving(self) -> set[str]:
        return set(self.threads) - set(self.stopped)


def read_roster(backend: Backend) -> dict[str, WorkerCard]:
    """Every card in the roster by worker id (some may belong to dead workers)."""
    return _parse(backend.get_scheduler_state(ROSTER))


def _parse(raw: bytes | None) -> dict[str, WorkerCard]:
    if not raw:
        return {}
    try:
        cards = json.loads(raw)
        return {c["worker_id"]: WorkerCard(**c) for c in cards}
    except (ValueError, TypeError, KeyError):
        logger.warning("the worker roster %r is unreadable; it is rewritten", ROSTER)
        return {}


@dataclass(frozen=True)
class LiveWorkers:
    """The live leases, the cards of those workers, and the live workers without a card."""

    cards: dict[str, WorkerCard]
    unknown: list[str]

    def serving(self, group: str) -> bool | None:
        """Whether a live worker serves ``group``; None when a live worker has no card."""
        if any(group in card.serving for card in self.cards.values()):
            return True
        return None if self.unknown else False

    def paused_groups(self) -> dict[str, bool]:
        """Groups served now, True when every live worker serving it paused it."""
        groups: dict[str, bool] = {}
        for card in self.cards.values():
            for group in card.serving:
                groups[group] = groups.get(group, True) and group in card.paused
        return groups


def live_workers(backend: Backend) -> LiveWorkers:
    """The roster matched against the leases that have not expired."""
    now = cur_ts()
    live = [worker_id for worker_id, expiry in backend.get_leases() if expiry > now]
    cards = read_roster(backend)
    return LiveWorkers(
        cards={w: cards[w] for w in live if w in cards},
        unknown=[w for w in live if w not in cards],
    )


def write_card(backend: Backend, card: WorkerCard | None, worker_id: str) -> bool:
    """Put ``card`` (None: remove the card of ``worker_id``) into the roster; True if written.

    Compare-and-set, retried with a short random wait when another worker
    wrote at the same time; cards of workers without a lease are dropped.
    """
    for _ in range(WRITE_ATTEMPTS):
        raw = backend.get_scheduler_state(ROSTER)
        leased = {w for w, _ in backend.get_leases()}
        cards = {w: c for w, c in _parse(raw).items() if w in leased and w != worker_id}
        if card is not None:
            cards[worker_id] = card
        data = json.dumps([asdict(c) for c in cards.values()], sort_keys=True).encode()
        if data == raw or backend.persist_scheduler_state_and_put_tasks(ROSTER, data, expected=raw):
            return True
        time.sleep(random.uniform(0.01, 0.2))  # another worker wrote: try again, spread out
    return False


class RosterService:
    """Keeps this worker's card current: a service run on its own thread.

    ``state()`` returns the card as it should read now; the service writes
    it when it differs from the last one written, and at least every
    CHECK_INTERVAL makes sure it is still there.
    """

    def __init__(self, backend: Backend, state: Callable[[], WorkerCard]) -> None:
        self.backend = backend
        self.state = state
        self._written: WorkerCard | None = None
        self._checked = float("-inf")

    @classmethod
    def of(cls, runtime: RuntimeLike) -> RosterService:
        """The service keeping ``runtime``'s card: its pools say what is paused or stopped."""
        started = cur_ts()

        def state() -> WorkerCard:
            pools = runtime.pools
            return card_of(
                runtime.worker_id,
                started,
                {group: pool.size for group, pool in pools.items()},
                [group for group, pool in pools.items() if pool.paused],
                [group for group, pool in pools.items() if not pool.claiming],
                runtime.settings.worker_ttl,
            )

        return cls(runtime.backend, state)

    def __call__(self) -> float:
        card, now = self.state(), cur_ts()
        if card != self._written:
            if write_card(self.backend, card, card.worker_id):
                self._written, self._checked = card, now
        elif now - self._checked >= CHECK_INTERVAL:
            self._checked = now
            if read_roster(self.backend).get(card.worker_id) != card:
                self._written = None  # dropped meanwhile (a late lease): write it again
        return TICK

    def remove(self, worker_id: str) -> None:
        """Take this worker's card out (at a clean stop); failures are only logged."""
        try:
            write_card(self.backend, None, worker_id)
        except Exception as exc:
            logger.debug("could not remove worker %s from the roster: %s", worker_id, exc)


def card_of(
    worker_id: str,
    started: float,
    threads: Mapping[str, int],
    paused: list[str],
    stopped: list[str],
    worker_ttl: float,
) -> WorkerCard:
    """The card of this process's runtime (host and pid from this process)."""
    return WorkerCard(
        worker_id=worker_id,
        host=socket.gethostname(),
        pid=os.getpid(),
        started=started,
        threads=dict(threads),
        paused=sorted(paused),
        stopped=sorted(stopped),
        worker_ttl=worker_ttl,
    )
