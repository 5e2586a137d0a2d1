"""The timings of worker processes (WorkerSettings), set by the application.

What a worker runs (threads per group, polling, schedules) is planned from
Kit.start's arguments in :mod:`taskkit_core.worker.plan`.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

from .errors import ConfigurationError


def _check_positive(name: str, value: float, unit: str) -> None:
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise ConfigurationError(f"{name} must be {unit}, got {value!r}")
    if not math.isfinite(value) or value <= 0:
        raise ConfigurationError(f"{name} must be positive and finite, got {value!r}")


def check_seconds(name: str, value: float) -> None:
    """ConfigurationError unless ``value`` is a positive, finite number of seconds."""
    _check_positive(name, value, "a number of seconds")


def check_rate(name: str, value: float) -> None:
    """ConfigurationError unless ``value`` is a positive, finite rate (per second)."""
    _check_positive(name, value, "a number per second")


@dataclass(frozen=True)
class WorkerSettings:
    """The timings of a worker process; the defaults recover a dead worker's task in ~13 s.

    worker_ttl: a worker that has not refreshed its lease for this long is
        dead and its tasks are restored.
    heartbeat_interval: how often the lease is refreshed (default ttl / 3).
    restore_interval: how often the restorer looks for dead workers' tasks.
    purge_interval, discard_interval: how often dead workers are forgotten
        and expired finished tasks deleted.
    forgotten_claim_interval: how often a worker process compares the tasks
        the backend shows staged to it with the claims it holds; a task it
        no longer holds (the backend lost the write of its outcome) goes
        back to the queue after two such looks.
    shutdown_timeout: how long a stopping worker lets running tasks finish.
    event_wait: the longest a worker waits for control events in one call
        (bounds how long a stop request can go unnoticed).
    claim_batch: the most tasks one claim round trip takes (default: as
        many as there are free places).
    prefetch: tasks a group claims ahead of its threads, so a busy group
        claims in batches (default: as many as it has threads, and more, up
        to 4 times, while tasks are short beside a claim round trip, so the
        threads have work until the next claim arrives; 0 claims only for
        idle threads, fairest for long tasks shared by many processes).
    max_attempts: a task claimed more often than this fails without running
        again, whether its attempts raised or killed their worker (poison
        tasks). None (the default, as in taskkit 0.2) leaves retries to the
        handler's get_retry_interval.
    idle_claim_rate: on a backend that pushes wake-ups, the most claims per
        second a worker process makes, all its groups together, to look for
        due tasks when nothing woke them: each group's polling interval is
        stretched to (groups served / idle_claim_rate) s when that is longer.
        Tasks put for now still start at once (the wake-up); a task whose
        due time comes later (delayed, retried) waits for its group's next
        look. None polls every group at its own interval, as before.
    metrics_port: serve Prometheus metrics on this TCP port (needs
        ``taskkit[prometheus]``); None (the default) serves none. The
        process that starts the workers serves them: the supervisor for
        all its worker processes together, or the process running worker
        threads. 0 picks a free port (logged).
    metrics_address: the address the metrics port listens on (default
        127.0.0.1, this host only; "0.0.0.0" lets a Prometheus server on
        another host scrape it).

    A dead worker's task starts again within worker_ttl + restore_interval
    + the group's polling interval.
    """

    worker_ttl: float = 10.0
    heartbeat_interval: float | None = None
    restore_interval: float = 2.0
    purge_interval: float = 15.0
    discard_interval: float = 60.0
    forgotten_claim_interval: float = 60.0
    shutdown_timeout: float = 30.0
    event_wait: float = 1.0
    claim_batch: int | None = None
    prefetch: int | None = None
    max_attempts: int | None = None
    idle_claim_rate: float | None = 20.0
    metrics_port: int | None = None
    metrics_address: str = "127.0.0.1"

    def __post_init__(self) -> None:
        for name in (
            "worker_ttl",
            "restore_interval",
            "purge_interval",
            "discard_interval",
            "forgotten_claim_interval",
        ):
            check_seconds(name, getattr(self, name))
        check_seconds("event_wait", self.event_wait)
        if self.idle_claim_rate is not None:
            check_rate("idle_claim_rate", self.idle_claim_rate)
        if self.shutdown_timeout < 0:
            raise ConfigurationError(f"shutdown_timeout must be >= 0, got {self.shutdown_timeout}")
        if self.heartbeat_interval is not None:
            check_seconds("heartbeat_interval", self.heartbeat_interval)
            if self.heartbeat_interval >= self.worker_ttl / 2:
                raise ConfigurationError(
                    f"heartbeat_interval ({self.heartbeat_interval}) must be under half of "
                    f"worker_ttl ({self.worker_ttl}), or a slow heartbeat loses the lease"
                )
        if self.max_attempts is not None and (
            isinstance(self.max_attempts, bool)
            or not isinstance(self.max_attempts, int)
            or self.max_attempts < 1
        ):
            raise ConfigurationError(f"max_attempts must be an int >= 1, got {self.max_attempts!r}")
        if self.prefetch is not None and (isinstance(self.prefetch, bool) or self.prefetch < 0):
            raise ConfigurationError(f"prefetch must be an int >= 0, got {self.prefetch!r}")
        if self.metrics_port is not None and (
            isinstance(self.metrics_port, bool)
            or not isinstance(self.metrics_port, int)
            or not 0 <= self.metrics_port <= 65535
        ):
            raise ConfigurationError(
                f"metrics_port must be a TCP port (0-65535), got {self.metrics_port!r}"
            )
        if self.claim_batch is not None and self.claim_batch < 1:
            raise ConfigurationError(f"claim_batch must be at least 1, got {self.claim_batch}")

    @property
    def heartbeat(self) -> float:
        return self.heartbeat_interval or self.worker_ttl / 3
