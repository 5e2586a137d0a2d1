"""Kit: the application's front door for putting tasks in and running workers."""

from __future__ import annotations

import signal
from collections.abc import Callable, Mapping, Sequence
from datetime import datetime, tzinfo
from typing import Any

from .backend import Backend, Connection, PutResult
from .compat import ScheduleEntriesCompatMapping, encode_schedule_entries
from .errors import CapabilityError, DuplicateTask
from .events import ControlEvent, EventBridge, make_event
from .handler import TaskHandler
from .items import InitiateTaskArgs, check_put_capabilities, prepare_item
from .kit_control import KitJobControl
from .observers.hub import hub
from .observers.prometheus.exposition import serve_metrics
from .opening import connect
from .result import Result
from .settings import WorkerSettings
from .task import DEFAULT_TASK_TTL, Task, Unique
from .url import mask_url
from .worker.lease_keeper import LeaseKeeper
from .worker.plan import HelperServices, RuntimeConfig, WorkerPlan
from .worker.process import TaskkitProcess
from .worker.runtime import WorkerRuntime
from .worker.stop_signals import Stopped
from .worker.supervisor import Supervisor
from .worker.task_run import EagerWorker

__all__ = ["InitiateTaskArgs", "Kit"]


class Kit(KitJobControl):
    """Puts tasks into a backend, waits for results, and runs workers.

    Build one with :meth:`from_url` (or from a backend and bridge you opened
    yourself). ``settings`` tunes the workers this Kit starts.
    """

    def __init__(
        self,
        backend: Backend,
        bridge: EventBridge,
        handler: TaskHandler,
        *,
        settings: WorkerSettings | None = None,
        backend_options: Mapping[str, Any] | None = None,
    ) -> None:
        self.backend = backend
        self.bridge = bridge
        self.handler = handler
        self.settings = settings or WorkerSettings()
        self.backend_options = dict(backend_options or {})
        self.eager_worker = EagerWorker(backend, handler)

    @classmethod
    def from_url(
        cls,
        url: str,
        handler: TaskHandler,
        *,
        settings: WorkerSettings | None = None,
        **options: Any,
    ) -> Kit:
        """A Kit over the backend that serves ``url``; ``options`` go to the backend.

        ``namespace`` (every backend) keeps this application's tasks apart
        from others on the same server.
        """
        connection = connect(url, **options)
        return cls(
            connection.backend,
            connection.bridge,
            handler,
            settings=settings,
            backend_options=options,
        )

    def __repr__(self) -> str:
        return f"Kit({mask_url(self.backend.url)!r}, handler={type(self.handler).__name__})"

    def close(self) -> None:
        """Close the backend connection of this Kit."""
        Connection(self.backend, self.bridge).close()

    # -- putting tasks in ------------------------------------------------------------

    def initiate_task(
        self,
        group: str,
        name: str,
        data: Any,
        due: datetime | float | None = None,
        ttl: float = DEFAULT_TASK_TTL,
        eager: bool = False,
        *,
        connection: Any = None,
        priority: int = 0,
        unique: Unique | str | None = None,
        timeout: float | None = None,
        headers: Mapping[str, str] | None = None,
        raise_on_duplicate: bool = False,
    ) -> Result[Any]:
        """Queue one task (or, with ``eager``, run it here and now); return its Result.

        ``connection`` joins the application's own database transaction,
        on backends with the ``transactional_enqueue`` capability.
        ``priority`` (-100..100, higher first) and ``unique`` (a Unique, or
        a key alone) need the backend's ``priorities`` / ``unique_tasks``
        capabilities. A duplicate of a unique task gives the holder's
        Result with ``duplicate`` True, or raises DuplicateTask with
        ``raise_on_duplicate``. ``timeout`` bounds each attempt in
        seconds; ``headers`` travel with the task to its handler.
        """
        encoded = self.handler.encode_data(group, name, data)
        task = Task.init(
            group,
            name,
            encoded,
            due=due,
            ttl=ttl,
            priority=priority,
            unique=Unique(unique) if isinstance(unique, str) else unique,
            timeout=timeout,
            headers=headers,
        )
        if eager:
            result = self.initiate_tasks((task, True), connection=connection)[0]
        else:  # initiate_tasks for one queued task, without its per-item machinery
            check_put_capabilities(self.backend, [task], connection)
            put = self._put([task], connection)
            result = self._queued_result(task, put[0] if put else None)
        if result.duplicate and raise_on_duplicate:
            key = unique if isinstance(unique, str) else unique.key if unique else ""
            raise DuplicateTask(result.task_id, key)
        return result

    def initiate_tasks(
        self, *args: Task | tuple[Task, bool] | InitiateTaskArgs, connection: Any = None
    ) -> list[Result[Any]]:
        """Queue many tasks in one backend call; eager ones run here first.

        Items are dicts (InitiateTaskArgs), Tasks, or (Task, eager) pairs.
        Results come back in the order of the items; ``Result.duplicate``
        marks the items a unique key refused (their ``task_id`` is the
        holder's). Every item is checked before anything is written.
        """
        tasks: list[Task] = []
        eager_at: list[int] = []  # positions, not (task, eager) pairs: a bulk keeps fewer objects
        for item in args:
            task, eager = prepare_item(self.handler, item)
            if eager:
                eager_at.append(len(tasks))
            tasks.append(task)
        check_put_capabilities(self.backend, tasks, connection)
        if not eager_at:
            return self._queued_results(tasks, self._put(tasks, connection) if tasks else [])
        ran = {index: self.eager_worker.handle_task(tasks[index]) for index in eager_at}
        queued = [task for index, task in enumerate(tasks) if index not in ran]
        answers = iter(
            self._queued_results(queued, self._put(queued, connection) if queued else [])
        )
        return [ran[index] if index in ran else next(answers) for index in range(len(tasks))]

    def _put(self, tasks: list[Task], connection: Any) -> Sequence[PutResult]:
        if hub.active:  # the enqueue hooks (and trace headers) around the put
            return list(hub.put_tasks(self.backend, tasks, connection))
        return self.backend.put_tasks(*tasks, connection=connection)

    def _queued_results(self, tasks: list[Task], put: Sequence[PutResult]) -> list[Result[Any]]:
        """The Results of queued ``tasks`` from the put's answers (none from a 0.3 backend)."""
        if not put:
            return [Result(self.backend, self.handler, task.id) for task in tasks]
        return [self._queued_result(task, answer) for task, answer in zip(tasks, put, strict=True)]

    def _queued_result(self, task: Task, answer: PutResult | None) -> Result[Any]:
        if answer is None or answer.task_id == task.id:
            return Result(self.backend, self.handler, task.id)
        return Result(self.backend, self.handler, answer.task_id, duplicate=True)

    def get_result(self, task_id: str) -> Result[Any]:
        """The result of the task with this id (``Result.task_id`` of an earlier put)."""
        return Result(self.backend, self.handler, _task_id("get_result", task_id))

    # -- control events -----------------------------------------------------------------

    def send_shutdown_event(self, groups: set[str] | None = None) -> None:
        """Ask workers of ``groups`` (None: all) to finish running tasks and stop."""
        self._send(make_event("shutdown", groups))

    def send_pause_event(self, groups: set[str] | None = None) -> None:
        """Ask workers of ``groups`` (None: all) to take no new tasks until resumed."""
        self._send(make_event("pause", groups))

    def send_resume_event(self, groups: set[str] | None = None) -> None:
        """Let paused workers of ``groups`` (None: all) take tasks again."""
        self._send(make_event("resume", groups))

    def _send(self, event: ControlEvent) -> None:
        self.bridge.send_event(event)

    # -- running workers -------------------------------------------------------------------
    # The public methods keep taskkit 0.2's signatures; each builds one WorkerPlan
    # (``_plan``) and hands it to the launch_* / supervise method that runs it.

    def start_threads(
        self,
        num_worker_threads_per_group: Mapping[str, int],
        schedule_entries: ScheduleEntriesCompatMapping | None = None,
        tzinfo: tzinfo | None = None,
        polling_interval: Mapping[str, float] | float | None = None,
        helper_services: bool = True,
    ) -> WorkerRuntime:
        """Run worker threads inside this process (the in-process mode).

        Returns the running WorkerRuntime; ``stop()`` it (or use it as a
        context manager) for a clean stop. The runtime opens a connection of
        its own from the backend's URL, so it receives control events like
        any worker process. Works with every backend, including memory://.
        """
        return self.launch_threads(
            self._plan(
                num_worker_threads_per_group,
                schedule_entries,
                tzinfo,
                polling_interval,
                helper_services,
            )
        )

    def start_processes(
        self,
        num_processes: int,
        num_worker_threads_per_group: Mapping[str, int],
        schedule_entries: ScheduleEntriesCompatMapping | None = None,
        tzinfo: tzinfo | None = None,
        polling_interval: Mapping[str, float] | float | None = None,
        helper_services: HelperServices = True,
        daemon: bool = True,
        *,
        start_method: str | None = None,
    ) -> list[TaskkitProcess]:
        """Start worker processes and return at once.

        ``helper_services`` is a bool or a function of the process index.
        ``start_method`` is "fork", "forkserver" or "spawn" (default:
        spawn, so no child inherits a lock held by a thread of this
        process; the handler must be importable by the child).
        """
        self._check_multi_process()
        plan = self._plan(
            num_worker_threads_per_group,
            schedule_entries,
            tzinfo,
            polling_interval,
            helper_services,
            processes=num_processes,
            start_method=start_method,
            daemon=daemon,
        )
        return self.launch_processes(plan)

    def start(
        self,
        num_processes: int,
        num_worker_threads_per_group: Mapping[str, int],
        schedule_entries: ScheduleEntriesCompatMapping | None = None,
        tzinfo: tzinfo | None = None,
        polling_interval: Mapping[str, float] | float | None = None,
        helper_services: HelperServices = True,
        should_restart: Callable[[TaskkitProcess], bool] = lambda _: False,
        *,
        start_method: str | None = None,
    ) -> None:
        """Run worker processes until SIGTERM or Ctrl-C, restarting any that dies.

        ``should_restart(process)`` lets the application recycle a process
        (for example after some hours). Ctrl-C ends with KeyboardInterrupt
        and SIGTERM with SystemExit: code 0 after the processes drained, 143
        when a second signal stopped them at once.
        """
        self._check_multi_process()
        plan = self._plan(
            num_worker_threads_per_group,
            schedule_entries,
            tzinfo,
            polling_interval,
            helper_services,
            processes=num_processes,
            start_method=start_method,
        )
        stopped = self.supervise(plan, should_restart)
        if stopped.signum == signal.SIGINT:
            raise KeyboardInterrupt
        raise SystemExit(stopped.exit_code)

    def launch_threads(self, plan: WorkerPlan) -> WorkerRuntime:
        """Run ``plan``'s worker threads in this process (see :meth:`start_threads`)."""
        serve_metrics(plan.runtime.settings, processes=False)
        connection = connect(self.backend.url, **self._reopen_options())
        runtime = WorkerRuntime(
            connection.backend, connection.bridge, self.handler, plan.runtime_for(0)
        )
        runtime.on_stopped(connection.close)
        return runtime.start()

    def launch_processes(self, plan: WorkerPlan) -> list[TaskkitProcess]:
        """Start ``plan.processes`` worker processes and return (see :meth:`start_processes`)."""
        return [self._start_process(plan, index) for index in range(plan.processes)]

    def supervise(
        self,
        plan: WorkerPlan,
        should_restart: Callable[[TaskkitProcess], bool] = lambda _: False,
    ) -> Stopped:
        """Run ``plan``'s processes until SIGTERM or SIGINT, restarting any that dies.

        Returns how it ended: the signal, and whether a second one forced it.
        """
        settings = plan.runtime.settings
        supervisor = Supervisor(
            lambda index: self._start_process(plan, index),
            plan.processes,
            should_restart,
            settings.shutdown_timeout,
            LeaseKeeper(
                self.backend, settings.worker_ttl, settings.heartbeat, lambda: supervisor.processes
            ),
        )
        return supervisor.run()

    def _plan(
        self,
        threads: Mapping[str, int],
        schedule_entries: ScheduleEntriesCompatMapping | None,
        tzinfo: tzinfo | None,
        polling_interval: Mapping[str, float] | float | None,
        helper_services: HelperServices,
        *,
        processes: int = 0,
        start_method: str | None = None,
        daemon: bool = True,
    ) -> WorkerPlan:
        """The one place that turns Kit.start*'s arguments into a WorkerPlan."""
        runtime = RuntimeConfig.build(
            threads,
            polling_interval=polling_interval,
            schedule_entries=encode_schedule_entries(self.handler, schedule_entries),
            tzinfo=tzinfo,
            settings=self.settings,
        )
        return WorkerPlan(runtime, processes, helper_services, start_method, daemon)

    def _check_multi_process(self) -> None:
        if not self.backend.capabilities.multi_process:
            raise CapabilityError(
                f"{mask_url(self.backend.url)!r} keeps tasks inside one process, so worker "
                "processes could not see them; use kit.start_threads(...) instead "
                "(capability multi_process)"
            )

    def _start_process(self, plan: WorkerPlan, index: int) -> TaskkitProcess:
        serve_metrics(plan.runtime.settings, processes=True)  # before the process starts
        process = TaskkitProcess(
            url=self.backend.url,
            backend_options=self._reopen_options(),
            handler=self.handler,
            config=plan.runtime_for(index),
            start_method=plan.start_method,
            daemon=plan.daemon,
        )
        process.start()
        return process

    def _reopen_options(self) -> dict[str, Any]:
        """Options that reopen this Kit's backend, in the same namespace."""
        return {"namespace": self.backend.namespace, **self.backend_options}


def _task_id(method: str, value: object) -> str:
    """``value`` if it is a str; else TypeError (a Result passed instead is the usual slip)."""
    if not isinstance(value, str):
        raise TypeError(f"{method} takes a task id (a str), not a {type(value).__name__}")
    return value
