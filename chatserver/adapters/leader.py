"""A Redis lease so that a periodic job runs on one process at a time."""

from __future__ import annotations

import secrets

from redis.exceptions import RedisError

from chatserver.adapters.redis_client import Redis


class RedisLease:
    """A Redis lease so that a periodic job runs on one process at a time."""

    def __init__(self, redis: Redis, key: str, ttl_s: float = 30.0) -> None:
        self.redis = redis
        self.key = key
        self.ttl_ms = int(ttl_s * 1000)
        self.token = secrets.token_hex(8)

    async def acquire(self) -> bool:
        try:
            if await self.redis.set(self.key, self.token, nx=True, px=self.ttl_ms):
                return True
            # Renew when we already hold it.
            held = await self.redis.get(self.key)
            if held is not None and (held.decode() if isinstance(held, bytes) else held) == self.token:
                await self.redis.pexpire(self.key, self.ttl_ms)
                return True
        except (RedisError, OSError):
            return False
        return False
