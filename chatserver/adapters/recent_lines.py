"""An author's last few lines per channel, kept briefly in Redis so the crisis detector can judge them together.

One Redis list per (channel, author), newest first, at most ``KEEP_LINES`` entries, expiring ``TTL_MS`` after the
author's last line. One script reads the previous lines and records the new one in the same call; through the
process's :class:`AutoPipeline` it shares the round trip of the rate limit and the mute check on the live path.
The lines never leave this list: no counts, no copies, nothing logged.
"""

from __future__ import annotations

import hashlib
import logging

from chatserver.adapters.redis_batch import AutoPipeline
from chatserver.adapters.redis_client import REDIS_ERRORS

log = logging.getLogger("chatserver.recent")

KEEP_LINES = 4  # previous lines judged with the new one (five in all)
TTL_MS = 10 * 60 * 1000
MAX_LINE_CHARS = 500

# KEYS: the list. ARGV: the new line ("" records nothing), how many to keep, TTL in ms. Returns the previous lines,
# newest first.
_PUSH_AND_READ = """
local keep = tonumber(ARGV[2])
local previous = redis.call('LRANGE', KEYS[1], 0, keep - 1)
if ARGV[1] ~= '' then
  redis.call('LPUSH', KEYS[1], ARGV[1])
  redis.call('LTRIM', KEYS[1], 0, keep - 1)
  redis.call('PEXPIRE', KEYS[1], ARGV[3])
end
return previous
"""
_SHA = hashlib.sha1(_PUSH_AND_READ.encode()).hexdigest()  # noqa: S324 - Redis names scripts by SHA-1


class RedisRecentLines:
    """Fails open: with Redis away a message is judged alone."""

    HOT_SCRIPTS = (_PUSH_AND_READ,)

    def __init__(self, batch: AutoPipeline, prefix: str) -> None:
        self.batch = batch
        self.prefix = prefix

    def key(self, channel: str, account_id: str) -> str:
        return f"{self.prefix}recent:{channel}:{account_id}"

    async def push_and_read(self, channel: str, account_id: str, line: str | None) -> tuple[str, ...]:
        """The author's previous lines in ``channel`` (oldest first); records ``line`` unless it is None."""
        args: list[str | int] = [(line or "")[:MAX_LINE_CHARS], KEEP_LINES, TTL_MS]
        try:
            found = await self.batch.evalsha(_SHA, _PUSH_AND_READ, [self.key(channel, account_id)], args)
        except REDIS_ERRORS as exc:
            log.warning("recent lines unavailable (%s)", type(exc).__name__)
            return ()
        lines = [item.decode() if isinstance(item, bytes) else str(item) for item in (found or ())]
        return tuple(reversed(lines))
