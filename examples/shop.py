"""The shop app of ``taskkit demo``, importable from this directory as ``shop``.

The code lives in the installed package, in ``taskkit_core/demo/app.py``
(read it there: five task functions, a retry policy, a periodic report);
this file only re-exports it, so that from ``examples/`` you can write::

    taskkit worker shop:app
    taskkit enqueue shop:app default send_email --data '{"to": "ann@example.com", "n": 1}'
"""

from taskkit_core.demo.app import (
    THREADS,
    app,
    charge_card,
    import_feed,
    render_report,
    resize_image,
    send_email,
    workload,
)

__all__ = [
    "THREADS",
    "app",
    "charge_card",
    "import_feed",
    "render_report",
    "resize_image",
    "send_email",
    "workload",
]
