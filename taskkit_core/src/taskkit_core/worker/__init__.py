"""The worker side of taskkit: what runs tasks, in threads and worker processes.

- ``runtime``: WorkerRuntime, the worker side of one process (its lease,
  pools, services, control events).
- ``pool``: GroupPool, a group's threads and the claimer that feeds them.
- ``task_run``: running one task through the handler (Verdict,
  EagerWorker for eager mode); ``attempt``: the running attempt, its
  cancel flag, current_attempt and current_claim; ``watchdog``: timeouts,
  cancel requests and replacements of stuck threads.
- ``settler``: writes outcomes in batches; ``holdings``: the claims this
  process holds.
- ``heartbeat``, ``services``, ``forgotten_claims``: the services (lease
  refresh, restorer, purger, discarder, release of forgotten claims).
- ``process``: TaskkitProcess; ``supervisor``: keeps processes running.
- ``plan``: WorkerPlan and RuntimeConfig, what to run, checked once.
- ``crashpoints``: deterministic crashes for the reliability suite.

An application starts workers through :class:`~taskkit_core.Kit` or the
``taskkit worker`` command; it rarely imports from here.
"""

from .attempt import RunningAttempt, current_attempt, current_claim
from .process import TaskkitProcess
from .runtime import WorkerRuntime
from .services import Service

__all__ = [
    "RunningAttempt",
    "Service",
    "TaskkitProcess",
    "WorkerRuntime",
    "current_attempt",
    "current_claim",
]
