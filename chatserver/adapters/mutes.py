"""Mutes as Redis keys that expire with the mute (implements :class:`chatserver.ports.MuteStore`).

One key per flavour and account (``<prefix>mute:<flavour>:<account>``) holding the moderator's reason. The live path
asks only its remaining time, through the process's :class:`AutoPipeline`, so the question shares the round trip of
the rate limit; the reason is read only for someone who is muted.
"""

from __future__ import annotations

from chatserver.adapters.redis_batch import AutoPipeline
from chatserver.adapters.redis_client import Redis

NO_REASON = "1"  # what a mute without a reason holds (and every mute set before reasons were kept)


class RedisMutes:
    def __init__(self, redis: Redis, batch: AutoPipeline, prefix: str) -> None:
        self.redis = redis
        self.batch = batch
        self.prefix = prefix

    def key(self, flavour: str, account_id: str) -> str:
        return f"{self.prefix}mute:{flavour}:{account_id}"

    async def remaining_ms(self, flavour: str, account_id: str) -> int:
        return int(await self.batch.execute("PTTL", self.key(flavour, account_id)))

    async def reason(self, flavour: str, account_id: str) -> str:
        stored = await self.redis.get(self.key(flavour, account_id))
        reason = stored.decode() if isinstance(stored, bytes) else str(stored or "")
        return "" if reason == NO_REASON else reason

    async def mute(self, flavour: str, account_id: str, reason: str, duration_ms: int) -> None:
        await self.redis.set(self.key(flavour, account_id), reason or NO_REASON, px=duration_ms)
