"""The Backend protocol on Redis: every multi-key step is one Lua script call.

Claims, settles, restores, puts, discards, scheduler writes, cancels and
retries each run as one script (see ``scripts`` and ``lua/``), atomic and
in one round trip (purges as a loop of bounded ones, see ``control``);
leases, due checks of claims, retries and expiry use the server's clock
(``TIME`` inside the scripts). Reads that need no atomicity are plain
commands, pipelined (``listing`` reads tasks back for operators). The key
layout is documented in ``keys``.
"""

from __future__ import annotations

import secrets
import threading
from collections.abc import Callable, Collection, Sequence
from typing import TYPE_CHECKING, Any

from taskkit_core.backend import (
    FINISHED_STATES,
    AllCreated,
    CancelResult,
    Claim,
    GroupStats,
    Outcome,
    OutcomeKind,
    PutResult,
    RetryResult,
    StageInfo,
    TaskInfo,
)
from taskkit_core.errors import Cancelled, ConfigurationError, Failed, NoResult, NotFound
from taskkit_core.records import check_list_limit
from taskkit_core.task import Task
from taskkit_core.url import mask_url, parse_url, scrub_password

from taskkit_core import TaskState

from . import control, listing, stats
from .capabilities import CAPABILITIES
from .keys import TASK_FIELDS, Field, Keys
from .locks import RedisLock
from .pubsub import WakeListener
from .queues import queue_keys
from .records import (
    Value,
    decode_claim,
    decode_stage_info,
    decode_task,
    has_options,
    number,
    task_args,
    text,
)
from .scripts import Scripts
from .states import read_state

if TYPE_CHECKING:
    from .client import RedisClient

UNLINK_BATCH = 500
STATE = len(TASK_FIELDS)  # index of the state field in rows read with _TASK_AND_STATE
_TASK_AND_STATE = [*TASK_FIELDS, Field.STATE]


class RedisBackend:
    """Tasks, leases, locks and schedules of one namespace on one Redis server (or cluster slot)."""

    capabilities = CAPABILITIES

    def __init__(self, url: str, client: RedisClient, keys: Keys, *, address: str = "") -> None:
        self.url = url
        self._address = address  # host:port/db, socket or cluster: never credentials
        self.namespace = keys.namespace
        self._client = client
        self._keys = keys
        self._scripts = Scripts(client)
        self._parsed_url = parse_url(url)
        # (group, worker id) -> the token of a forgotten claim (its reply was lost)
        self._forgotten_claims: dict[tuple[str, str], str] = {}
        self._watches: list[WakeListener] = []
        self._watches_lock = threading.Lock()
        self._indexed = False  # tasks finished by taskkit 0.3 are indexed (listing)

    def __repr__(self) -> str:
        return f"RedisBackend({mask_url(self.url)!r}, namespace={self.namespace!r})"

    def _scrub(self, message: str) -> str:
        return scrub_password(self._parsed_url, message)

    def server_warnings(self) -> list[str]:
        """Settings of the server that can lose or evict tasks (worker start logs them)."""
        from .client import durability_warnings

        return durability_warnings(self._client, self._address)

    # -- leases ------------------------------------------------------------

    def refresh_leases(self, worker_ids: Collection[str], ttl: float) -> list[str]:
        if not worker_ids:
            return []
        k = self._keys
        requested = self._scripts.refresh_leases(
            keys=[k.leases], args=[k.prefix, number(ttl), *worker_ids]
        )
        return [text(task_id) for task_id in requested]

    def get_leases(self) -> list[tuple[str, float]]:
        members: list[Any] = self._client.zrange(self._keys.leases, 0, -1, withscores=True)
        return [(text(worker), float(expires)) for worker, expires in members]

    def drop_leases(self, worker_ids: Collection[str]) -> None:
        if not worker_ids:
            return
        pipe = self._client.pipeline(transaction=True)
        pipe.zrem(self._keys.leases, *worker_ids)
        pipe.delete(*(self._keys.worker_claims(w) for w in worker_ids))
        pipe.delete(*(self._keys.cancel_requests(w) for w in worker_ids))
        pipe.execute()

    def purge_expired_leases(self) -> list[str]:
        k = self._keys
        dead = self._scripts.purge_expired_leases(keys=[k.leases], args=[k.prefix])
        return [text(w) for w in dead]

    # -- putting tasks in --------------------------------------------------

    def put_tasks(self, *tasks: Task, connection: Any = None) -> Sequence[PutResult]:
        if connection is not None:
            raise ConfigurationError(
                "Redis cannot join an application transaction (capability transactional_enqueue)"
            )
        if not tasks:
            return []
        k = self._keys
        options = any(has_options(task) for task in tasks)
        stride = "10" if options else "9"
        answers = self._scripts.put(
            keys=[k.groups], args=[k.prefix, stride, *_flat_task_args(tasks, options)]
        )
        if isinstance(answers, int):  # every task written: the script says only how many
            return AllCreated(tasks)
        return [_put_result(task, answer) for task, answer in zip(tasks, answers, strict=True)]

    def put_done_task(
        self, task: Task, *, result: bytes | None = None, error: str | None = None
    ) -> None:
        if (result is None) == (error is None):
            raise ValueError("put_done_task takes exactly one of result and error")
        outcome: list[Value] = (
            [OutcomeKind.SUCCEEDED.value, result]
            if result is not None
            else [OutcomeKind.FAILED.value, error or ""]
        )
        k = self._keys
        self._scripts.finish_eager(
            keys=[k.done, k.expiry], args=[k.prefix, *task_args(task), *outcome]
        )

    # -- claims ------------------------------------------------------------

    def claim_tasks(self, group: str, worker_id: str, limit: int = 1) -> list[Claim]:
        if limit < 1:
            return []
        k = self._keys
        slot = (group, worker_id)
        # A forgotten claim (its reply was lost) is repeated with its token: the
        # script then returns what it staged instead of leaving it staged to us unseen.
        token = self._forgotten_claims.pop(slot, None) or secrets.token_hex(12)
        try:
            rows = self._scripts.claim(
                keys=[
                    k.queue(group),
                    k.staged,
                    k.groups,
                    k.worker_claims(worker_id),
                    k.priorities(group),
                ],
                args=[k.prefix, group, worker_id, str(int(limit)), token],
            )
        except Exception:
            self._forgotten_claims[slot] = token
            raise
        return [decode_claim(row, worker_id) for row in rows]

    def settle(self, *outcomes: Outcome) -> list[bool]:
        if not outcomes:
            return []
        k = self._keys
        args: list[Value] = [k.prefix]
        for outcome in outcomes:
            claim = outcome.claim
            args += [
                outcome.kind.value,
                claim.task.id,
                claim.worker_id,
                str(int(claim.attempt)),
                _payload(outcome),
                number(outcome.delay),
            ]
        answers = self._scripts.settle(keys=[k.staged, k.done, k.expiry, k.groups], args=args)
        return [bool(answer) for answer in answers]

    def restore_abandoned(self, limit: int) -> list[StageInfo]:
        if limit < 1:
            return []
        k = self._keys
        rows = self._scripts.restore(
            keys=[k.staged, k.leases, k.groups],
            args=[k.prefix, str(int(limit)), control.CANCELLED_ABANDONED],
        )
        return [decode_stage_info(row) for row in rows]

    # -- reading -------------------------------------------------------------

    def lookup_tasks(self, *task_ids: str) -> dict[str, Task | None]:
        rows = self._read_tasks(task_ids, _TASK_AND_STATE)
        return {
            task_id: decode_task(task_id, row[:STATE]) if row[STATE] is not None else None
            for task_id, row in zip(task_ids, rows, strict=True)
        }

    def get_queued_tasks(self, group: str, limit: int) -> list[Task]:
        if limit < 1:
            return []
        pipe = self._client.pipeline(transaction=False)
        for queue in queue_keys(self._client, self._keys, group):
            pipe.zrange(queue, 0, limit - 1)
        ids = [text(i) for page in pipe.execute() for i in page][:limit]
        rows = self._read_tasks(ids, _TASK_AND_STATE)
        return [
            decode_task(task_id, row[:STATE])
            for task_id, row in zip(ids, rows, strict=True)
            if read_state(row[STATE]) is TaskState.QUEUED
        ]

    def get_result(self, task_id: str) -> tuple[Task, bytes]:
        (row,) = self._read_tasks([task_id], [*_TASK_AND_STATE, Field.RESULT, Field.ERROR])
        stored, result, error = row[STATE:]
        state = read_state(stored)
        if state is None:
            raise NotFound(f"no task with id {task_id!r}")
        task = decode_task(task_id, row[:STATE])
        if state is TaskState.FAILED:
            raise Failed(task, text(error or b""))
        if state is TaskState.CANCELLED:
            raise Cancelled(task, text(error or b"cancelled"))
        if state is not TaskState.SUCCEEDED:
            raise NoResult(task)
        return task, bytes(result or b"")

    def get_done_task_ids(self, since: float | None, until: float | None, limit: int) -> list[str]:
        if limit < 1:
            return []
        k = self._keys
        low = "-inf" if since is None else number(since)
        high = "+inf" if until is None else number(until)
        ids = self._scripts.finished(keys=[k.done], args=[k.prefix, low, high, str(int(limit))])
        return [text(i) for i in ids]

    def get_disposable_task_ids(self, limit: int) -> list[str]:
        if limit < 1:
            return []
        k = self._keys
        ids = self._scripts.disposable(keys=[k.expiry], args=[k.prefix, str(int(limit))])
        return [text(i) for i in ids]

    def get_stage_info(self, limit: int) -> list[StageInfo]:
        if limit < 1:
            return []
        ids = [text(i) for i in self._client.zrange(self._keys.staged, 0, limit - 1)]
        rows = self._read_tasks(ids, [Field.STATE, Field.WORKER, Field.ATTEMPT, Field.BEGAN])
        return [
            StageInfo(worker_id=text(w), task_id=task_id, began=float(b), attempt=int(a))
            for task_id, (state, w, a, b) in zip(ids, rows, strict=True)
            if read_state(state) is TaskState.STAGED
        ]

    def group_stats(self, since: float) -> list[GroupStats]:
        return stats.group_stats(self._client, self._keys, since)

    def read_task(self, task_id: str) -> TaskInfo | None:
        (info,) = listing.read_infos(self._client, self._keys, [task_id])
        return info

    def list_tasks(
        self,
        state: TaskState,
        group: str | None = None,
        limit: int = 50,
        before: str | None = None,
    ) -> list[TaskInfo]:
        state, limit = TaskState(state), check_list_limit(limit)
        if state.finished:
            self._ensure_indexed()
        return listing.list_tasks(self._client, self._keys, state, group, limit, before)

    def _ensure_indexed(self) -> None:
        if not self._indexed:
            listing.ensure_indexed(self._client, self._keys, self._scripts)
            self._indexed = True

    def _read_tasks(self, task_ids: Collection[str], fields: list[str]) -> list[list[Any]]:
        if not task_ids:
            return []
        pipe = self._client.pipeline(transaction=False)
        for task_id in task_ids:
            pipe.hmget(self._keys.task(task_id), fields)
        return list(pipe.execute())

    # -- job control -------------------------------------------------------------

    def cancel_tasks(self, *task_ids: str) -> dict[str, CancelResult]:
        return control.cancel(self._scripts, self._keys, task_ids)

    def retry_tasks(self, *task_ids: str) -> dict[str, RetryResult]:
        return control.retry(self._scripts, self._keys, task_ids)

    def purge_tasks(self, group: str, states: Collection[TaskState] = FINISHED_STATES) -> int:
        self._ensure_indexed()
        return control.purge(self._scripts, self._keys, group, states)

    # -- removing --------------------------------------------------------------

    def discard_tasks(self, *task_ids: str) -> None:
        if task_ids:
            k = self._keys
            self._scripts.discard(
                keys=[k.staged, k.done, k.expiry, k.groups], args=[k.prefix, *task_ids]
            )

    # -- scheduler -------------------------------------------------------------

    def persist_scheduler_state_and_put_tasks(
        self, name: str, data: bytes, *tasks: Task, expected: bytes | None = None
    ) -> bool:
        k = self._keys
        has_expected = "0" if expected is None else "1"
        stored = self._scripts.schedule(
            keys=[k.schedulers],
            args=[k.prefix, name, has_expected, expected or b"", data, *_flat_task_args(tasks)],
        )
        return bool(stored)

    def get_scheduler_state(self, name: str) -> bytes | None:
        state = self._client.hget(self._keys.schedulers, name)
        return state.encode() if isinstance(state, str) else state

    # -- coordination -----------------------------------------------------------

    def get_lock(self, target: str) -> RedisLock:
        return RedisLock(self._scripts, self._keys, target)

    def watch_tasks(self, callback: Callable[[str], None]) -> WakeListener:
        listener = WakeListener(self._client, self._keys.wake, callback, self._scrub)
        with self._watches_lock:
            self._watches.append(listener)
        return listener.start()

    # -- lifecycle ----------------------------------------------------------------

    def destroy_all(self) -> None:
        """Delete every key of this namespace (SCAN on its prefix, never FLUSHDB)."""
        batch: list[Any] = []
        for key in self._client.scan_iter(match=self._keys.pattern, count=1000):
            batch.append(key)
            if len(batch) >= UNLINK_BATCH:
                self._client.unlink(*batch)
                batch.clear()
        if batch:
            self._client.unlink(*batch)

    def close(self) -> None:
        with self._watches_lock:
            watches, self._watches = self._watches, []
        for listener in watches:
            listener.close()
        from .client import close_client  # imports redis-py, which opening a URL did already

        close_client(self._client)

    @property
    def client(self) -> RedisClient:
        """The redis-py client (for tools and tests of this package)."""
        return self._client


def _flat_task_args(tasks: Collection[Task], with_options: bool = True) -> list[Value]:
    return [arg for task in tasks for arg in task_args(task, with_options)]


def _put_result(task: Task, answer: Any) -> PutResult:
    """put.lua's answer for one task: 1 written, 0 its id existed, else the holder's id."""
    if isinstance(answer, int):
        return PutResult(task.id, bool(answer))
    return PutResult(text(answer), False)


def _payload(outcome: Outcome) -> Value:
    if outcome.kind is OutcomeKind.SUCCEEDED:
        return outcome.result
    if outcome.kind is OutcomeKind.FAILED or outcome.kind is OutcomeKind.CANCELLED:
        return outcome.message
    return b""
