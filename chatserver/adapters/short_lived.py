"""Short-lived identity values in Redis (the :class:`chatserver.ports.ShortLivedStore`): one key per value.

Validation and recovery codes (as keyed hashes or records), flash values shown once after a redirect, once-only
markers (a used TOTP code, an attack notice) and flavour-ban markers, all under the deployment's key prefix.
"""

from __future__ import annotations

from chatserver.adapters.redis_client import Redis


class RedisShortLived:
    def __init__(self, redis: Redis, prefix: str = "") -> None:
        self.redis = redis
        self.prefix = prefix

    async def put(self, key: str, value: bytes, ttl_ms: int | None) -> None:
        await self.redis.set(self.prefix + key, value, px=ttl_ms)

    async def put_new(self, key: str, value: bytes, ttl_ms: int) -> bool:
        return bool(await self.redis.set(self.prefix + key, value, nx=True, px=ttl_ms))

    async def replace(self, key: str, value: bytes) -> None:
        await self.redis.set(self.prefix + key, value, keepttl=True, xx=True)

    async def get(self, key: str) -> bytes | None:
        return _bytes(await self.redis.get(self.prefix + key))

    async def take(self, key: str) -> bytes | None:
        return _bytes(await self.redis.getdel(self.prefix + key))

    async def delete(self, key: str) -> None:
        await self.redis.delete(self.prefix + key)

    async def remaining_ms(self, key: str) -> int | None:
        ttl_ms = int(await self.redis.pttl(self.prefix + key))
        return None if ttl_ms == -2 else ttl_ms


def _bytes(value: bytes | str | None) -> bytes | None:
    return value.encode() if isinstance(value, str) else value
