"""The hooks a backend plugin implements (pluggy project name ``taskkit``).

A plugin is a module named by an entry point in the group ``taskkit``; it
marks its hook functions with :data:`hookimpl`. plugins.md documents each
hook; a test keeps that guide and this module in step.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import pluggy

if TYPE_CHECKING:
    from .registry import BackendRegistry

PROJECT_NAME = "taskkit"

hookspec = pluggy.HookspecMarker(PROJECT_NAME)
hookimpl = pluggy.HookimplMarker(PROJECT_NAME)


@hookspec
def taskkit_register_backends(registry: BackendRegistry) -> None:
    """Add every URL scheme this plugin serves with ``registry.add(...)``.

    Called once per process, the first time a URL is opened or the installed
    backends are listed. Keep it cheap: import database drivers inside the
    opener, not here.

    Added in taskkit-core 0.3.
    """
