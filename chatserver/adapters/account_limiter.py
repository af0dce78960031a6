"""The per-account publish limit in Redis: GCRA over all connections of an account, in the auto-pipeline."""

from __future__ import annotations

import time

from chatserver.adapters.redis_batch import AutoPipeline
from chatserver.adapters.redis_client import REDIS_ERRORS, Redis

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


class RedisAccountRateLimiter:
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
        except REDIS_ERRORS:
            return 0
        return int(wait)


AccountRateLimiter = RedisAccountRateLimiter  # the old name
