"""The ``memory://`` backend: the reference implementation of the contract.

It holds everything in this process, behind one lock, and is held to the
same conformance kit as every other backend, so it doubles as the
executable specification and as the fast backend for tests. It is
single-process: worker threads only (``Kit.start_threads``).
"""

from .backend import MemoryBackend, MemoryEventBridge, MemoryStore

__all__ = ["MemoryBackend", "MemoryEventBridge", "MemoryStore"]
