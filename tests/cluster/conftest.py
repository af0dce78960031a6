"""A Redis Cluster of its own for the tests that move slots and restart nodes."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
import redis

from chatserver.adapters.embedded import ValkeyCluster, ValkeyServer


@pytest.fixture(scope="module")
def cluster(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ValkeyCluster]:
    own = ValkeyCluster(tmp_path_factory.mktemp("cluster"))
    own.start()
    yield own
    own.stop()


def admin(node: ValkeyServer) -> redis.Redis:
    return redis.Redis(host="127.0.0.1", port=node.port, socket_timeout=5, decode_responses=True)


def node_id(node: ValkeyServer) -> str:
    with admin(node) as client:
        return str(client.cluster("MYID"))


def move_slot(cluster: ValkeyCluster, slot: int, to: int) -> None:
    """Give an empty slot to node ``to``: the new owner first, then the others (as resharding does)."""
    target = node_id(cluster.nodes[to])
    order = [to, *(i for i in range(len(cluster.nodes)) if i != to)]
    for i in order:
        with admin(cluster.nodes[i]) as client:
            client.cluster("SETSLOT", slot, "NODE", target)
    cluster.wait_ok()


def shard_subscribers(node: ValkeyServer, channel: str) -> int:
    with admin(node) as client:
        reply = client.execute_command("PUBSUB", "SHARDNUMSUB", channel)  # type: ignore[no-untyped-call]
    return int(reply[1])
