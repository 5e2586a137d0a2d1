"""Observers for the A/B runs of ``benchmarks.inprocess --observe``.

- ``none``: no observer (the hub's one attribute check per call site);
- ``noop``: an observer implementing every hook with an empty body (the
  cost of building events and calling hooks);
- ``prometheus``: taskkit's Prometheus observer, called in the worker's
  threads (what taskkit does);
- ``prometheus-queued``: the same observer behind one queue and one
  observer thread per process: the alternative the issue asked to measure
  (hooks hand (function, event) to a ``queue.SimpleQueue``; a thread calls
  them). Not used by taskkit; kept here to measure it again.

``--metrics-dir DIR`` runs prometheus_client in multiprocess mode (files in
DIR), as worker processes of a supervisor do. ``--ab`` alternates rounds
without and with the observer in one process (:func:`switch`).
"""

from __future__ import annotations

import inspect
import queue
import threading
from types import SimpleNamespace
from typing import Any

from taskkit_core.observers import hookspecs, register_observer, unregister_observer
from taskkit_core.observers.hub import HOOKS

from taskkit_core import hookimpl

CHOICES = ("none", "noop", "prometheus", "prometheus-queued")


def _argument(hook: str) -> str:
    """The one argument of ``hook`` (``event``, ``worker`` or ``task``): pluggy checks names."""
    return next(iter(inspect.signature(getattr(hookspecs, hook)).parameters))


def _hook(name: str, call: Any) -> Any:
    """A fresh function taking ``name``'s argument by its name, marked as its hookimpl."""
    argument = _argument(name)
    # The lambdas name the argument as the hook does: pluggy passes arguments by name.
    function = {
        "event": lambda event: call(event),  # noqa: PLW0108
        "worker": lambda worker: call(worker),  # noqa: PLW0108
        "task": lambda task: call(task),  # noqa: PLW0108
    }[argument]
    return hookimpl(specname=name)(function)


def _noop_observer() -> Any:
    names = [name for name in HOOKS if name != "taskkit_task_enqueuing"]
    return SimpleNamespace(**{name: _hook(name, lambda value: None) for name in names})


def _queued(plugin: Any) -> Any:
    """``plugin``'s hooks, called on one observer thread through a SimpleQueue."""
    line: queue.SimpleQueue[tuple[Any, Any]] = queue.SimpleQueue()

    def drain() -> None:
        while True:
            function, value = line.get()
            function(value)

    threading.Thread(target=drain, name="observer", daemon=True).start()
    hooks = {}
    for name in HOOKS:
        function = getattr(plugin, name, None)
        if function is not None:
            hooks[name] = _hook(name, _enqueue(line, function))
    return SimpleNamespace(**hooks)


def _enqueue(line: queue.SimpleQueue[tuple[Any, Any]], function: Any) -> Any:
    return lambda value: line.put((function, value))


def install(choice: str) -> None:
    """Register the observer ``choice`` names in this process."""
    if choice == "none":
        return
    if choice == "noop":
        register_observer(_noop_observer(), name="bench noop")
        return
    register_observer(_plugin(choice), name=f"bench {choice}")


def _plugin(choice: str) -> Any:
    from taskkit_core.observers.prometheus import observer

    return observer if choice == "prometheus" else _queued(observer)


def switch(choice: str) -> Any:
    """A function of a round's index: odd rounds run with ``choice``'s observer, even without.

    For ``--ab``: both sides in one process, round after round, so the
    machine's drift over minutes falls on both alike.
    """
    if choice == "none":
        raise ValueError("--ab needs an observer to compare with none")
    plugin = _noop_observer() if choice == "noop" else _plugin(choice)

    def before_round(index: int) -> None:
        if index % 2:
            register_observer(plugin, name=f"bench {choice}")
        else:
            unregister_observer(plugin)

    return before_round
