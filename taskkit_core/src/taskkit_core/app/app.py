"""App: task functions, their defaults, and the backend they go to (opened on first use).

::

    app = App()                      # TASKKIT_URL, else a local SQLite file

    @app.task(retry=Retry(max_attempts=5))
    def send_email(to: str, subject: str) -> bool: ...

    send_email.delay("ann@example.com", "hello").get(timeout=10)

The App builds the low-level layer underneath: an :class:`AppHandler` (the
TaskHandler protocol) and a :class:`~taskkit_core.Kit` over it, so bulk
enqueue, eager mode, results and workers are the Kit's own.
"""

from __future__ import annotations

import inspect
import sys
from collections.abc import Callable, Coroutine, Iterable, Mapping, Sequence
from datetime import timedelta, tzinfo
from typing import Any, ParamSpec, Protocol, TypeVar, overload

from ..errors import ConfigurationError
from ..kit import Kit
from ..opening import migrate
from ..scheduler import DuplicationPolicy, Schedule, ScheduleEntry
from ..settings import WorkerSettings
from ..task import DEFAULT_TASK_TTL, check_name, check_priority, check_timeout, check_ttl
from .app_workers import AppWorkers
from .calls import Call
from .codecs import CodecFactory, JsonCodec
from .handler import AppHandler
from .lazy_kit import LazyKit
from .periodic import schedule_of
from .registry import TaskRegistry, default_name, module_name
from .results import TaskResult
from .retry import Retry
from .task_function import AsyncTaskFunction, BaseTaskFunction, TaskFunction, TaskSpec

P = ParamSpec("P")
R = TypeVar("R")

DEFAULT_THREADS = 4
"""Worker threads per group when the app does not say."""


class TaskDecorator(Protocol):
    """What ``@app.task(...)`` with options returns."""

    @overload
    def __call__(  # type: ignore[overload-overlap] # an async function is a function too
        self, function: Callable[P, Coroutine[Any, Any, R]], /
    ) -> AsyncTaskFunction[P, R]: ...

    @overload
    def __call__(self, function: Callable[P, R], /) -> TaskFunction[P, R]: ...


class App(AppWorkers):
    """An application's task functions and the backend they are put into.

    url: the backend (default: TASKKIT_URL, else the embedded SQLite file);
        nothing connects until the first enqueue, result, worker or migrate.
    include: modules that define more task functions, imported by workers.
    group, retry, result_ttl, codec: the defaults of this app's tasks.
    threads: worker threads per group (default: 4 for each group of a task).
    settings: the worker timings (WorkerSettings).
    namespace and other keywords: backend options, as for Kit.from_url.
    """

    def __init__(
        self,
        url: str | None = None,
        *,
        name: str | None = None,
        include: Sequence[str] = (),
        group: str = "default",
        retry: Retry | None = None,
        result_ttl: float = DEFAULT_TASK_TTL,
        codec: CodecFactory = JsonCodec,
        threads: Mapping[str, int] | None = None,
        settings: WorkerSettings | None = None,
        **backend_options: Any,
    ) -> None:
        self._module = sys._getframe(1).f_globals.get("__name__", "__main__")
        self.name = name or module_name(self._module)
        self.registry = TaskRegistry(self.name, tuple(include))
        self.group = check_name("group", group)
        self.retry = retry
        self.result_ttl = check_ttl(result_ttl)
        self.codec = codec
        self._threads = dict(threads or {})
        self._periodic: list[tuple[BaseTaskFunction[Any, Any], Schedule]] = []
        self.handler = AppHandler(self)
        self._lazy = LazyKit(lambda: self.handler, url, backend_options, settings)

    def __repr__(self) -> str:
        return f"App({self.name!r}, tasks={len(self.registry)})"

    # -- the backend ------------------------------------------------------------------

    @property
    def url(self) -> str:
        """The backend URL (resolved without connecting); mask it before printing."""
        return self._lazy.url

    @property
    def backend_options(self) -> dict[str, Any]:
        return self._lazy.options

    @property
    def settings(self) -> WorkerSettings:
        return self._lazy.settings

    @property
    def kit(self) -> Kit:
        """The Kit underneath, opened now if it is not yet."""
        return self._lazy.get()

    @property
    def kit_opened(self) -> bool:
        return self._lazy.opened

    def configure(
        self,
        url: str | None = None,
        *,
        settings: WorkerSettings | None = None,
        **backend_options: Any,
    ) -> None:
        """Another URL, settings or backend options, before the first use (``taskkit --url``)."""
        self._lazy.configure(url, settings, **backend_options)

    def overrides(self) -> tuple[str | None, dict[str, Any]]:
        """The URL and options given in code, which worker processes apply too."""
        return self._lazy.overrides()

    def migrate(self) -> str | None:
        """Create or upgrade the backend's storage (see ``taskkit migrate``)."""
        return migrate(self.url, **self.backend_options)

    def close(self) -> None:
        """Close the backend connection, if this process opened one."""
        self._lazy.close()

    def location(self) -> tuple[str, str]:
        """Where worker processes import this app from: (module, attribute)."""
        module = sys.modules.get(self._module)
        for attribute, value in vars(module or object()).items():
            if value is self:
                return self._module, attribute
        raise ConfigurationError(
            f"app {self.name} is not a module-level variable of {self._module}, so worker "
            "processes started with spawn or forkserver cannot import it; define it at the top "
            "of a module (or use start_method='fork')"
        )

    # -- declaring tasks ------------------------------------------------------------------

    @overload
    def task(  # type: ignore[overload-overlap] # an async function is a function too
        self, function: Callable[P, Coroutine[Any, Any, R]], /
    ) -> AsyncTaskFunction[P, R]: ...

    @overload
    def task(self, function: Callable[P, R], /) -> TaskFunction[P, R]: ...

    @overload
    def task(
        self,
        function: None = None,
        /,
        *,
        name: str | None = None,
        group: str | None = None,
        retry: Retry | None = None,
        result_ttl: float | None = None,
        codec: CodecFactory | None = None,
        priority: int = 0,
        timeout: float | None = None,
    ) -> TaskDecorator: ...

    def task(
        self,
        function: Callable[..., Any] | None = None,
        /,
        *,
        name: str | None = None,
        group: str | None = None,
        retry: Retry | None = None,
        result_ttl: float | None = None,
        codec: CodecFactory | None = None,
        priority: int = 0,
        timeout: float | None = None,
    ) -> Any:
        """Register a function as a task: ``@app.task`` or ``@app.task(name=..., ...)``.

        name: stable name (default: module.qualname). group: where its tasks
        queue. retry: a Retry policy (default: the app's; None fails at once).
        result_ttl: seconds a finished task is kept. codec: its encoding.
        priority (-100..100) and timeout (seconds per attempt): the defaults
        of its calls, which ``options(...)`` overrides.
        """

        def register(target: Callable[..., Any]) -> Any:
            spec = self._spec(target, name, group, retry, result_ttl, codec, priority, timeout)
            kind = AsyncTaskFunction if _is_async(target) else TaskFunction
            made: BaseTaskFunction[Any, Any] = kind(self, target, spec)
            self.registry.add(made)
            return made

        return register if function is None else register(function)

    def _spec(
        self,
        function: Callable[..., Any],
        name: str | None,
        group: str | None,
        retry: Retry | None,
        result_ttl: float | None,
        codec: CodecFactory | None,
        priority: int = 0,
        timeout: float | None = None,
    ) -> TaskSpec:
        if not callable(function):
            raise ConfigurationError(f"app.task decorates functions, got {function!r}")
        return TaskSpec(
            name=check_name("task name", name or default_name(function)),
            group=check_name("group", group or self.group),
            retry=retry or self.retry,
            result_ttl=check_ttl(self.result_ttl if result_ttl is None else result_ttl),
            codec=codec or self.codec,
            priority=check_priority(priority),
            timeout=check_timeout(timeout),
        )

    def periodic(
        self,
        cron: str | None = None,
        *,
        every: float | timedelta | None = None,
        tz: tzinfo | None = None,
        policy: DuplicationPolicy | None = None,
        name: str | None = None,
        group: str | None = None,
        retry: Retry | None = None,
        result_ttl: float | None = None,
    ) -> TaskDecorator:
        """Register a task that the workers' scheduler runs on ``cron`` or ``every`` seconds.

        The function is called without arguments. ``tz`` is the cron's zone
        (default: the worker's); ``policy`` decides about missed points
        (OnlyLatest, the default, runs the latest once).
        """
        schedule = schedule_of(cron, every, tz, policy)
        decorate = self.task(name=name, group=group, retry=retry, result_ttl=result_ttl)

        def register(function: Callable[..., Any]) -> Any:
            _check_no_arguments(function)
            made: BaseTaskFunction[Any, Any] = decorate(function)
            self._periodic.append((made, schedule))
            return made

        return register

    def include(self, *modules: str) -> None:
        """Modules that define more of this app's tasks, imported by every worker."""
        self.registry.include(*modules)

    # -- enqueueing and results --------------------------------------------------------------

    def delay_many(self, calls: Iterable[Call[Any]]) -> list[TaskResult[Any]]:
        """Put many calls (of any of this app's tasks) in one backend call."""
        calls = list(calls)
        connection = _one_connection(calls)
        kit = self.kit
        results = kit.initiate_tasks(
            *((call.to_task(), call.options.eager) for call in calls), connection=connection
        )
        return [
            TaskResult(kit.backend, kit.handler, r.task_id, duplicate=r.duplicate) for r in results
        ]

    def get_result(self, task_id: str) -> TaskResult[Any]:
        """The result handle of a task put earlier (by any process)."""
        kit = self.kit
        return TaskResult(kit.backend, kit.handler, task_id)

    # -- what workers run ---------------------------------------------------------------------

    @property
    def threads(self) -> dict[str, int]:
        """Worker threads per group: the app's ``threads``, 4 for each other group of a task."""
        groups = dict.fromkeys(sorted(self.registry.groups()), DEFAULT_THREADS)
        return groups | self._threads

    def schedule_entries(self) -> dict[str, list[ScheduleEntry]]:
        """The periodic tasks as the schedule ``periodic:<app name>``."""
        entries = [
            ScheduleEntry(
                task.name, schedule, task.group, task.name, task.encode((), {}), task.result_ttl
            )
            for task, schedule in self._periodic
        ]
        return {f"periodic:{self.name}": entries} if entries else {}


def _is_async(function: Callable[..., Any]) -> bool:
    return inspect.iscoroutinefunction(function)


def _check_no_arguments(function: Callable[..., Any]) -> None:
    required = [
        p.name
        for p in inspect.signature(function).parameters.values()
        if p.default is p.empty and p.kind not in (p.VAR_POSITIONAL, p.VAR_KEYWORD)
    ]
    if required:
        raise ConfigurationError(
            f"periodic task {function.__qualname__} is called without arguments, but needs "
            f"{', '.join(required)}; give them defaults"
        )


def _one_connection(calls: list[Call[Any]]) -> Any:
    connections = {id(c.options.connection): c.options.connection for c in calls}
    if len(connections) > 1:
        raise ConfigurationError("the calls of one delay_many must share one connection=")
    return next(iter(connections.values()), None)
