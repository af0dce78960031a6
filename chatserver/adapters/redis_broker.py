"""Redis pub/sub for live fan-out: one reader per process, PUBLISH or SPUBLISH.

The broker keeps one subscription per channel for the whole process, on a
:class:`~chatserver.adapters.pubsub_link.PubSubLink` (one pub/sub connection).
On one server there is one link. On a Redis Cluster (``redis+cluster://``) the
sharded commands are used: a channel lives on the primary that owns its hash
slot, so the broker keeps one link per primary that holds channels of this
process and sends SSUBSCRIBE for a channel to its owner. When the cluster
moves a slot (resharding, failover) the old owner ends the subscription with
an unasked ``sunsubscribe``, or refuses it with ``MOVED``, or its link drops;
each of these makes the broker read the topology again, subscribe the moved
channels at their new owner, and ask the hub to refill the gap.

This module also re-exports, under their old names, what used to live here:
the presence store (:mod:`chatserver.adapters.presence_store`) and the
per-account publish limit (:mod:`chatserver.adapters.account_limiter`).
"""

from __future__ import annotations

import asyncio
import logging

from redis.asyncio.cluster import ClusterNode, RedisCluster
from redis.asyncio.connection import ConnectionPool

from chatserver.adapters.account_limiter import AccountRateLimiter as AccountRateLimiter
from chatserver.adapters.account_limiter import RedisAccountRateLimiter as RedisAccountRateLimiter
from chatserver.adapters.presence_store import HOLDERS_EXPIRY_S as HOLDERS_EXPIRY_S
from chatserver.adapters.presence_store import PRESENCE_REFRESH_CHUNK as PRESENCE_REFRESH_CHUNK
from chatserver.adapters.presence_store import PRESENCE_REFRESHES_PER_EXPIRY as PRESENCE_REFRESHES_PER_EXPIRY
from chatserver.adapters.presence_store import PresenceEntry as PresenceEntry
from chatserver.adapters.presence_store import PresenceStore as PresenceStore
from chatserver.adapters.presence_store import RedisPresenceStore as RedisPresenceStore
from chatserver.adapters.pubsub_link import DEAD_AFTER_S as DEAD_AFTER_S
from chatserver.adapters.pubsub_link import PING_INTERVAL_S as PING_INTERVAL_S
from chatserver.adapters.pubsub_link import RECONNECT_MAX_S, RECONNECT_MIN_S, PubSubLink
from chatserver.adapters.pubsub_link import MessageHandler as MessageHandler
from chatserver.adapters.pubsub_link import ReconnectHandler as ReconnectHandler
from chatserver.adapters.redis_client import REDIS_ERRORS, Redis, publish_command
from chatserver.ports.values import BrokerUnavailable as BrokerUnavailable

log = logging.getLogger("chatserver.broker")

SUBSCRIBE_TIMEOUT_S = 3.0
TOPOLOGY_SETTLE_S = 0.2  # several links noticing one slot move read the topology once

BrokerError = REDIS_ERRORS


class RedisBroker:
    """Subscriptions of this process, one per channel, on one link per server (or cluster primary).

    The :class:`chatserver.ports.Broker` of the chat service (``publish``, ``publish_many``); the hub
    subscribes and reads through it.
    """

    unavailable_errors: tuple[type[Exception], ...] = REDIS_ERRORS

    def __init__(self, url: str, redis: Redis, fixed_channels: tuple[str, ...] = ()) -> None:
        self.redis = redis
        self.sharded = isinstance(redis, RedisCluster)
        self.sub_command, self.unsub_command = (
            ("SSUBSCRIBE", "SUNSUBSCRIBE") if self.sharded else ("SUBSCRIBE", "UNSUBSCRIBE")
        )
        self._publish = publish_command(redis)
        self._fixed = {c.encode() for c in fixed_channels}
        self._wanted: set[bytes] = set(self._fixed)
        self._owner: dict[bytes, PubSubLink] = {}
        self._lost: set[bytes] = set()  # taken away by a slot move, not yet subscribed at the new owner
        self._waiters: dict[bytes, list[asyncio.Future[None]]] = {}
        self._links: dict[str, PubSubLink] = {}
        self._tasks: dict[str, asyncio.Task[None]] = {}
        self._handlers: tuple[MessageHandler, ReconnectHandler] | None = None
        self._ready = asyncio.Event()
        self._suspect = asyncio.Event()
        self._pool: ConnectionPool | None = None
        if not self.sharded:
            self._pool = ConnectionPool.from_url(url, socket_connect_timeout=2.0, protocol=2)
            link = PubSubLink(self, "redis", self._pool.make_connection)
            link.wanted |= self._wanted
            self._links[link.name] = link
            self._owner.update(dict.fromkeys(self._wanted, link))
        self.topology_reads = 0

    def links(self) -> dict[str, set[bytes]]:
        """Which link holds which channels (for tests and diagnostics)."""
        return {name: set(link.active) for name, link in self._links.items()}

    async def publish(self, channel: str, payload: bytes) -> None:
        await self.redis.execute_command(self._publish, channel, payload)

    async def publish_many(self, items: list[tuple[str, bytes]]) -> None:
        """Publish in order with one round trip (per shard, on a cluster)."""
        async with self.redis.pipeline(transaction=False) as pipe:
            for channel, payload in items:
                pipe.execute_command(self._publish, channel, payload)
            await pipe.execute()

    async def subscribe(self, channel: str) -> None:
        """Subscribe and wait until Redis confirmed it; raises BrokerUnavailable."""
        name = channel.encode()
        self._wanted.add(name)
        link = self._owner.get(name)
        if link is not None and name in link.active:
            return
        future: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        self._waiters.setdefault(name, []).append(future)
        try:
            async with asyncio.timeout(SUBSCRIBE_TIMEOUT_S):
                await self._ready.wait()
                link = self._owner.get(name) or self._assign(name)
                await link.connected.wait()
                if name in self._wanted and self._owner.get(name) is link and name not in link.active:
                    await link.send_subscribe([name])
                await future
        except (TimeoutError, *BrokerError) as exc:
            raise BrokerUnavailable(str(exc) or type(exc).__name__) from None
        finally:
            waiters = self._waiters.get(name)
            if waiters and future in waiters:
                waiters.remove(future)

    async def unsubscribe(self, channel: str) -> None:
        name = channel.encode()
        if name in self._fixed:
            return
        self._wanted.discard(name)
        self._lost.discard(name)
        link = self._owner.pop(name, None)
        if link is not None:
            await link.drop(name)

    # -- called by the links ------------------------------------------------

    def confirmed(self, name: bytes) -> None:
        for future in self._waiters.pop(name, []):
            if not future.done():
                future.set_result(None)

    def orphaned(self, link: PubSubLink, name: bytes) -> None:
        link.forget(name)
        if self._owner.get(name) is link:
            del self._owner[name]
            self._lost.add(name)
        log.info("pub/sub %s lost a channel to a slot move; reading the cluster topology", link.name)
        self.topology_suspect()

    def topology_suspect(self) -> None:
        if self.sharded:
            self._suspect.set()

    # -- the reader ---------------------------------------------------------

    async def run(self, on_message: MessageHandler, on_reconnect: ReconnectHandler) -> None:
        """The reader of this process; runs until cancelled."""
        self._handlers = (on_message, on_reconnect)
        try:
            if not self.sharded:
                self._ready.set()
                await self._links["redis"].run(on_message, on_reconnect)
            else:
                await self._follow_topology()
        finally:
            self._ready.clear()
            tasks = list(self._tasks.values())
            for task in tasks:
                task.cancel()
            await asyncio.gather(*tasks, return_exceptions=True)
            self._tasks.clear()
            if self.sharded:  # a restarted reader builds its links again and refills what they held
                self._lost |= set(self._owner)
                self._owner.clear()
                self._links.clear()

    async def _follow_topology(self) -> None:
        backoff = RECONNECT_MIN_S
        while True:
            self._suspect.clear()
            try:
                await self._read_topology()
            except BrokerError as exc:
                log.warning("cluster topology unreadable (%s); retrying", type(exc).__name__)
                await asyncio.sleep(backoff)
                backoff = min(backoff * 2, RECONNECT_MAX_S)
                continue
            backoff = RECONNECT_MIN_S
            self._ready.set()
            await self._suspect.wait()
            await asyncio.sleep(TOPOLOGY_SETTLE_S)

    async def _read_topology(self) -> None:
        """Read the slot map; move every channel whose owner changed, and ask for a refill after."""
        assert isinstance(self.redis, RedisCluster)
        self.topology_reads += 1
        if self.topology_reads == 1:
            await self.redis.initialize()
        else:
            await self.redis.nodes_manager.initialize()
        for name in sorted(self._wanted):
            old = self._owner.get(name)
            link = self._link_of(self._node_of(name))
            if old is link:
                if name not in link.active:  # refused (MOVED) or not yet confirmed: ask again
                    await link.send_subscribe([name])
                continue
            if old is not None:
                await old.drop(name)
            link.wanted.add(name)
            if old is not None or name in self._lost:  # it was live elsewhere: refill what the move cost
                self._lost.discard(name)
                link.expect.add(name)
                link.refill.add(name)
            self._owner[name] = link
            await link.send_subscribe([name])
        primaries = {node.name for node in self.redis.get_primaries()}
        for link_name, link in list(self._links.items()):
            if link_name not in primaries and not link.wanted:
                self._links.pop(link_name)
                task = self._tasks.pop(link_name, None)
                if task is not None:
                    task.cancel()

    def _node_of(self, name: bytes) -> ClusterNode:
        assert isinstance(self.redis, RedisCluster)
        return self.redis.nodes_manager.get_node_from_slot(self.redis.keyslot(name))

    def _link_of(self, node: ClusterNode) -> PubSubLink:
        link = self._links.get(node.name)
        if link is None:
            # RESP2 subscribed mode, read by the link alone: no retries, no health-check PINGs
            # that would read a reply meant for the link (the link's watchdog pings instead).
            kwargs = {**node.connection_kwargs, "protocol": 2, "health_check_interval": 0}
            kwargs.pop("retry", None)
            link = PubSubLink(self, node.name, lambda: node.connection_class(**kwargs))
            self._links[node.name] = link
            assert self._handlers is not None
            task = asyncio.get_running_loop().create_task(link.run(*self._handlers), name=f"pubsub {node.name}")
            self._tasks[node.name] = task
        return link

    def _assign(self, name: bytes) -> PubSubLink:
        """Give a new channel to the link of its owner (cluster) or the one link."""
        link = self._link_of(self._node_of(name)) if self.sharded else self._links["redis"]
        link.wanted.add(name)
        self._owner[name] = link
        return link

    async def close(self) -> None:
        if self._pool is not None:
            await self._pool.disconnect()
