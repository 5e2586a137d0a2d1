"""A worker runtime: the threads of one worker process, or embedded in any process.

It owns the worker's lease (and the heartbeat that refreshes it), one
GroupPool per group, the helper services and schedulers, and the handling
of control events. A worker process runs one runtime in its main thread;
``Kit.start_threads`` runs one inside the calling process.

Stopping is graceful: claiming stops at once, claimed tasks that have not
started go straight back to the queue, running tasks get
``shutdown_timeout`` seconds to finish, and the worker drops its lease
when nothing of it is left running.
"""

from __future__ import annotations

import logging
import os
import secrets
import socket
import threading
from collections.abc import Callable
from datetime import tzinfo
from types import TracebackType

from ..backend import Backend, Outcome, Subscription
from ..clock import local_tz
from ..events import ControlEvent, EventBridge
from ..handler import TaskHandler
from ..outages import OutageLog
from ..scheduler import Scheduler
from ..url import parse_url, scrub_password
from .forgotten_claims import ReleaseForgottenClaims
from .heartbeat import Heartbeat
from .holdings import Holdings
from .plan import RuntimeConfig
from .pool import GroupPool
from .services import (
    DiscardDisposableTasks,
    PurgeExpiredLeases,
    RestoreAbandonedTasks,
    ServiceThread,
)

logger = logging.getLogger("taskkit.worker")


def new_worker_id() -> str:
    """host:pid:random, so a worker id says where to look and is never reused."""
    return f"{socket.gethostname()}:{os.getpid()}:{secrets.token_hex(4)}"


class WorkerRuntime:
    """Worker threads, services and control events over one backend connection."""

    def __init__(
        self,
        backend: Backend,
        bridge: EventBridge,
        handler: TaskHandler,
        config: RuntimeConfig,
    ) -> None:
        self.backend = backend
        self.bridge = bridge
        self.handler = handler
        self.config = config
        self.settings = config.settings
        self.worker_id = new_worker_id()
        self._url = parse_url(backend.url)
        self._stop_requested = threading.Event()
        self._services_stop = threading.Event()
        self._finished = threading.Event()
        self._shutdown_lock = threading.Lock()
        self._drained = False
        self._release_running = False
        self._event_thread: threading.Thread | None = None
        self._on_stopped: list[Callable[[], None]] = []
        self._watch: Subscription | None = None
        self.heartbeat = Heartbeat(
            backend, [self.worker_id], self.settings.worker_ttl, self.settings.heartbeat
        )
        self.heartbeat.on_cancel_requests = self._cancel_requested
        self.holdings = Holdings()
        self.pools = {
            group: self._make_pool(group, size)
            for group, size in config.threads_per_group.items()
            if size > 0
        }
        self._alive = set(self.pools)
        self._services = self._make_services(config.tzinfo or local_tz())

    def __repr__(self) -> str:
        return f"WorkerRuntime({self.worker_id!r}, backend={self._url.masked()!r})"

    def _scrub(self, text: str) -> str:
        return scrub_password(self._url, text)

    def _make_pool(self, group: str, size: int) -> GroupPool:
        return GroupPool(
            backend=self.backend,
            handler=self.handler,
            worker_id=self.worker_id,
            group=group,
            size=size,
            polling_interval=self.config.polling_interval[group],
            initial_delay=self.config.polling_interval[group] * self.config.stagger,
            claim_batch=self.settings.claim_batch,
            prefetch=self.settings.prefetch,
            lease_is_fresh=self.heartbeat.lease_is_fresh,
            max_attempts=self.settings.max_attempts,
            holdings=self.holdings,
            scrub=self._scrub,
        )

    def _make_services(self, tz: tzinfo) -> list[ServiceThread]:
        s = self.settings
        services = [
            ServiceThread(self.heartbeat, "heartbeat", self._services_stop, self._scrub),
            self._service(
                ReleaseForgottenClaims(
                    self.backend, self.worker_id, self.holdings, s.forgotten_claim_interval
                ),
                "forgotten claims",
            ),
        ]
        for name, entries in self.config.schedule_entries.items():
            if entries:
                scheduler = Scheduler(name, self.backend, entries, tz)
                services.append(self._service(scheduler, f"scheduler {name!r}"))
        if self.config.helper_services:
            services += [
                self._service(RestoreAbandonedTasks(self.backend, s.restore_interval), "restorer"),
                self._service(PurgeExpiredLeases(self.backend, s.purge_interval), "purger"),
                self._service(
                    DiscardDisposableTasks(self.backend, s.discard_interval), "discarder"
                ),
            ]
        return services

    def _service(self, service: object, name: str) -> ServiceThread:
        assert callable(service)
        return ServiceThread(service, name, self._services_stop, self._scrub)

    # -- lifecycle -----------------------------------------------------------------

    def start(self, *, handle_events: bool = True) -> WorkerRuntime:
        """Start every thread; with ``handle_events``, also a thread for control events.

        Without it, call :meth:`run_until_stopped` (a worker process does, in
        its main thread).
        """
        try:
            self.heartbeat()  # hold a lease before the first claim
        except Exception as exc:
            logger.warning("first heartbeat failed, will retry: %s", self._scrub(str(exc)))
        for service in self._services:
            service.start()
        self._watch = self.backend.watch_tasks(self._wake_group)
        for pool in self.pools.values():
            pool.start()
        logger.info("worker %s started: threads %s", self.worker_id, self.config.threads_per_group)
        if handle_events:
            self._event_thread = threading.Thread(
                target=self.run_until_stopped, name="taskkit-events", daemon=True
            )
            self._event_thread.start()
        return self

    def _cancel_requested(self, task_ids: list[str]) -> None:
        for pool in self.pools.values():
            pool.cancel(task_ids)

    def _wake_group(self, group: str) -> None:
        pool = self.pools.get(group)
        if pool is not None:
            pool.wake()

    def run_until_stopped(self) -> bool:
        """Handle control events until a stop is requested, then shut down.

        Returns True when every running task finished within the shutdown
        timeout.
        """
        outage = OutageLog("control events", self._scrub)
        while not self._stop_requested.is_set():
            try:
                events = self.bridge.receive_events(self.settings.event_wait)
            except Exception as exc:
                self._stop_requested.wait(outage.failed(exc))
                continue
            outage.succeeded()
            for event in events:
                self.handle_event(event)
        return self._shut_down()

    def request_stop(self, *, release_running: bool = False) -> None:
        """Ask the runtime to stop; returns at once (see :meth:`stop`).

        With ``release_running``, tasks still running when the shutdown
        timeout ends are put back in the queue at once: only for a process
        that exits right after, since their threads cannot be killed.
        """
        self._release_running = self._release_running or release_running
        for pool in self.pools.values():
            pool.stop_claiming()
        self._stop_requested.set()

    def stop(self, timeout: float | None = None) -> bool:
        """Stop and wait for the shutdown; True if every running task finished."""
        self.request_stop()
        if self._event_thread is None:
            return self._shut_down()
        wait = (timeout if timeout is not None else self.settings.shutdown_timeout) + 5
        self._finished.wait(wait)
        return self._drained

    def on_stopped(self, callback: Callable[[], None]) -> None:
        """Call ``callback`` once the runtime has shut down (to close its connection)."""
        self._on_stopped.append(callback)

    def wait(self, timeout: float | None = None) -> bool:
        """Wait until the runtime has shut down (by a shutdown event or stop())."""
        return self._finished.wait(timeout)

    @property
    def stopped(self) -> bool:
        return self._finished.is_set()

    def __enter__(self) -> WorkerRuntime:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.stop()

    def _shut_down(self) -> bool:
        with self._shutdown_lock:
            if not self._finished.is_set():
                self._shut_down_once()
            return self._drained

    def _shut_down_once(self) -> None:
        logger.info("worker %s shutting down", self.worker_id)
        timeout = self.settings.shutdown_timeout
        self._drained = all(pool.drain(timeout) for pool in self.pools.values())
        if not self._drained and self._release_running:
            self._release_abandoned()
        if self._watch is not None:
            self._watch.close()
        self._services_stop.set()
        for service in self._services:
            service.join(timeout=5)
        if self._drained or self._release_running:
            self._drop_lease()
        logger.info("worker %s stopped", self.worker_id)
        for callback in self._on_stopped:
            callback()
        self._finished.set()

    def abort(self) -> None:
        """Give up at once: put running tasks back in the queue and drop the lease.

        Only for a process that exits right after (a second SIGTERM or
        Ctrl-C): the task threads cannot be killed and die with it.
        """
        self._release_abandoned()
        self._drop_lease()

    def _release_abandoned(self) -> None:
        claims = [claim for pool in self.pools.values() for claim in pool.abandon()]
        if not claims:
            return
        try:
            self.backend.settle(*(Outcome.released(claim) for claim in claims))
            logger.warning("released %d task(s) still running at shutdown", len(claims))
        except Exception as exc:
            logger.warning("could not release running tasks: %s", self._scrub(str(exc)))

    def _drop_lease(self) -> None:
        try:
            self.backend.drop_leases([self.worker_id])
        except Exception as exc:
            logger.warning("could not drop the lease: %s", self._scrub(str(exc)))

    # -- control events ---------------------------------------------------------------

    def handle_event(self, event: ControlEvent) -> None:
        """Apply a shutdown, pause or resume event to the groups it names."""
        groups = event["groups"]
        targets = set(self._alive) if groups is None else set(groups) & set(self.pools)
        logger.info("worker %s: control event %s for %s", self.worker_id, event["name"], groups)
        match event["name"]:
            case "pause":
                for group in targets:
                    self.pools[group].pause()
            case "resume":
                for group in targets:
                    self.pools[group].resume()
            case "shutdown":
                self._alive -= targets
                for group in targets:
                    self.pools[group].stop_claiming()
                if not self._alive:
                    self.request_stop()
