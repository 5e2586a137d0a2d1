"""Running one task through the application's handler and deciding its outcome."""

from __future__ import annotations

import logging
from dataclasses import dataclass
from traceback import format_exc
from typing import Any

from ..backend import Backend, Claim, Outcome, OutcomeKind
from ..errors import InvalidTaskError, TaskTimeout
from ..handler import DiscardTask, TaskHandler
from ..result import Result, ResultGetPrevented, prevent_to_wait_result
from ..task import Task, check_payload
from .attempt import current_claim

__all__ = ["EagerWorker", "Verdict", "current_claim", "run_task", "timed_out"]

logger = logging.getLogger("taskkit.worker")

# Module constants: an enum member looked up on its class costs more than the
# rest of Verdict's work, and a task's run takes two of them.
SUCCEEDED, FAILED, RETRIED, DISCARDED = (
    OutcomeKind.SUCCEEDED,
    OutcomeKind.FAILED,
    OutcomeKind.RETRIED,
    OutcomeKind.DISCARDED,
)

REASON_TO_PREVENT_WAIT_RESULT = (
    "Waiting for another task's result inside a task can deadlock the worker pool. "
    "If you are sure it is safe, pass avoid_assertion=True to Result.get."
)


@dataclass(frozen=True)
class Verdict:
    """What running a task decided, before it is written anywhere.

    ``kind`` is SUCCEEDED, FAILED, RETRIED or DISCARDED (a run is never
    RELEASED: that is for claims given back before they ran).
    """

    kind: OutcomeKind
    result: bytes = b""
    message: str = ""
    delay: float = 0.0

    def as_outcome(self, claim: Claim) -> Outcome:
        """The outcome to settle for ``claim``."""
        if self.kind is RETRIED:
            return Outcome.retried(claim, self.delay)
        return Outcome(self.kind, claim, result=self.result, message=self.message)


def run_task(handler: TaskHandler, task: Task, *, retries: bool = True) -> Verdict:
    """Run ``task`` and decide its verdict, as taskkit 0.2 did.

    DiscardTask discards; ResultGetPrevented fails; any other exception asks
    ``get_retry_interval`` (unless ``retries`` is off, as in eager mode),
    whose None fails the task with the traceback as message.
    """
    try:
        with prevent_to_wait_result(REASON_TO_PREVENT_WAIT_RESULT):
            encoded = check_payload(handler.encode_result(task, handler.handle(task)), "result")
    except DiscardTask:
        return Verdict(DISCARDED)
    except (ResultGetPrevented, InvalidTaskError):
        logger.exception("task %s (%s) failed", task.id, task.name)
        return Verdict(FAILED, message=format_exc())
    except Exception as exc:
        trace = format_exc()
        if not retries:
            return Verdict(FAILED, message=trace)
        return _decide_retry(handler, task, exc, trace)
    return Verdict(SUCCEEDED, result=encoded)


def _decide_retry(handler: TaskHandler, task: Task, exc: Exception, trace: str) -> Verdict:
    try:
        with prevent_to_wait_result(REASON_TO_PREVENT_WAIT_RESULT):
            interval = handler.get_retry_interval(task, exc)
    except DiscardTask:
        return Verdict(DISCARDED)
    except ResultGetPrevented:
        return Verdict(FAILED, message=format_exc())
    except Exception:
        logger.exception(
            "%s.get_retry_interval raised; retrying task %s (%s) anyway",
            type(handler).__qualname__,
            task.id,
            task.name,
        )
        return Verdict(RETRIED, delay=task.retry_count + 1)
    if interval is None:
        logger.info("task %s (%s) failed", task.id, task.name)
        return Verdict(FAILED, message=trace)
    return Verdict(RETRIED, delay=float(interval))


def timed_out(handler: TaskHandler, task: Task, message: str) -> Verdict:
    """The verdict of an attempt stopped by its timeout: the retry policy decides.

    ``get_retry_interval`` sees a TaskTimeout; the stored error is
    "TaskTimeout: <message>", as an exception's last traceback line reads.
    """
    logger.warning("task %s (%s) timed out: %s", task.id, task.name, message)
    return _decide_retry(handler, task, TaskTimeout(message), f"TaskTimeout: {message}")


class EagerWorker:
    """Runs a task inline in the caller (eager mode) and stores its outcome.

    Errors fail the task without retry; a discarded task leaves nothing.
    """

    def __init__(self, backend: Backend, handler: TaskHandler) -> None:
        self.backend = backend
        self.handler = handler

    def handle_task(self, task: Task) -> Result[Any]:
        verdict = run_task(self.handler, task, retries=False)
        if verdict.kind is SUCCEEDED:
            self.backend.put_done_task(task, result=verdict.result)
        elif verdict.kind is FAILED:
            self.backend.put_done_task(task, error=verdict.message)
        return Result(self.backend, self.handler, task.id)
