"""Who is online per channel, in Redis: entries that expire unless the process holding them refreshes them.

Also the per-account connection counts of channels whose feature wants to know when someone's last
connection goes (spreekuur seats).
"""

from __future__ import annotations

from chatserver.adapters.redis_client import Redis
from chatserver.config import PRESENCE_EXPIRY_S

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


class RedisPresenceStore:
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


PresenceStore = RedisPresenceStore  # the old name
