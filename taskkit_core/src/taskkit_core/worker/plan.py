"""What workers run, checked once: a WorkerPlan, and the RuntimeConfig of each runtime.

``Kit.start``, ``start_processes``, ``start_threads`` and the ``taskkit
worker`` command each build one :class:`WorkerPlan` from their arguments and
hand it down; nothing below them takes the arguments one by one again. A
plan names what every runtime runs (a :class:`RuntimeConfig`) and how many
processes run it. Worker process ``i`` gets ``plan.runtime_for(i)``: the
same config with its own helper-services choice and start-up stagger. A
RuntimeConfig crosses into worker processes, so it holds only picklable
values.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field, replace
from datetime import tzinfo as TzInfo

from ..errors import ConfigurationError
from ..scheduler import ScheduleEntry
from ..settings import WorkerSettings, check_seconds
from ..task import check_name

HelperServices = bool | Callable[[int], bool]
"""Whether a worker process runs the helper services: a bool, or a function of its index."""


def default_polling_interval(threads: int) -> float:
    """taskkit 0.2's default: grows with the thread count, from 1 to 4 seconds."""
    return max(1.0, min(4.0, threads * 0.25))


@dataclass(frozen=True)
class RuntimeConfig:
    """Everything a worker runtime needs besides its backend and handler (picklable)."""

    threads_per_group: dict[str, int]
    polling_interval: dict[str, float]
    schedule_entries: dict[str, list[ScheduleEntry]] = field(default_factory=dict)
    tzinfo: TzInfo | None = None
    helper_services: bool = True
    settings: WorkerSettings = field(default_factory=WorkerSettings)
    stagger: float = 0.0
    """Fraction (0-1) of each group's polling interval to wait before the first claim.

    Worker process i of n starts at i/n, so processes started together poll
    the backend at spread-out times, as taskkit 0.2 spread its threads. A
    push wake-up cuts the wait short.
    """

    @classmethod
    def build(
        cls,
        threads_per_group: Mapping[str, int],
        polling_interval: Mapping[str, float] | float | None = None,
        schedule_entries: Mapping[str, list[ScheduleEntry]] | None = None,
        tzinfo: TzInfo | None = None,
        settings: WorkerSettings | None = None,
    ) -> RuntimeConfig:
        """Validate the arguments of Kit.start / start_processes / start_threads."""
        threads = _threads(threads_per_group)
        return cls(
            threads_per_group=threads,
            polling_interval=_intervals(threads, polling_interval),
            schedule_entries={k: list(v) for k, v in (schedule_entries or {}).items()},
            tzinfo=tzinfo,
            settings=settings or WorkerSettings(),
        )


@dataclass(frozen=True)
class WorkerPlan:
    """What to run: ``processes`` worker processes (0: threads in this process) of ``runtime``.

    ``helper_services`` says which processes run the restorer, purger and
    discarder; ``start_method`` and ``daemon`` say how processes start.
    """

    runtime: RuntimeConfig
    processes: int = 0
    helper_services: HelperServices = True
    start_method: str | None = None
    daemon: bool = True

    def __post_init__(self) -> None:
        if isinstance(self.processes, bool) or not isinstance(self.processes, int):
            raise ConfigurationError(f"num_processes must be an int, got {self.processes!r}")
        if self.processes < 0:
            raise ConfigurationError(f"num_processes must be >= 0, got {self.processes}")

    def runtime_for(self, index: int) -> RuntimeConfig:
        """The config of worker process ``index`` (0 for threads in this process)."""
        services = self.helper_services
        if not isinstance(services, bool):
            services = services(index)
        stagger = index / self.processes if self.processes else 0.0
        return replace(
            self.runtime, helper_services=bool(services), stagger=min(max(stagger, 0.0), 1.0)
        )

    def describe(self, mode: str) -> str:
        """One log line's worth: the mode, the threads and the schedules."""
        schedules = ", ".join(sorted(self.runtime.schedule_entries)) or "none"
        return f"{mode}; threads per group {self.runtime.threads_per_group}; schedules: {schedules}"


def _threads(threads_per_group: Mapping[str, int]) -> dict[str, int]:
    if not isinstance(threads_per_group, Mapping):
        raise ConfigurationError(
            "num_worker_threads_per_group must map group names to thread counts, "
            f"got {type(threads_per_group).__name__}"
        )
    threads = {}
    for group, count in threads_per_group.items():
        check_name("group", group)
        if isinstance(count, bool) or not isinstance(count, int) or count < 0:
            raise ConfigurationError(
                f"the thread count of group {group!r} must be an int >= 0, got {count!r}"
            )
        threads[group] = count
    return threads


def _intervals(
    threads: dict[str, int], polling_interval: Mapping[str, float] | float | None
) -> dict[str, float]:
    if isinstance(polling_interval, int | float) and not isinstance(polling_interval, bool):
        given: Mapping[str, float] = dict.fromkeys(threads, float(polling_interval))
    elif polling_interval is None:
        given = {}
    elif isinstance(polling_interval, Mapping):
        given = polling_interval
    else:
        raise ConfigurationError(
            f"polling_interval must be seconds or a dict of them, got {polling_interval!r}"
        )
    intervals = {}
    for group, count in threads.items():
        interval = given.get(group) or default_polling_interval(count)
        check_seconds(f"polling_interval of group {group!r}", interval)
        intervals[group] = float(interval)
    return intervals
