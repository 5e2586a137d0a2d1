"""Running an App's workers and sending them control events, through its Kit.

Every method takes the app's defaults (its threads per group, its periodic
tasks) unless told otherwise, and imports the app's included modules first,
so the workers know every task.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from ..compat import ScheduleEntriesCompatMapping
from ..errors import ConfigurationError
from ..kit import Kit
from ..scheduler import ScheduleEntry
from ..worker import TaskkitProcess, WorkerRuntime

if TYPE_CHECKING:
    from .registry import TaskRegistry

Threads = Mapping[str, int] | None


class AppWorkers:
    """The worker side of App (a mixin: App provides what is declared here)."""

    registry: TaskRegistry

    @property
    def kit(self) -> Kit:
        raise NotImplementedError

    @property
    def threads(self) -> dict[str, int]:
        raise NotImplementedError

    def schedule_entries(self) -> dict[str, list[ScheduleEntry]]:
        raise NotImplementedError

    def location(self) -> tuple[str, str]:
        raise NotImplementedError

    def start_threads(self, threads: Threads = None, **options: Any) -> WorkerRuntime:
        """Worker threads in this process (Kit.start_threads); ``stop()`` the runtime."""
        self.registry.import_includes()
        return self.kit.start_threads(
            self._threads_to_run(threads), **self._with_schedules(options)
        )

    def start_processes(
        self, num_processes: int, threads: Threads = None, **options: Any
    ) -> list[TaskkitProcess]:
        """Worker processes, returned at once (Kit.start_processes)."""
        self._check_spawnable(options.get("start_method"))
        return self.kit.start_processes(
            num_processes, self._threads_to_run(threads), **self._with_schedules(options)
        )

    def start(self, num_processes: int, threads: Threads = None, **options: Any) -> None:
        """Run worker processes until SIGTERM or Ctrl-C, restarting dead ones (Kit.start)."""
        self._check_spawnable(options.get("start_method"))
        self.kit.start(
            num_processes, self._threads_to_run(threads), **self._with_schedules(options)
        )

    def _threads_to_run(self, threads: Threads) -> dict[str, int]:
        chosen = dict(threads) if threads is not None else self.threads
        if not chosen:
            raise ConfigurationError("the app has no task yet, so no group to run threads for")
        return chosen

    def _with_schedules(self, options: dict[str, Any]) -> dict[str, Any]:
        given: ScheduleEntriesCompatMapping = options.get("schedule_entries") or {}
        return {**options, "schedule_entries": {**self.schedule_entries(), **given}}

    def _check_spawnable(self, start_method: str | None) -> None:
        """Under spawn and forkserver a child imports the app: say what it could not find."""
        self.registry.import_includes()
        if start_method == "fork":
            return
        self.location()
        bad = self.registry.not_importable()
        if bad:
            raise ConfigurationError(
                f"worker processes started with {start_method or 'spawn'} import the app's "
                f"modules and would not find: {'; '.join(bad)}. Define these tasks at the top "
                "level of a module (or start_method='fork')"
            )

    # -- control events ----------------------------------------------------------------

    def send_shutdown_event(self, groups: set[str] | None = None) -> None:
        """Ask workers of ``groups`` (None: all) to finish running tasks and stop."""
        self.kit.send_shutdown_event(groups)

    def send_pause_event(self, groups: set[str] | None = None) -> None:
        """Ask workers of ``groups`` (None: all) to take no new tasks until resumed."""
        self.kit.send_pause_event(groups)

    def send_resume_event(self, groups: set[str] | None = None) -> None:
        """Let paused workers of ``groups`` (None: all) take tasks again."""
        self.kit.send_resume_event(groups)
