"""The shop app of ``taskkit demo``, importable from this directory as ``shop``.

The code lives in the installed package, in ``taskkit_core/demo/app.py``
(read it there: a handler with five kinds of task, THREADS and SCHEDULE);
this file only re-exports it, so that from ``examples/`` you can write::

    taskkit worker shop:handler
    taskkit enqueue shop:handler default send_email --data '{"to": "ann@example.com", "n": 1}'
"""

from taskkit_core.demo.app import SCHEDULE, THREADS, ShopHandler, handler, workload

__all__ = ["SCHEDULE", "THREADS", "ShopHandler", "handler", "workload"]
