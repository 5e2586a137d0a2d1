"""R30: the whole conformance kit on PostgreSQL through PgBouncer in transaction pooling mode.

A private PostgreSQL with a real ``pgbouncer`` in front (``pool_mode =
transaction``, five server connections); every kit connection goes through
the pooler with ``direct_url`` pointing at the server itself, as
taskkit_sql/README.md tells users to configure it. It takes several
minutes, so it runs in this tier; tests/sql/test_pgbouncer.py covers
detection, the fallback without ``direct_url``, prepared statements and
transactional enqueue in the default run.
"""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from typing import Any

import pytest
from harness.availability import unavailable
from harness.pgbouncer import PgBouncer
from harness.servers import PrivatePostgres, missing_tool
from taskkit_core.testing import (
    BackendContract,
    EventBridgeContract,
    KitContract,
    ProcessContract,
)

from .conftest import PASSWORD

pytestmark = pytest.mark.chaos


@pytest.fixture(scope="module")
def bouncer() -> Iterator[PgBouncer]:
    reason = missing_tool("postgresql") or (None if shutil.which("pgbouncer") else "no pgbouncer")
    if reason is not None:
        unavailable(f"cannot start PgBouncer before a private PostgreSQL: {reason}")
    server = PrivatePostgres(PASSWORD)
    try:
        with PgBouncer(server, pool_mode="transaction", pool_size=5) as pooler:
            yield pooler
    finally:
        server.destroy()


class ThroughPgBouncer:
    """Points the kit at the pooler, with LISTEN and session locks on the server itself."""

    @pytest.fixture
    def taskkit_url(self, bouncer: PgBouncer) -> str:
        return bouncer.url

    @pytest.fixture
    def taskkit_options(self, bouncer: PgBouncer) -> dict[str, Any]:
        return {"direct_url": bouncer.server.url}


class TestBackendThroughPgBouncer(ThroughPgBouncer, BackendContract):
    pass


class TestEventBridgeThroughPgBouncer(ThroughPgBouncer, EventBridgeContract):
    pass


class TestKitThroughPgBouncer(ThroughPgBouncer, KitContract):
    pass


class TestProcessesThroughPgBouncer(ThroughPgBouncer, ProcessContract):
    pass
