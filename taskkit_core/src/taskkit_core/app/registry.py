"""The task functions of an app, by name, and the modules that define them.

Names are stable strings: the function's module and qualified name unless
``name=`` says otherwise. A function in the script run as ``__main__`` is
named after the script's file (``python shop.py`` names ``shop.resize``,
the name ``taskkit worker shop:app`` registers too). Modules named in
``include`` are imported when a worker starts and when a name is not found,
so every worker process knows every task, under spawn too.
"""

from __future__ import annotations

import importlib
import sys
import threading
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

from ..errors import ConfigurationError, TaskkitError
from .task_function import BaseTaskFunction

AnyTask = BaseTaskFunction[Any, Any]


class UnknownTask(TaskkitError, LookupError):
    """No task function of that name in the app (the task fails, never retried)."""


def main_module_name() -> str:
    """What ``__main__`` is called in task names: its module, or its file's stem."""
    main = sys.modules.get("__main__")
    spec = getattr(main, "__spec__", None)
    if spec is not None and spec.name and not spec.name.endswith("__main__"):
        return str(spec.name)
    path = getattr(main, "__file__", None)
    return Path(path).stem if path else "__main__"


def module_name(module: str) -> str:
    """A module's name as task names use it (``__main__`` named after its script)."""
    return main_module_name() if module in ("__main__", "__mp_main__") else module


def default_name(function: Callable[..., Any]) -> str:
    """``module.qualname`` of ``function``; a lambda must be given a name."""
    if function.__name__ == "<lambda>":
        raise ConfigurationError(
            f"a lambda in {function.__module__} has no name of its own: "
            "pass name= to app.task, or define it with def"
        )
    return f"{module_name(function.__module__)}.{function.__qualname__}"


def where(function: Callable[..., Any]) -> str:
    """Where a function is defined, for error messages."""
    code = getattr(function, "__code__", None)
    place = f" ({code.co_filename}:{code.co_firstlineno})" if code is not None else ""
    return f"{function.__module__}.{function.__qualname__}{place}"


class TaskRegistry:
    """Task functions by name; ``include`` lists the modules that register more."""

    def __init__(self, app_name: str, include: tuple[str, ...] = ()) -> None:
        self.app_name = app_name
        self.includes: list[str] = list(include)
        self._tasks: dict[str, AnyTask] = {}
        self._imported: set[str] = set()
        self._lock = threading.RLock()

    def __iter__(self) -> Iterator[AnyTask]:
        return iter(list(self._tasks.values()))

    def __len__(self) -> int:
        return len(self._tasks)

    def add(self, task: AnyTask) -> None:
        """Register ``task``; ConfigurationError when another function has its name."""
        with self._lock:
            known = self._tasks.get(task.name)
            if known is not None and where(known.function) != where(task.function):
                raise ConfigurationError(
                    f"two task functions are named {task.name!r} in app {self.app_name}: "
                    f"{where(known.function)} and {where(task.function)}; give one another name="
                )
            self._tasks[task.name] = task

    def get(self, name: str) -> AnyTask | None:
        """The task function named ``name``, importing the includes once if needed."""
        task = self._tasks.get(name)
        if task is None and self._import_pending():
            task = self._tasks.get(name)
        return task

    def lookup(self, name: str) -> AnyTask:
        """The task function named ``name``; UnknownTask says which names exist."""
        task = self.get(name)
        if task is None:
            raise UnknownTask(self.unknown_message(name))
        return task

    def unknown_message(self, name: str) -> str:
        known = ", ".join(sorted(self._tasks)) or "none"
        message = f"no task named {name!r} in app {self.app_name} (known: {known})"
        if name.startswith("__main__."):
            message += (
                "; it was enqueued from code run as __main__ (python -c, a notebook): "
                "give the task name= or define it in a module"
            )
        return message

    def include(self, *modules: str) -> None:
        """Add modules to import before a worker starts (Django-style autodiscovery)."""
        with self._lock:
            self.includes += [m for m in modules if m not in self.includes]

    def import_includes(self) -> None:
        """Import every included module not yet imported; ConfigurationError on failure."""
        self._import_pending()

    def _import_pending(self) -> bool:
        with self._lock:
            pending = [m for m in self.includes if m not in self._imported]
            for module in pending:
                self._import(module)
            return bool(pending)

    def _import(self, module: str) -> None:
        try:
            importlib.import_module(module)
        except Exception as exc:
            raise ConfigurationError(
                f"app {self.app_name} includes {module!r}, which cannot be imported: "
                f"{type(exc).__name__}: {exc}"
            ) from exc
        self._imported.add(module)

    def groups(self) -> set[str]:
        """The groups the registered tasks are put in."""
        return {task.group for task in self._tasks.values()}

    def not_importable(self) -> list[str]:
        """Tasks a fresh (spawned) worker process could not register by importing modules."""
        bad = []
        for task in self._tasks.values():
            qualname = task.function.__qualname__
            if "<locals>" in qualname:
                bad.append(f"{task.name} (defined inside a function: {where(task.function)})")
            elif task.name.startswith("__main__."):
                bad.append(f"{task.name} (defined in code run as __main__ without a file)")
        return bad
