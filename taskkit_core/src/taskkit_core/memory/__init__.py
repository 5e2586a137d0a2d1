"""The ``memory://`` backend: the reference implementation of the contract.

It holds everything in this process, behind one lock, and is held to the
same conformance kit as every other backend, so it doubles as the
executable specification and as the fast backend for tests. It is
single-process: worker threads only (``Kit.start_threads``). It has the
layout every backend package has: ``plugin`` registers ``opener``, which
opens a ``backend`` and an ``events`` bridge over a ``store``; ``locks``
holds its Lock.
"""

from .backend import MemoryBackend
from .events import MemoryEventBridge
from .opener import open_memory
from .store import MemoryStore

__all__ = ["MemoryBackend", "MemoryEventBridge", "MemoryStore", "open_memory"]
