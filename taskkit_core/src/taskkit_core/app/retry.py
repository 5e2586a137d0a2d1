"""Retry policies as data, and the exception a task raises to be run again later.

A :class:`Retry` says how often a failing task runs (``max_attempts``, the
first run included), how long it waits in between (exponential backoff with
``base``, ``factor`` and a ``cap``, with full jitter: a random delay between
0 and the backoff, so many tasks failing together do not come back
together), and which exceptions are worth a retry (``on``) or fail the task
at once (``fail_on``, which wins). The app turns it into the handler
protocol's ``get_retry_interval``.
"""

from __future__ import annotations

import math
import random
from dataclasses import dataclass

from ..errors import ConfigurationError

ExceptionTypes = tuple[type[BaseException], ...]


class RetryAfter(Exception):
    """Raise inside a task to run it again after ``delay`` seconds.

    It retries whatever the policy's ``on`` and ``fail_on`` say; a task with
    a Retry policy still stops at its ``max_attempts``, a task without one
    is retried each time it asks.
    """

    def __init__(self, delay: float, reason: str = "") -> None:
        _check_number("RetryAfter delay", delay, minimum=0.0)
        super().__init__(reason or f"retry after {delay} s")
        self.delay = float(delay)


@dataclass(frozen=True)
class Retry:
    """How a failing task is retried; ``Retry()`` runs it at most three times."""

    max_attempts: int = 3
    base: float = 1.0
    factor: float = 2.0
    cap: float = 600.0
    jitter: bool = True
    on: ExceptionTypes = (Exception,)
    fail_on: ExceptionTypes = ()

    def __post_init__(self) -> None:
        if isinstance(self.max_attempts, bool) or not isinstance(self.max_attempts, int):
            raise ConfigurationError(f"max_attempts must be an int, got {self.max_attempts!r}")
        if self.max_attempts < 1:
            raise ConfigurationError(f"max_attempts must be at least 1, got {self.max_attempts}")
        _check_number("base", self.base, minimum=0.0)
        _check_number("factor", self.factor, minimum=1.0)
        _check_number("cap", self.cap, minimum=self.base)
        _check_types("on", self.on)
        _check_types("fail_on", self.fail_on)

    def backoff(self, retry_count: int) -> float:
        """The delay before retry number ``retry_count + 1`` (jittered when ``jitter``)."""
        exponent = min(retry_count, 1024)  # factor ** 1024 overflows long before the cap
        try:
            ceiling = min(self.cap, self.base * self.factor**exponent)
        except OverflowError:
            ceiling = self.cap
        return random.uniform(0.0, ceiling) if self.jitter else ceiling

    def interval(self, retry_count: int, exception: BaseException) -> float | None:
        """Seconds until the next run after ``exception``, or None to fail the task now.

        ``retry_count`` is how many retries the task already had.
        """
        if retry_count + 1 >= self.max_attempts:
            return None
        if isinstance(exception, RetryAfter):
            return exception.delay
        if isinstance(exception, self.fail_on) or not isinstance(exception, self.on):
            return None
        return self.backoff(retry_count)


def retry_interval(
    policy: Retry | None, retry_count: int, exception: BaseException
) -> float | None:
    """What ``policy`` (None: no retries, except when the task raised RetryAfter) decides."""
    if policy is not None:
        return policy.interval(retry_count, exception)
    return exception.delay if isinstance(exception, RetryAfter) else None


def _check_number(name: str, value: object, *, minimum: float) -> None:
    if isinstance(value, bool) or not isinstance(value, int | float) or not math.isfinite(value):
        raise ConfigurationError(f"{name} must be a finite number, got {value!r}")
    if value < minimum:
        raise ConfigurationError(f"{name} must be at least {minimum}, got {value!r}")


def _check_types(name: str, value: object) -> None:
    valid = isinstance(value, tuple) and all(
        isinstance(t, type) and issubclass(t, BaseException) for t in value
    )
    if not valid:
        raise ConfigurationError(f"{name} must be a tuple of exception classes, got {value!r}")
