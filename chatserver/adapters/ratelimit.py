"""Rate limits in Redis with GCRA (generic cell rate algorithm), one atomic Lua script.

A limit is ``burst`` requests at once and then ``rate`` per ``period_s``. The key
holds one number, the theoretical arrival time, and expires when it no longer
matters. Subjects are keyed hashes (an IP address never reaches Redis in clear)
or account ids.
"""

from __future__ import annotations

import hashlib
import hmac
import math
from datetime import datetime

from chatserver.adapters.redis_client import Redis
from chatserver.ports import Decision as Decision  # values of the port; re-exported for old importers
from chatserver.ports import Limit as Limit

# KEYS[1] = limit key; ARGV = emission interval ms, burst, cost, commit (1/0), and the time in ms
# (0: the server's clock; a caller with an injected clock passes its own).
_GCRA = """
local now = tonumber(ARGV[5])
if now == 0 then
  local t = redis.call('TIME')
  now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
end
local interval = tonumber(ARGV[1])
local burst = tonumber(ARGV[2])
local cost = tonumber(ARGV[3])
local commit = tonumber(ARGV[4])
local tat = tonumber(redis.call('GET', KEYS[1]) or now)
if tat < now then tat = now end
local new_tat = tat + cost * interval
local allow_at = new_tat - burst * interval
if allow_at > now then
  return {0, allow_at - now}
end
if commit == 1 and cost > 0 then
  redis.call('SET', KEYS[1], new_tat, 'PX', math.max(1, new_tat - now))
end
return {1, 0}
"""


class RateLimiter:
    def __init__(self, redis: Redis, prefix: str, secret: bytes) -> None:
        self.redis = redis
        self.prefix = prefix
        self._ip_key = hmac.new(secret, b"rate-limit-ip", hashlib.sha256).digest()
        self._script = redis.register_script(_GCRA)

    def ip_subject(self, ip: str) -> str:
        """A keyed hash of an IP address; the address itself is never stored."""
        return "ip." + hmac.new(self._ip_key, ip.encode(), hashlib.sha256).hexdigest()[:32]

    async def hit(
        self, limit: Limit, subject: str, cost: int = 1, commit: bool = True, now: datetime | None = None
    ) -> Decision:
        """Charge ``cost``; ``now`` (an injected clock's time) replaces the Redis server's clock."""
        key = f"{self.prefix}rl:{limit.name}:{subject}"
        now_ms = int(now.timestamp() * 1000) if now is not None else 0
        allowed, wait_ms = await self._script(
            keys=[key], args=[limit.interval_ms, limit.burst, max(cost, 1), 1 if commit else 0, now_ms]
        )
        return Decision(bool(allowed), 0 if allowed else max(1, math.ceil(int(wait_ms) / 1000)))

    async def peek(self, limit: Limit, subject: str, now: datetime | None = None) -> Decision:
        """Would one more be allowed? Charges nothing (for failure-only limits)."""
        return await self.hit(limit, subject, cost=1, commit=False, now=now)

    async def reset(self, limit: Limit, subject: str) -> None:
        await self.redis.delete(f"{self.prefix}rl:{limit.name}:{subject}")
