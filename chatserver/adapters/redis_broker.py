"""Redis pub/sub for live fan-out: one reader connection per process, PUBLISH or SPUBLISH.

The reader opens its connection before it subscribes anything, subscribes every
wanted channel again after a reconnect, and reports the reconnect so that the
hub can refill what pub/sub (at most once) lost. With a ``redis+cluster://``
URL the sharded commands (SSUBSCRIBE/SPUBLISH) are used.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import math
import time
from collections.abc import Callable

from redis.asyncio import Redis
from redis.asyncio.connection import AbstractConnection, ConnectionPool
from redis.exceptions import RedisError

from chatserver.adapters.redis_batch import AutoPipeline
from chatserver.adapters.redis_client import is_cluster_url
from chatserver.config import PRESENCE_EXPIRY_S

log = logging.getLogger("chatserver.broker")

PING_INTERVAL_S = 3.0
DEAD_AFTER_S = 10.0
SUBSCRIBE_TIMEOUT_S = 3.0
RECONNECT_MIN_S = 0.1
RECONNECT_MAX_S = 1.0

BrokerError = (RedisError, OSError, TimeoutError)

MessageHandler = Callable[[bytes, bytes], None]
ReconnectHandler = Callable[[], None]


class BrokerUnavailable(Exception):
    """The pub/sub connection is down; a subscription could not be confirmed."""


class RedisBroker:
    def __init__(self, url: str, redis: Redis, fixed_channels: tuple[str, ...] = ()) -> None:
        self.redis = redis
        self.sharded = is_cluster_url(url)
        node_url = "redis://" + url.removeprefix("redis+cluster://") if self.sharded else url
        self._pool = ConnectionPool.from_url(node_url, socket_connect_timeout=2.0, protocol=2)
        self._sub, self._unsub, self._publish = (
            ("SSUBSCRIBE", "SUNSUBSCRIBE", "SPUBLISH") if self.sharded else ("SUBSCRIBE", "UNSUBSCRIBE", "PUBLISH")
        )
        self._fixed = {c.encode() for c in fixed_channels}
        self._wanted: set[bytes] = set(self._fixed)
        self._active: set[bytes] = set()
        self._waiters: dict[bytes, list[asyncio.Future[None]]] = {}
        self._conn: AbstractConnection | None = None
        self._connected = asyncio.Event()
        self._last_seen = 0.0
        self.reconnects = 0

    @property
    def connected(self) -> bool:
        return self._connected.is_set()

    async def publish(self, channel: str, payload: bytes) -> None:
        await self.redis.execute_command(self._publish, channel, payload)  # type: ignore[no-untyped-call]

    async def publish_many(self, items: list[tuple[str, bytes]]) -> None:
        """Publish in order with one round trip."""
        async with self.redis.pipeline(transaction=False) as pipe:
            for channel, payload in items:
                pipe.execute_command(self._publish, channel, payload)
            await pipe.execute()

    async def subscribe(self, channel: str) -> None:
        """Subscribe and wait until Redis confirmed it; raises BrokerUnavailable."""
        name = channel.encode()
        self._wanted.add(name)
        if name in self._active:
            return
        future: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        self._waiters.setdefault(name, []).append(future)
        try:
            async with asyncio.timeout(SUBSCRIBE_TIMEOUT_S):
                await self._connected.wait()
                conn = self._conn
                if conn is not None and name not in self._active:
                    await conn.send_command(self._sub, name)
                await future
        except (TimeoutError, *BrokerError) as exc:
            raise BrokerUnavailable(str(exc)) from None
        finally:
            waiters = self._waiters.get(name)
            if waiters and future in waiters:
                waiters.remove(future)

    async def unsubscribe(self, channel: str) -> None:
        name = channel.encode()
        if name in self._fixed:
            return
        self._wanted.discard(name)
        self._active.discard(name)
        conn = self._conn
        if conn is not None and self.connected:
            with contextlib.suppress(*BrokerError):
                await conn.send_command(self._unsub, name)

    async def run(self, on_message: MessageHandler, on_reconnect: ReconnectHandler) -> None:
        """The one reader of this process; runs until cancelled, reconnecting with back-off."""
        backoff = RECONNECT_MIN_S
        first = True
        while True:
            conn = self._pool.make_connection()  # type: ignore[no-untyped-call]
            try:
                await conn.connect()
                self._conn = conn
                self._last_seen = time.monotonic()
                wanted = sorted(self._wanted)
                if wanted:
                    await conn.send_command(self._sub, *wanted)
                self._connected.set()
                if not first:
                    self.reconnects += 1
                    log.info("pub/sub reconnected; resubscribed %d channels", len(wanted))
                backoff = RECONNECT_MIN_S
                await self._read(conn, on_message, on_reconnect, expect=set(wanted), resync=not first)
            except asyncio.CancelledError:
                raise
            except BrokerError as exc:
                log.warning("pub/sub connection lost (%s); reconnecting", type(exc).__name__)
            finally:
                self._connected.clear()
                self._active.clear()
                self._conn = None
                with contextlib.suppress(Exception):
                    await conn.disconnect()
            first = False
            await asyncio.sleep(backoff)
            backoff = min(backoff * 2, RECONNECT_MAX_S)

    async def _read(
        self,
        conn: AbstractConnection,
        on_message: MessageHandler,
        on_reconnect: ReconnectHandler,
        expect: set[bytes],
        resync: bool,
    ) -> None:
        watchdog = asyncio.create_task(self._watchdog(conn))
        message_kinds = (b"message", b"smessage")
        confirm_kinds = (b"subscribe", b"ssubscribe")
        try:
            while True:
                reply = await conn.read_response(timeout=math.inf)
                self._last_seen = time.monotonic()
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
                    if name in self._wanted:
                        self._active.add(name)
                    for future in self._waiters.pop(name, []):
                        if not future.done():
                            future.set_result(None)
                    if expect:
                        expect.discard(name)
                        if not expect and resync:
                            on_reconnect()
        finally:
            watchdog.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await watchdog

    async def _watchdog(self, conn: AbstractConnection) -> None:
        """Ping in subscribed mode; a connection silent for too long is dropped."""
        while True:
            await asyncio.sleep(PING_INTERVAL_S)
            if time.monotonic() - self._last_seen > DEAD_AFTER_S:
                log.warning("pub/sub connection silent for %.0f s; dropping it", DEAD_AFTER_S)
                await conn.disconnect()
                return
            with contextlib.suppress(*BrokerError):
                await conn.send_command("PING")

    async def close(self) -> None:
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


class PresenceStore:
    """Who is online per channel: entries that expire unless the process holding them refreshes them."""

    def __init__(self, redis: Redis, prefix: str, expiry_s: float = PRESENCE_EXPIRY_S) -> None:
        self.redis = redis
        self.prefix = prefix
        self.expiry_ms = max(1, round(expiry_s * 1000))
        self.refresh_s = expiry_s / PRESENCE_REFRESHES_PER_EXPIRY
        self._join = redis.register_script(_PRESENCE_JOIN)
        self._refresh = redis.register_script(_PRESENCE_REFRESH)
        self._leave = redis.register_script(_PRESENCE_LEAVE)
        self._snapshot = redis.register_script(_PRESENCE_SNAPSHOT)

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
                    await self._refresh(keys=[self.key(channel)], args=args, client=pipe)
            await pipe.execute()

    async def remove(self, entries: list[PresenceEntry]) -> None:
        """Remove entries without counting (a leave that may have crossed a refresh)."""
        if not entries:
            return
        async with self.redis.pipeline(transaction=False) as pipe:
            for channel, connection_id, pseudonym in entries:
                pipe.zrem(self.key(channel), self._member(connection_id, pseudonym))
            await pipe.execute()
