"""The seats of an e-spreekuur in Redis: one set of seat holders per session, counted atomically.

A seat is taken with one Lua script (SISMEMBER, SCARD, SADD, PEXPIREAT), so two
processes can never hand out the last seat twice. The set holds account ids
(pseudonymous, as the session keys do) and expires shortly after the session
ends; closing or cancelling a session deletes it at once. Redis errors become
:class:`SeatsUnavailable`, so callers decide what an outage means.
"""

from __future__ import annotations

from datetime import datetime

from redis.exceptions import RedisError

from chatserver.adapters.redis_client import Redis
from chatserver.ports import SeatCount as SeatCount  # values of the port; re-exported for old importers
from chatserver.ports import SeatsUnavailable as SeatsUnavailable

# KEYS[1] = the seat set, KEYS[2] = everyone who ever held a seat in the session (same slot: "{<KEYS[1]>}:seen");
# ARGV = account id, capacity, expire-at (ms since the epoch), force (1/0).
# Returns {seated (1/0), seats taken afterwards, first seat of this visitor in this session (1/0)}. A holder keeps
# the seat whatever the count; ``force`` seats beyond the capacity (someone who already has a question in the
# session). Coming back after leaving takes a seat again but is not a new visitor.
_TAKE = """
local member = ARGV[1]
local capacity = tonumber(ARGV[2])
local at = tonumber(ARGV[3])
if redis.call('SISMEMBER', KEYS[1], member) == 1 then
  redis.call('PEXPIREAT', KEYS[1], at)
  return {1, redis.call('SCARD', KEYS[1]), 0}
end
local taken = redis.call('SCARD', KEYS[1])
if taken >= capacity and ARGV[4] ~= '1' then
  return {0, taken, 0}
end
redis.call('SADD', KEYS[1], member)
redis.call('PEXPIREAT', KEYS[1], at)
local first = redis.call('SADD', KEYS[2], member)
redis.call('PEXPIREAT', KEYS[2], at)
return {1, taken + 1, first}
"""

_ERRORS = (RedisError, OSError, TimeoutError)


class SpreekuurSeats:
    def __init__(self, redis: Redis, prefix: str) -> None:
        self.redis = redis
        self.prefix = prefix
        self._take = redis.register_script(_TAKE)

    def key(self, spreekuur_id: str) -> str:
        return f"{self.prefix}{spreekuur_id}"

    def seen_key(self, spreekuur_id: str) -> str:
        """Who ever held a seat (counted once as a visitor); hash-tagged into the seat set's cluster slot."""
        return f"{{{self.key(spreekuur_id)}}}:seen"

    async def take(
        self, spreekuur_id: str, account_id: str, capacity: int, expire_at: datetime, force: bool = False
    ) -> tuple[bool, int, bool]:
        """(seated, seats taken, first seat): a seat for ``account_id`` unless ``capacity`` seats are taken by
        others; "first seat" is false for a holder who keeps theirs and for one who comes back after leaving."""
        at_ms = int(expire_at.timestamp() * 1000)
        try:
            seated, taken, new = await self._take(
                keys=[self.key(spreekuur_id), self.seen_key(spreekuur_id)],
                args=[account_id, max(0, capacity), at_ms, 1 if force else 0],
            )
        except _ERRORS as exc:
            raise SeatsUnavailable(type(exc).__name__) from exc
        return bool(seated), int(taken), bool(new)

    async def count(self, spreekuur_id: str, account_id: str = "") -> SeatCount:
        key = self.key(spreekuur_id)
        try:
            async with self.redis.pipeline(transaction=False) as pipe:
                pipe.scard(key)
                pipe.sismember(key, account_id or "-")
                taken, holder = await pipe.execute()
        except _ERRORS as exc:
            raise SeatsUnavailable(type(exc).__name__) from exc
        return SeatCount(int(taken), bool(holder) and bool(account_id))

    async def free(self, spreekuur_id: str, account_id: str) -> bool:
        """Give ``account_id``'s seat back (their last live connection went); whether they held one."""
        try:
            return bool(await self.redis.srem(self.key(spreekuur_id), account_id))
        except _ERRORS as exc:
            raise SeatsUnavailable(type(exc).__name__) from exc

    async def expire_at(self, spreekuur_id: str, expire_at: datetime) -> None:
        """Move the expiry of an existing seat set (the end time changed); no set, nothing happens."""
        try:
            at_ms = int(expire_at.timestamp() * 1000)
            await self.redis.pexpireat(self.key(spreekuur_id), at_ms)
            await self.redis.pexpireat(self.seen_key(spreekuur_id), at_ms)
        except _ERRORS as exc:
            raise SeatsUnavailable(type(exc).__name__) from exc

    async def drop(self, spreekuur_id: str) -> None:
        try:
            await self.redis.delete(self.key(spreekuur_id))
            await self.redis.delete(self.seen_key(spreekuur_id))
        except _ERRORS as exc:
            raise SeatsUnavailable(type(exc).__name__) from exc
