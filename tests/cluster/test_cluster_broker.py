"""Sharded pub/sub on a real three-node Redis Cluster.

Each channel is subscribed once, at the primary that owns its slot; a slot that
moves to another node, or a node that restarts, costs no message: the broker
subscribes again where the channel now lives and asks the hub for a refill.
"""

from __future__ import annotations

import asyncio
import secrets
from collections.abc import AsyncIterator
from dataclasses import dataclass, field

import pytest
from redis.asyncio.cluster import RedisCluster

from chatserver.adapters.embedded import ValkeyCluster
from chatserver.adapters.redis_broker import RedisBroker
from chatserver.adapters.redis_client import open_redis
from tests.cluster.conftest import move_slot, shard_subscribers

WAIT_S = 10.0


@dataclass
class Listener:
    messages: list[tuple[bytes, bytes]] = field(default_factory=list)
    refilled: list[set[bytes]] = field(default_factory=list)

    @property
    def refills(self) -> int:
        return len(self.refilled)

    def refilled_names(self) -> set[str]:
        return {name.decode() for names in self.refilled for name in names}

    def on_message(self, channel: bytes, data: bytes) -> None:
        self.messages.append((channel, data))

    def on_reconnect(self, names: set[bytes]) -> None:
        self.refilled.append(names)

    async def wait_for(self, count: int) -> None:
        async with asyncio.timeout(WAIT_S):
            while len(self.messages) < count:
                await asyncio.sleep(0.01)


@dataclass
class Running:
    redis: RedisCluster
    broker: RedisBroker
    listener: Listener
    task: asyncio.Task[None]

    async def restart(self) -> None:
        """Stop the reader and start a new one on the same broker, as the supervisor does after a crash."""
        self.task.cancel()
        await asyncio.gather(self.task, return_exceptions=True)
        self.task = asyncio.create_task(self.broker.run(self.listener.on_message, self.listener.on_reconnect))


@pytest.fixture
async def running(cluster: ValkeyCluster) -> AsyncIterator[Running]:
    redis = open_redis(cluster.url)
    assert isinstance(redis, RedisCluster)
    broker = RedisBroker(cluster.url, redis)
    listener = Listener()
    task = asyncio.create_task(broker.run(listener.on_message, listener.on_reconnect))
    running = Running(redis, broker, listener, task)
    yield running
    running.task.cancel()
    await asyncio.gather(running.task, return_exceptions=True)
    await broker.close()
    await redis.aclose()


def channels(n: int) -> list[str]:
    tag = secrets.token_hex(3)
    return [f"t{tag}:live:room:psychosenet:kamer-{i}" for i in range(n)]


def owner_index(cluster: ValkeyCluster, redis: RedisCluster, channel: str) -> int:
    node = redis.nodes_manager.get_node_from_slot(redis.keyslot(channel))
    return next(i for i, n in enumerate(cluster.nodes) if n.port == node.port)


async def wait_until(check: object, what: str, timeout_s: float = WAIT_S) -> None:
    assert callable(check)
    try:
        async with asyncio.timeout(timeout_s):
            while not check():
                await asyncio.sleep(0.02)
    except TimeoutError:
        raise AssertionError(f"not within {timeout_s} s: {what}") from None


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
    owner = cluster.nodes[owner_index(cluster, running.redis, names[1])]
    await wait_until(lambda: shard_subscribers(owner, names[1]) == 0, "unsubscribed")
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
