"""Redis Cluster: a namespace lives in one hash slot, so the whole kit runs on a cluster.

A real three-node cluster (``redis-server --cluster-enabled yes`` x3 joined
by ``redis-cli --cluster create``, no replicas) is started once per test
session; the conformance kit runs against its ``redis+cluster://`` URL,
and the tests below check what is the cluster's own: every key of a
namespace is in one slot on one node, and what a cluster cannot take is
refused in one line.
"""

from __future__ import annotations

import pytest
import redis
from harness.redis_topologies import ClusterNodes
from taskkit_core.errors import ConfigurationError
from taskkit_core.kit import InitiateTaskArgs
from taskkit_core.opening import connect
from taskkit_core.testing import (
    BackendContract,
    EventBridgeContract,
    KitContract,
    ProcessContract,
    RecordingHandler,
)
from taskkit_redis.client import _check_cluster_support
from taskkit_redis.keys import Keys

from taskkit_core import Kit


@pytest.fixture
def taskkit_url(redis_cluster: ClusterNodes) -> str:
    """The kit's URL: the private cluster (overrides the project's list of backends)."""
    return redis_cluster.url


class TestClusterBackend(BackendContract):
    pass


class TestClusterEventBridge(EventBridgeContract):
    pass


class TestClusterKit(KitContract):
    pass


class TestClusterProcesses(ProcessContract):
    pass


def _keys_per_node(cluster: ClusterNodes, namespace: str) -> dict[int, list[bytes]]:
    found = {}
    for node in cluster.nodes:
        client = node.client()
        try:
            found[node.port] = list(client.scan_iter(match=Keys(namespace).pattern, count=1000))
        finally:
            client.close()
    return found


def test_a_namespace_lives_in_one_slot_of_one_node(redis_cluster: ClusterNodes) -> None:
    namespace = "tkc_one_slot"
    kit = Kit.from_url(redis_cluster.url, RecordingHandler(), namespace=namespace)
    try:
        items: list[InitiateTaskArgs] = [
            {"group": f"g{i}", "name": "echo", "data": i} for i in range(20)
        ]
        results = kit.initiate_tasks(*items)
        kit.backend.get_lock("l").acquire()
        kit.send_pause_event()
        with kit.start_threads({f"g{i}": 1 for i in range(20)}):
            assert [r.get(timeout=20) for r in results] == list(range(20))
        per_node = _keys_per_node(redis_cluster, namespace)
        holding = [port for port, keys in per_node.items() if keys]
        assert len(holding) == 1, f"keys on nodes {holding}"
        client = redis_cluster.nodes[0].client()
        slots = {client.cluster("KEYSLOT", key) for key in per_node[holding[0]]}
        client.close()
        assert len(slots) == 1
        assert len(per_node[holding[0]]) >= 20 + 3, "tasks, lock, events, leases..."
    finally:
        kit.backend.destroy_all()
        kit.close()
    assert not any(_keys_per_node(redis_cluster, namespace).values())


@pytest.mark.parametrize(
    ("url", "expected"),
    [
        ("redis+cluster://127.0.0.1:7000/1", "only database 0"),
        ("redis+cluster://127.0.0.1:7000/0?db=2", "only database 0"),
        ("redis+cluster://127.0.0.1:7000/0?ssl_ca_certs=/ca.pem", "no TLS form"),
        ("redis+cluster://127.0.0.1:7000/0?sentinel_auth=yes", "'sentinel_auth'"),
    ],
)
def test_what_a_cluster_cannot_take_is_refused_in_one_line(url: str, expected: str) -> None:
    with pytest.raises(ConfigurationError) as info:
        connect(url)
    assert expected in str(info.value)
    assert "\n" not in str(info.value)


def test_a_redis_py_without_cluster_transactions_is_refused_in_one_line() -> None:
    with pytest.raises(ConfigurationError, match=r"needs redis-py 6\.1 or later.*this is 5\.2\.1"):
        _check_cluster_support("5.2.1")
    _check_cluster_support(redis.__version__)
