"""Sharded pub/sub on a real three-node Redis Cluster.

Each channel is subscribed once, at the primary that owns its slot; a slot that
moves to another node, or a node that restarts, costs no message: the broker
subscribes again where the channel now lives and asks the hub for a refill.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator

import pytest
from redis.asyncio.cluster import RedisCluster

from chatserver.adapters.embedded import ValkeyCluster
from tests.cluster.conftest import Running, broker_on, channels, move_slot, shard_subscribers, wait_until


@pytest.fixture
async def running(cluster: ValkeyCluster) -> AsyncIterator[Running]:
    async with broker_on(cluster) as running:
        yield running


def owner_index(cluster: ValkeyCluster, redis: RedisCluster, channel: str) -> int:
    node = redis.nodes_manager.get_node_from_slot(redis.keyslot(channel))
    return next(i for i, n in enumerate(cluster.nodes) if n.port == node.port)


async def test_each_channel_is_subscribed_once_at_the_primary_that_owns_it(
    cluster: ValkeyCluster, running: Running
) -> None:
    names = channels(30)
    await asyncio.gather(*(running.broker.subscribe(n) for n in names))

    held = running.broker.links()
    assert len(held) == 3, "30 channels fall on all three primaries"
    assert sorted(c.decode() for chans in held.values() for c in chans) == sorted(names)
    for name in names:
        owner = owner_index(cluster, running.redis, name)
        counts = [shard_subscribers(node, name) for node in cluster.nodes]
        assert counts[owner] == 1 and sum(counts) == 1, (name, counts)

    await running.broker.publish_many([(n, f"m{i}".encode()) for i, n in enumerate(names)])
    await running.broker.publish(names[0], b"nog een")
    await running.listener.wait_for(31)
    got = sorted(running.listener.messages)
    want = sorted([(n.encode(), f"m{i}".encode()) for i, n in enumerate(names)] + [(names[0].encode(), b"nog een")])
    assert got == want

    await running.broker.unsubscribe(names[1])
    former = cluster.nodes[owner_index(cluster, running.redis, names[1])]
    await wait_until(lambda: shard_subscribers(former, names[1]) == 0, "unsubscribed")
    assert running.listener.refills == 0


async def test_a_moved_slot_is_followed_and_the_gap_refilled(cluster: ValkeyCluster, running: Running) -> None:
    name = channels(1)[0]
    await running.broker.subscribe(name)
    slot = running.redis.keyslot(name)
    before = owner_index(cluster, running.redis, name)
    after = (before + 1) % 3

    move_slot(cluster, slot, after)

    new_owner = cluster.nodes[after]
    await wait_until(lambda: shard_subscribers(new_owner, name) == 1, "subscribed at the new owner")
    await wait_until(lambda: running.listener.refills >= 1, "refill asked")
    assert running.listener.refilled_names() == {name}  # only the moved channel
    assert shard_subscribers(cluster.nodes[before], name) == 0
    assert name.encode() in running.broker.links()[f"127.0.0.1:{new_owner.port}"]

    await running.broker.publish(name, b"na de verhuizing")
    await running.listener.wait_for(1)
    assert running.listener.messages == [(name.encode(), b"na de verhuizing")]
    move_slot(cluster, slot, before)  # leave the cluster as it was
    await wait_until(lambda: shard_subscribers(cluster.nodes[before], name) == 1, "followed back")


async def test_a_restarted_node_gets_its_channels_back_and_others_keep_flowing(
    cluster: ValkeyCluster, running: Running
) -> None:
    names = channels(30)
    await asyncio.gather(*(running.broker.subscribe(n) for n in names))
    down = 0
    on_down = [n for n in names if owner_index(cluster, running.redis, n) == down]
    elsewhere = [n for n in names if owner_index(cluster, running.redis, n) != down]
    assert on_down and elsewhere

    cluster.nodes[down].stop()
    try:
        await running.broker.publish(elsewhere[0], b"tijdens")
        await running.listener.wait_for(1)
    finally:
        cluster.nodes[down].start()
    cluster.wait_ok()

    await wait_until(lambda: all(shard_subscribers(cluster.nodes[down], n) == 1 for n in on_down), "resubscribed")
    await wait_until(lambda: running.listener.refills >= 1, "refill asked")
    assert running.listener.refilled_names() == set(on_down)  # the other nodes' channels lost nothing
    await running.broker.publish(on_down[0], b"erna")
    await running.listener.wait_for(2)
    assert running.listener.messages == [(elsewhere[0].encode(), b"tijdens"), (on_down[0].encode(), b"erna")]


async def test_a_subscribe_sent_to_a_former_owner_is_refused_and_sent_again_to_the_new_one(
    cluster: ValkeyCluster, running: Running
) -> None:
    await running.broker.subscribe(channels(1)[0])  # the broker has read the topology once
    name = channels(1)[0]
    slot = running.redis.keyslot(name)
    before = owner_index(cluster, running.redis, name)
    after = (before + 1) % 3
    move_slot(cluster, slot, after)  # nothing of ours lives there: nobody tells the broker
    reads = running.broker.topology_reads

    await running.broker.subscribe(name)  # first to the former owner (MOVED), then to the new one

    assert running.broker.topology_reads > reads
    assert shard_subscribers(cluster.nodes[after], name) == 1
    await running.broker.publish(name, b"hallo")
    await running.listener.wait_for(1)
    assert running.listener.messages == [(name.encode(), b"hallo")]
    move_slot(cluster, slot, before)


async def test_a_restarted_reader_subscribes_everything_again_and_asks_for_a_refill(
    cluster: ValkeyCluster, running: Running
) -> None:
    names = channels(12)
    await asyncio.gather(*(running.broker.subscribe(n) for n in names))
    assert running.listener.refills == 0
    await running.restart()
    await wait_until(lambda: running.listener.refilled_names() == set(names), "refill of every channel asked")
    for name in names:
        owner = cluster.nodes[owner_index(cluster, running.redis, name)]
        await wait_until(lambda: shard_subscribers(owner, name) == 1, "subscribed again, once")  # noqa: B023
    await running.broker.publish(names[0], b"weer")
    await running.listener.wait_for(1)
    assert running.listener.messages == [(names[0].encode(), b"weer")]
