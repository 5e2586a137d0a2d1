"""Prometheus metrics of workers (``taskkit[prometheus]``, on the official prometheus_client).

Switched on by ``WorkerSettings.metrics_port`` (``taskkit worker
--metrics-port``): the process that starts workers serves ``/metrics`` on
that port (:mod:`.exposition`), and every worker runtime registers the
observer (:mod:`.observer`) that records into the metrics
(:mod:`.metrics`). Worker processes of one supervisor record into
prometheus_client's multiprocess files, which the supervisor combines on
its one port. One process per namespace samples the queue depths
(:mod:`.sampler`).

This module imports nothing of prometheus_client: the multiprocess
directory must be chosen before it is imported.
"""

from __future__ import annotations

from ...errors import ConfigurationError

INSTALL_HINT = 'metrics need prometheus_client: pip install "taskkit[prometheus]"'


def require_client() -> None:
    """ConfigurationError with the install command when prometheus_client is missing."""
    try:
        import prometheus_client  # noqa: F401
    except ImportError:
        raise ConfigurationError(INSTALL_HINT) from None


def enable() -> None:
    """Record this process's worker events into the metrics (idempotent)."""
    from ..setup import register_observer
    from . import observer

    register_observer(observer, name="taskkit:prometheus")


__all__ = ["INSTALL_HINT", "enable", "require_client"]
