"""A Redis Cluster of its own for the tests that move slots and restart nodes, and their helpers."""

from __future__ import annotations

import asyncio
import contextlib
import secrets
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass, field

import pytest
import redis
from redis.asyncio.cluster import RedisCluster

from chatserver.adapters.embedded import ValkeyCluster, ValkeyServer
from chatserver.adapters.redis_broker import RedisBroker
from chatserver.adapters.redis_client import open_redis


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


@contextlib.asynccontextmanager
async def broker_on(cluster: ValkeyCluster) -> AsyncIterator[Running]:
    """A broker on ``cluster`` with its reader running, as the live feature runs it."""
    redis = open_redis(cluster.url)
    assert isinstance(redis, RedisCluster)
    broker = RedisBroker(cluster.url, redis)
    listener = Listener()
    task = asyncio.create_task(broker.run(listener.on_message, listener.on_reconnect))
    running = Running(redis, broker, listener, task)
    try:
        yield running
    finally:
        running.task.cancel()
        await asyncio.gather(running.task, return_exceptions=True)
        await broker.close()
        await redis.aclose()


def channels(n: int) -> list[str]:
    tag = secrets.token_hex(3)
    return [f"t{tag}:live:room:psychosenet:kamer-{i}" for i in range(n)]


async def wait_until(check: object, what: str, timeout_s: float = WAIT_S) -> None:
    assert callable(check)
    try:
        async with asyncio.timeout(timeout_s):
            while not check():
                await asyncio.sleep(0.02)
    except TimeoutError:
        raise AssertionError(f"not within {timeout_s} s: {what}") from None
