"""Deterministic crash points for the reliability suite (RELIABILITY.md, R5).

``TASKKIT_CRASHPOINT=<name>`` in a worker process's environment makes it
exit at once (status 137, as after SIGKILL) when it reaches that point, to
hit windows a signal cannot hit reliably. Unset, a check costs one
dictionary lookup.

after_claim: the claim committed, the handler has not started.
before_settle: the handler returned, its outcome is not written.
heartbeat: inside the heartbeat, before the lease is refreshed.
"""

from __future__ import annotations

import os

ENV = "TASKKIT_CRASHPOINT"


def crash_point(name: str) -> None:
    """Exit the process now if the environment names this point."""
    if os.environ.get(ENV) == name:
        os._exit(137)
