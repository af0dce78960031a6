"""Who is on shift now, per flavour and role, as Redis sets; and the hourly marks of told coverage gaps.

The sets are a fast copy of the shift status in MongoDB (``shift_status``): the shift service writes both and
rebuilds the sets from the database after a restart. The moderation service reads the same keys to alert the
staff on shift (``<prefix>onshift:<flavour>:<role>``).
"""

from __future__ import annotations

from chatserver.adapters.redis_client import Redis


class RedisOnShift:
    def __init__(self, redis: Redis, prefix: str) -> None:
        self.redis = redis
        self.prefix = prefix

    def key(self, flavour: str, role: str) -> str:
        return f"{self.prefix}onshift:{flavour}:{role}"

    def _gap_key(self, flavour: str, tier: int, hour: str) -> str:
        return f"{self.prefix}gapalert:{flavour}:{tier}:{hour}"

    async def add(self, flavour: str, role: str, account_id: str) -> None:
        await self.redis.sadd(self.key(flavour, role), account_id)

    async def remove(self, flavour: str, role: str, account_id: str) -> None:
        await self.redis.srem(self.key(flavour, role), account_id)

    async def count(self, flavour: str, role: str) -> int:
        return int(await self.redis.scard(self.key(flavour, role)))

    async def members(self, flavour: str, role: str) -> set[str]:
        found = await self.redis.smembers(self.key(flavour, role))
        return {m.decode() if isinstance(m, bytes) else str(m) for m in found}

    async def mark_gap(self, flavour: str, tier: int, hour: str, ttl_s: int) -> bool:
        return bool(await self.redis.set(self._gap_key(flavour, tier, hour), "1", nx=True, ex=ttl_s))

    async def unmark_gap(self, flavour: str, tier: int, hour: str) -> None:
        await self.redis.delete(self._gap_key(flavour, tier, hour))
