"""Short-lived room state in Redis: which hosted rooms a host opened, slow-mode turns, who reported a message.

Every key expires by itself: an opened room closes after a working day without a host closing it, a slow-mode
turn after the room's interval, the memory of a report after a month.
"""

from __future__ import annotations

from chatserver.adapters.redis_client import Redis


def _text(value: object) -> str:
    return value.decode() if isinstance(value, bytes) else str(value)


class RedisRoomFlags:
    def __init__(self, redis: Redis, prefix: str) -> None:
        self.redis = redis
        self.prefix = prefix

    def _key(self, *parts: str) -> str:
        return self.prefix + ":".join(parts)

    async def is_open(self, channel: str) -> bool:
        return bool(await self.redis.exists(self._key("room-host", channel)))

    async def open(self, channel: str, host_id: str, ttl_s: int) -> None:
        await self.redis.set(self._key("room-host", channel), host_id, ex=ttl_s)

    async def close(self, channel: str) -> None:
        await self.redis.delete(self._key("room-host", channel))

    async def slow_mode_wait(self, channel: str, account_id: str, client_msg_id: str, seconds: int) -> int:
        key = self._key("slow", channel, account_id)
        if await self.redis.set(key, client_msg_id, nx=True, ex=seconds):
            return 0
        current = await self.redis.get(key)
        if current is not None and _text(current) == client_msg_id:
            return 0  # a retry of the message that took the turn
        return max(1, int(await self.redis.ttl(key)))

    async def first_report(self, channel: str, offset: int, account_id: str, ttl_s: int) -> bool:
        key = self._key("room-report", channel, str(offset), account_id)
        return bool(await self.redis.set(key, "1", nx=True, ex=ttl_s))

    async def forget_report(self, channel: str, offset: int, account_id: str) -> None:
        await self.redis.delete(self._key("room-report", channel, str(offset), account_id))
