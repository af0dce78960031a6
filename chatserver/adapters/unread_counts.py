"""Each account's unread notification count, cached in Redis beside the notifications in MongoDB.

The count is a cache: a missing key is rebuilt from the notifications (``ForumStore.unread_count``) and kept for a
week; a new notification adds one only where a count is cached, and reading them all drops it.
"""

from __future__ import annotations

from chatserver.adapters.redis_client import Redis

UNREAD_TTL_S = 7 * 24 * 3600


class RedisUnreadCounts:
    """``<prefix>forum:unread:<account id>`` → the number of unread notifications."""

    def __init__(self, redis: Redis, prefix: str, ttl_s: int = UNREAD_TTL_S) -> None:
        self.redis = redis
        self.prefix = prefix
        self.ttl_s = ttl_s

    def key(self, account_id: str) -> str:
        return f"{self.prefix}forum:unread:{account_id}"

    async def cached(self, account_id: str) -> int | None:
        value = await self.redis.get(self.key(account_id))
        return None if value is None else max(0, int(value))

    async def remember(self, account_id: str, count: int) -> None:
        await self.redis.set(self.key(account_id), count, ex=self.ttl_s)

    async def bump(self, account_id: str) -> None:
        key = self.key(account_id)
        if await self.redis.exists(key):
            await self.redis.incr(key)

    async def forget(self, account_id: str) -> None:
        await self.redis.delete(self.key(account_id))
