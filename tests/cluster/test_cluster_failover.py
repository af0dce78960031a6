"""A fail-over on a cluster with replicas: the promoted replica takes over its primary's channels."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Iterator

import pytest

from chatserver.adapters.embedded import ValkeyCluster, ValkeyServer
from tests.cluster.conftest import Running, admin, broker_on, channels, shard_subscribers, wait_until


@pytest.fixture(scope="module")
def replicated(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ValkeyCluster]:
    own = ValkeyCluster(tmp_path_factory.mktemp("replicated"), size=3, replicas=1)
    own.start()
    yield own
    own.stop()


@pytest.fixture
async def on_replicated(replicated: ValkeyCluster) -> AsyncIterator[Running]:
    async with broker_on(replicated) as running:
        yield running


def role(node: ValkeyServer) -> list[object]:
    with admin(node) as client:
        return list(client.execute_command("ROLE"))  # type: ignore[no-untyped-call]


def node_at(cluster: ValkeyCluster, port: int) -> ValkeyServer:
    return next(node for node in cluster.nodes if node.port == port)


async def one_shard(cluster: ValkeyCluster, running: Running) -> tuple[ValkeyServer, ValkeyServer, list[str]]:
    """Subscribe 30 channels; the primary of the first, its replica, and the channels on that shard."""
    names = channels(30)
    await asyncio.gather(*(running.broker.subscribe(n) for n in names))
    owner_port = running.redis.get_node_from_key(names[0]).port
    on_owner = [n for n in names if running.redis.get_node_from_key(n).port == owner_port]
    replica = next(n for n in cluster.nodes if role(n)[0] == "slave" and role(n)[2] == owner_port)
    return node_at(cluster, owner_port), replica, on_owner


async def test_a_promoted_replica_takes_over_the_channels_of_its_primary(
    replicated: ValkeyCluster, on_replicated: Running
) -> None:
    running = on_replicated
    owner, replica, on_owner = await one_shard(replicated, running)

    with admin(replica) as client:
        client.cluster("FAILOVER")  # a coordinated fail-over, as an operator or a maintenance window does
    await wait_until(lambda: role(replica)[0] == "master", "replica promoted")

    await wait_until(lambda: all(shard_subscribers(replica, n) == 1 for n in on_owner), "followed to the new primary")
    await wait_until(lambda: running.listener.refilled_names() == set(on_owner), "refill of exactly those channels")
    assert role(owner)[0] == "slave"
    await running.broker.publish(on_owner[0], b"na de fail-over")
    await running.listener.wait_for(1)
    assert running.listener.messages == [(on_owner[0].encode(), b"na de fail-over")]


async def test_a_crashed_primary_is_replaced_by_its_replica_and_nothing_is_lost(
    replicated: ValkeyCluster, on_replicated: Running
) -> None:
    running = on_replicated
    owner, replica, on_owner = await one_shard(replicated, running)

    owner.kill()  # no goodbye: the cluster promotes the replica after the node timeout
    try:
        await wait_until(lambda: role(replica)[0] == "master", "replica promoted", timeout_s=20)
        await wait_until(
            lambda: all(shard_subscribers(replica, n) == 1 for n in on_owner), "followed to the new primary"
        )
        await wait_until(lambda: running.listener.refilled_names() == set(on_owner), "refill of exactly those channels")
        await running.broker.publish(on_owner[0], b"na de crash")
        await running.listener.wait_for(1)
        assert running.listener.messages == [(on_owner[0].encode(), b"na de crash")]
    finally:
        owner.start()  # it comes back as a replica of the promoted node
        replicated.wait_ok()
