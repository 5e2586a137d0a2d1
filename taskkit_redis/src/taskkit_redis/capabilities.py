"""What the Redis backend can do, declared once for the plugin and the backend.

Kept apart so that ``plugin`` (imported by every process that loads
taskkit's plugins) and ``backend`` both read it without importing each
other: this module imports nothing but taskkit-core's small model.
"""

from __future__ import annotations

from taskkit_core.backend import Capabilities

CAPABILITIES = Capabilities(
    multi_process=True,  # worker processes and hosts share one server
    push_wakeups=True,  # a put publishes its group on the namespace's wake channel
    transactional_enqueue=False,  # Redis cannot join the application's database transaction
    server_clock=True,  # leases, due times and expiry use TIME inside the scripts
    priorities=True,  # a queue per (group, priority); claim.lua reads them highest first
    unique_tasks=True,  # put.lua checks and takes a unique key in the same script
)
