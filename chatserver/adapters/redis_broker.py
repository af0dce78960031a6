"""Redis pub/sub for live fan-out: one reader per process, PUBLISH or SPUBLISH.

A :class:`_Link` is one pub/sub connection. It opens its connection before it
subscribes anything, subscribes every channel it holds again after a
reconnect, and reports the reconnect so that the hub can refill what pub/sub
(at most once) lost.

On one server there is one link. On a Redis Cluster (``redis+cluster://``) the
sharded commands are used: a channel lives on the primary that owns its hash
slot, so the broker keeps one link per primary that holds channels of this
process and sends SSUBSCRIBE for a channel to its owner. When the cluster
moves a slot (resharding, failover) the old owner ends the subscription with
an unasked ``sunsubscribe``, or refuses it with ``MOVED``, or its link drops;
each of these makes the broker read the topology again, subscribe the moved
channels at their new owner, and ask the hub to refill the gap.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import math
import time
from collections.abc import Callable

from redis.asyncio.cluster import ClusterNode, RedisCluster
from redis.asyncio.connection import AbstractConnection, ConnectionPool
from redis.exceptions import RedisClusterException, RedisError, ResponseError

from chatserver.adapters.redis_batch import AutoPipeline
from chatserver.adapters.redis_client import Redis, publish_command
from chatserver.config import PRESENCE_EXPIRY_S

log = logging.getLogger("chatserver.broker")

PING_INTERVAL_S = 3.0
DEAD_AFTER_S = 10.0
SUBSCRIBE_TIMEOUT_S = 3.0
RECONNECT_MIN_S = 0.1
RECONNECT_MAX_S = 1.0
TOPOLOGY_SETTLE_S = 0.2  # several links noticing one slot move read the topology once

# RedisClusterException (not a RedisError): reading the slot map of an unreachable cluster.
BrokerError = (RedisError, RedisClusterException, OSError, TimeoutError)

MessageHandler = Callable[[bytes, bytes], None]
ReconnectHandler = Callable[[set[bytes]], None]  # the channels whose messages may have been lost


class BrokerUnavailable(Exception):
    """The pub/sub connection is down; a subscription could not be confirmed."""


class _Link:
    """One pub/sub connection, to the server or to one cluster primary, and the channels it holds."""

    def __init__(self, broker: RedisBroker, name: str, factory: Callable[[], AbstractConnection]) -> None:
        self.broker = broker
        self.name = name
        self.factory = factory
        self.wanted: set[bytes] = set()
        self.active: set[bytes] = set()
        self.conn: AbstractConnection | None = None
        self.connected = asyncio.Event()
        self.last_seen = 0.0
        self.ever_connected = False
        # After a reconnect or a move: the channels to refill, once every one in ``expect`` is confirmed.
        self.expect: set[bytes] = set()
        self.refill: set[bytes] = set()

    async def send_subscribe(self, names: list[bytes]) -> None:
        conn = self.conn
        if conn is None or not self.connected.is_set() or not names:
            return
        sub = self.broker.sub_command
        if self.broker.sharded:  # one slot per SSUBSCRIBE; one write for all of them
            await conn.send_packed_command(conn.pack_commands([(sub, name) for name in names]))
        else:
            await conn.send_command(sub, *names)

    def forget(self, name: bytes) -> None:
        self.wanted.discard(name)
        self.active.discard(name)
        self.expect.discard(name)
        self.refill.discard(name)

    async def drop(self, name: bytes) -> None:
        """Forget a channel and unsubscribe it."""
        self.forget(name)
        conn = self.conn
        if conn is not None and self.connected.is_set():
            with contextlib.suppress(*BrokerError):
                await conn.send_command(self.broker.unsub_command, name)

    async def run(self, on_message: MessageHandler, on_reconnect: ReconnectHandler) -> None:
        """Read until cancelled, reconnecting with back-off."""
        backoff = RECONNECT_MIN_S
        while True:
            conn = self.factory()
            try:
                await conn.connect()  # type: ignore[no-untyped-call]
                self.conn = conn
                self.last_seen = time.monotonic()
                wanted = sorted(self.wanted)
                self.connected.set()
                await self.send_subscribe(wanted)
                if self.ever_connected:  # also when the broker's reader was restarted
                    log.info("pub/sub %s reconnected; resubscribed %d channels", self.name, len(wanted))
                    self.expect = set(wanted)
                    self.refill |= self.expect
                    self._maybe_resync(on_reconnect)
                self.ever_connected = True
                backoff = RECONNECT_MIN_S
                await self._read(conn, on_message, on_reconnect)
            except asyncio.CancelledError:
                raise
            except BrokerError as exc:
                log.warning("pub/sub %s connection lost (%s); reconnecting", self.name, type(exc).__name__)
                self.broker.topology_suspect()
            finally:
                self.connected.clear()
                self.active.clear()
                self.conn = None
                with contextlib.suppress(Exception):
                    await conn.disconnect()
            await asyncio.sleep(backoff)
            backoff = min(backoff * 2, RECONNECT_MAX_S)

    def _maybe_resync(self, on_reconnect: ReconnectHandler) -> None:
        if self.refill and not self.expect:
            names, self.refill = self.refill, set()
            on_reconnect(names)

    async def _read(self, conn: AbstractConnection, on_message: MessageHandler, on_reconnect: ReconnectHandler) -> None:
        watchdog = asyncio.create_task(self._watchdog(conn))
        message_kinds = (b"message", b"smessage")
        confirm_kinds = (b"subscribe", b"ssubscribe")
        try:
            while True:
                try:
                    reply = await conn.read_response(timeout=math.inf)
                except ResponseError as exc:  # e.g. MOVED: this node no longer owns a channel's slot
                    self.last_seen = time.monotonic()
                    log.info("pub/sub %s refused a subscription (%s)", self.name, str(exc).split(" ", 1)[0])
                    self.broker.topology_suspect()
                    continue
                self.last_seen = time.monotonic()
                if not isinstance(reply, list) or len(reply) < 2:
                    continue
                kind = reply[0]
                if kind in message_kinds:
                    try:
                        on_message(reply[1], reply[2])
                    except Exception:
                        log.exception("pub/sub message handler failed")
                elif kind in confirm_kinds:
                    name = reply[1]
                    if name in self.wanted:
                        self.active.add(name)
                        self.broker.confirmed(name)
                    if name in self.expect:
                        self.expect.discard(name)
                        self._maybe_resync(on_reconnect)
                elif kind == b"sunsubscribe" and reply[1] in self.wanted:
                    # Not asked for: the cluster moved this channel's slot to another node.
                    self.broker.orphaned(self, reply[1])
        finally:
            watchdog.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await watchdog

    async def _watchdog(self, conn: AbstractConnection) -> None:
        """Ping in subscribed mode; a connection silent for too long is dropped."""
        while True:
            await asyncio.sleep(PING_INTERVAL_S)
            if time.monotonic() - self.last_seen > DEAD_AFTER_S:
                log.warning("pub/sub %s silent for %.0f s; dropping it", self.name, DEAD_AFTER_S)
                await conn.disconnect()
                return
            with contextlib.suppress(*BrokerError):
                await conn.send_command("PING")


class RedisBroker:
    """Subscriptions of this process, one per channel, on one link per server (or cluster primary)."""

    def __init__(self, url: str, redis: Redis, fixed_channels: tuple[str, ...] = ()) -> None:
        self.redis = redis
        self.sharded = isinstance(redis, RedisCluster)
        self.sub_command, self.unsub_command = (
            ("SSUBSCRIBE", "SUNSUBSCRIBE") if self.sharded else ("SUBSCRIBE", "UNSUBSCRIBE")
        )
        self._publish = publish_command(redis)
        self._fixed = {c.encode() for c in fixed_channels}
        self._wanted: set[bytes] = set(self._fixed)
        self._owner: dict[bytes, _Link] = {}
        self._lost: set[bytes] = set()  # taken away by a slot move, not yet subscribed at the new owner
        self._waiters: dict[bytes, list[asyncio.Future[None]]] = {}
        self._links: dict[str, _Link] = {}
        self._tasks: dict[str, asyncio.Task[None]] = {}
        self._handlers: tuple[MessageHandler, ReconnectHandler] | None = None
        self._ready = asyncio.Event()
        self._suspect = asyncio.Event()
        self._pool: ConnectionPool | None = None
        if not self.sharded:
            self._pool = ConnectionPool.from_url(url, socket_connect_timeout=2.0, protocol=2)
            link = _Link(self, "redis", self._pool.make_connection)
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

    def orphaned(self, link: _Link, name: bytes) -> None:
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

    def _link_of(self, node: ClusterNode) -> _Link:
        link = self._links.get(node.name)
        if link is None:
            # RESP2 subscribed mode, read by the link alone: no retries, no health-check PINGs
            # that would read a reply meant for the link (the link's watchdog pings instead).
            kwargs = {**node.connection_kwargs, "protocol": 2, "health_check_interval": 0}
            kwargs.pop("retry", None)
            link = _Link(self, node.name, lambda: node.connection_class(**kwargs))
            self._links[node.name] = link
            assert self._handlers is not None
            task = asyncio.get_running_loop().create_task(link.run(*self._handlers), name=f"pubsub {node.name}")
            self._tasks[node.name] = task
        return link

    def _assign(self, name: bytes) -> _Link:
        """Give a new channel to the link of its owner (cluster) or the one link."""
        link = self._link_of(self._node_of(name)) if self.sharded else self._links["redis"]
        link.wanted.add(name)
        self._owner[name] = link
        return link

    async def close(self) -> None:
        if self._pool is not None:
            await self._pool.disconnect()


# GCRA: one key per account holding its theoretical arrival time (ms).
_GCRA = """
local tat = tonumber(redis.call('GET', KEYS[1]) or '0')
local now = tonumber(ARGV[1])
local interval = tonumber(ARGV[2])
local burst = tonumber(ARGV[3])
if tat < now then tat = now end
local allow_at = tat - interval * burst
if now < allow_at then return allow_at - now end
local new_tat = tat + interval
redis.call('SET', KEYS[1], new_tat, 'PX', math.ceil(new_tat - now) + 1000)
return 0
"""


class AccountRateLimiter:
    """Per-account GCRA in Redis; fails open (the per-connection bucket still holds) when Redis is away."""

    HOT_SCRIPTS = (_GCRA,)  # run for every message: preloaded at start (AutoPipeline.preload)

    def __init__(self, redis: Redis, prefix: str, per_s: float, burst: int, batch: AutoPipeline) -> None:
        self.redis = redis
        self.prefix = prefix
        self.interval_ms = 1000.0 / per_s
        self.burst = burst
        self._script = redis.register_script(_GCRA)
        self._batch = batch

    async def retry_after_ms(self, account_id: str) -> int:
        """0 when the account may publish now, else how long to wait."""
        now_ms = int(time.time() * 1000)
        keys = [f"{self.prefix}rl:publish:{account_id}"]
        args = [now_ms, self.interval_ms, self.burst]
        try:
            wait = await self._batch.evalsha(self._script.sha, _GCRA, keys, args)
        except BrokerError:
            return 0
        return int(wait)


# Presence: one sorted set per channel, ``{prefix}online:{channel}``, member
# ``<connection id>:<pseudonym>``, score = the Redis server time (ms) at which the
# entry expires. Every process refreshes the entries of its own live connections
# every ``expiry / PRESENCE_REFRESHES_PER_EXPIRY`` seconds (one pipeline for all of
# them), so the entries of a process that died without saying goodbye drop out of
# counts and lists after at most the expiry. Every script first removes what has
# expired; the key carries the expiry as its TTL, so an abandoned channel's key
# disappears. The server's clock decides, so the processes' clocks need not agree.
PRESENCE_REFRESHES_PER_EXPIRY = 3
PRESENCE_REFRESH_CHUNK = 500  # members per refresh script call (Lua's unpack has a stack limit)

_PRESENCE_NOW = """
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', now)
"""

# ARGV: expiry ms, member
_PRESENCE_JOIN = (
    _PRESENCE_NOW
    + """
redis.call('ZADD', KEYS[1], now + tonumber(ARGV[1]), ARGV[2])
redis.call('PEXPIRE', KEYS[1], ARGV[1])
return redis.call('ZCARD', KEYS[1])
"""
)

# ARGV: expiry ms, member...
_PRESENCE_REFRESH = (
    _PRESENCE_NOW
    + """
local expires = now + tonumber(ARGV[1])
local zargs = {}
for i = 2, #ARGV do
  zargs[#zargs + 1] = expires
  zargs[#zargs + 1] = ARGV[i]
end
if #zargs > 0 then redis.call('ZADD', KEYS[1], unpack(zargs)) end
redis.call('PEXPIRE', KEYS[1], ARGV[1])
return #ARGV - 1
"""
)

# ARGV: member
_PRESENCE_LEAVE = (
    _PRESENCE_NOW
    + """
redis.call('ZREM', KEYS[1], ARGV[1])
return redis.call('ZCARD', KEYS[1])
"""
)

# ARGV: list up to; answers {count} or {count, member...}
_PRESENCE_SNAPSHOT = (
    _PRESENCE_NOW
    + """
local n = redis.call('ZCARD', KEYS[1])
if n > tonumber(ARGV[1]) then return {n} end
local out = redis.call('ZRANGE', KEYS[1], 0, -1)
table.insert(out, 1, n)
return out
"""
)

PresenceEntry = tuple[str, str, str]  # channel, connection id, pseudonym

HOLDERS_EXPIRY_S = 86_400
# KEYS[1] = holders hash; ARGV = account id, expiry (s). Answers the account's connections now.
_HOLDER_HOLD = """
local n = redis.call('HINCRBY', KEYS[1], ARGV[1], 1)
redis.call('EXPIRE', KEYS[1], tonumber(ARGV[2]))
return n
"""
# KEYS[1] = holders hash; ARGV[1] = account id. Answers the connections left; at 0 the field is removed.
_HOLDER_RELEASE = """
local left = redis.call('HINCRBY', KEYS[1], ARGV[1], -1)
if left <= 0 then
  redis.call('HDEL', KEYS[1], ARGV[1])
  return 0
end
return left
"""


class PresenceStore:
    """Who is online per channel: entries that expire unless the process holding them refreshes them."""

    def __init__(self, redis: Redis, prefix: str, expiry_s: float = PRESENCE_EXPIRY_S) -> None:
        self.redis = redis
        self.prefix = prefix
        self.expiry_ms = max(1, round(expiry_s * 1000))
        self.refresh_s = expiry_s / PRESENCE_REFRESHES_PER_EXPIRY
        self._join = redis.register_script(_PRESENCE_JOIN)
        self._leave = redis.register_script(_PRESENCE_LEAVE)
        self._snapshot = redis.register_script(_PRESENCE_SNAPSHOT)
        self._hold = redis.register_script(_HOLDER_HOLD)
        self._release = redis.register_script(_HOLDER_RELEASE)

    def key(self, channel: str) -> str:
        return f"{self.prefix}online:{channel}"

    @staticmethod
    def _member(connection_id: str, pseudonym: str) -> str:
        return f"{connection_id}:{pseudonym}"  # connection ids are hex, so the first ':' separates

    async def join(self, channel: str, connection_id: str, pseudonym: str) -> int:
        """Add (or renew) one entry; the number of unexpired entries."""
        args: list[str | int] = [self.expiry_ms, self._member(connection_id, pseudonym)]
        return int(await self._join(keys=[self.key(channel)], args=args))

    async def leave(self, channel: str, connection_id: str, pseudonym: str) -> int:
        """Remove one entry; the number of unexpired entries left."""
        return int(await self._leave(keys=[self.key(channel)], args=[self._member(connection_id, pseudonym)]))

    def holders_key(self, channel: str) -> str:
        return f"{self.prefix}holders:{channel}"

    async def hold(self, channel: str, account_id: str) -> int:
        """One more live connection of ``account_id`` on ``channel``; how many it has now.

        Counted per account for channels whose feature wants to know when someone's last connection goes
        (spreekuur seats). The hash expires a day after its last change: counts left by a process that died
        are gone by then, and the feature's own expiry covers the meantime.
        """
        return int(await self._hold(keys=[self.holders_key(channel)], args=[account_id, HOLDERS_EXPIRY_S]))

    async def release(self, channel: str, account_id: str) -> int:
        """One live connection fewer; how many are left (0: that was the last, and the count is removed)."""
        return int(await self._release(keys=[self.holders_key(channel)], args=[account_id]))

    async def snapshot(self, channel: str, list_up_to: int) -> tuple[int, list[str] | None]:
        """The count, and the sorted pseudonyms when there are at most ``list_up_to`` entries."""
        reply = await self._snapshot(keys=[self.key(channel)], args=[list_up_to])
        count = int(reply[0])
        if count > list_up_to:
            return count, None
        members = (m.decode() if isinstance(m, bytes) else str(m) for m in reply[1:])
        return count, sorted({m.partition(":")[2] for m in members})

    async def count(self, channel: str) -> int:
        count, _ = await self.snapshot(channel, -1)
        return count

    async def refresh(self, entries: list[PresenceEntry]) -> None:
        """Renew (or put back) the entries of this process's live connections in one pipeline."""
        by_channel: dict[str, list[str]] = {}
        for channel, connection_id, pseudonym in entries:
            by_channel.setdefault(channel, []).append(self._member(connection_id, pseudonym))
        if not by_channel:
            return
        async with self.redis.pipeline(transaction=False) as pipe:
            for channel, members in by_channel.items():
                for i in range(0, len(members), PRESENCE_REFRESH_CHUNK):
                    args: list[str | int] = [self.expiry_ms, *members[i : i + PRESENCE_REFRESH_CHUNK]]
                    # EVAL, not the registered script: a cluster pipeline cannot load scripts
                    # on demand, and once per refresh interval the script text costs nothing.
                    pipe.eval(_PRESENCE_REFRESH, 1, self.key(channel), *args)
            await pipe.execute()

    async def remove(self, entries: list[PresenceEntry]) -> None:
        """Remove entries without counting (a leave that may have crossed a refresh)."""
        if not entries:
            return
        async with self.redis.pipeline(transaction=False) as pipe:
            for channel, connection_id, pseudonym in entries:
                pipe.zrem(self.key(channel), self._member(connection_id, pseudonym))
            await pipe.execute()
