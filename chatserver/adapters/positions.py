"""Channel positions: offsets from Redis, epochs recorded in MongoDB.

Handing out offsets is on the path of every message, so it is one Redis
round trip for a whole batch (a Lua script per channel in one pipeline) rather
than one MongoDB ``find_one_and_update`` per channel (measured: about 3 ms
each on the embedded server, which capped group commit).

An offset is never handed out twice within an epoch:

* Redis keeps ``{epoch, last}`` per channel. When the key is missing — first
  use, or Redis lost its data — the channel gets a **new epoch** (also written
  to MongoDB's ``channel_positions``) and offsets continue well above the
  highest stored one, so late writes of the old epoch can never collide.
* If Redis came back with an older counter (an append-only file that lost its
  last second), the unique (channel, offset) index refuses the write; the
  caller then calls :meth:`RedisPositions.reset`, which starts a new epoch the
  same way, and the sender retries.

Clients that see a new epoch reload the channel's history (docs/protocol.md).
"""

from __future__ import annotations

import asyncio
import secrets
from typing import Any

from pymongo import DESCENDING
from pymongo.errors import PyMongoError

from chatserver.adapters.mongo_client import Database
from chatserver.adapters.redis_batch import AutoPipeline
from chatserver.adapters.redis_client import REDIS_ERRORS, Redis

EPOCH_GAP = 1_000_000  # headroom above the highest stored offset after a reset

_RESERVE = """
if redis.call('EXISTS', KEYS[1]) == 0 then return false end
local last = redis.call('HINCRBY', KEYS[1], 'last', ARGV[1])
return {redis.call('HGET', KEYS[1], 'epoch'), last}
"""

_INIT = """
if redis.call('EXISTS', KEYS[1]) == 0 then
  redis.call('HSET', KEYS[1], 'epoch', ARGV[1], 'last', ARGV[2])
end
return {redis.call('HGET', KEYS[1], 'epoch'), redis.call('HGET', KEYS[1], 'last')}
"""

_RESET = """
if redis.call('HGET', KEYS[1], 'epoch') == ARGV[1] then return redis.call('DEL', KEYS[1]) end
return 0
"""


def new_epoch() -> str:
    return secrets.token_hex(6)


def _text(value: bytes | str) -> str:
    return value.decode() if isinstance(value, bytes) else value


class RedisPositions:
    """The :class:`chatserver.ports.Positions`: offsets in Redis, epochs recorded in MongoDB."""

    # Epochs are read from and written to MongoDB as well, so both kinds of outage show.
    unavailable_errors: tuple[type[Exception], ...] = (*REDIS_ERRORS, PyMongoError)

    HOT_SCRIPTS = (_RESERVE,)  # run for every batch: preloaded at start (AutoPipeline.preload)

    def __init__(self, redis: Redis, db: Database, batch: AutoPipeline, prefix: str = "") -> None:
        self.redis = redis
        self.batch = batch
        self.positions = db["channel_positions"]
        self.events = db["events"]
        self.prefix = prefix
        self._reserve = redis.register_script(_RESERVE)
        self._init = redis.register_script(_INIT)
        self._reset = redis.register_script(_RESET)

    def _key(self, channel: str) -> str:
        return f"{self.prefix}pos:{channel}"

    async def reserve_many(self, counts: dict[str, int]) -> dict[str, tuple[str, int]]:
        """Offsets for several channels in one round trip: channel → (epoch, first offset)."""
        channels = list(counts)
        # EVALSHA in the loop turn's pipeline (redis-py's own script pipeline asks SCRIPT EXISTS first).
        sha = self._reserve.sha
        replies: list[Any] = await asyncio.gather(
            *(self.batch.evalsha(sha, _RESERVE, [self._key(channel)], [counts[channel]]) for channel in channels)
        )
        out: dict[str, tuple[str, int]] = {}
        for channel, reply in zip(channels, replies, strict=True):
            if not reply:
                await self._initialise(channel)
                reply = await self._reserve(keys=[self._key(channel)], args=[counts[channel]])
                if not reply:  # reset again in between; rare, the caller retries
                    raise RuntimeError("channel position vanished")
            epoch, last = _text(reply[0]), int(reply[1])
            out[channel] = (epoch, last - counts[channel] + 1)
        return out

    async def epoch(self, channel: str) -> str:
        value = await self.redis.hget(self._key(channel), "epoch")
        if value is None:
            epoch, _ = await self._initialise(channel)
            return epoch
        return _text(value)

    async def reset(self, channel: str, epoch: str) -> None:
        """The counter went backwards (a write collided): start a new epoch above what is stored."""
        await self._reset(keys=[self._key(channel)], args=[epoch])

    async def _initialise(self, channel: str) -> tuple[str, int]:
        known = await self.positions.find_one({"_id": channel})
        newest = await self.events.find_one({"channel": channel}, {"offset": 1}, sort=[("offset", DESCENDING)])
        highest = max(int(newest["offset"]) if newest else 0, int(known.get("last", 0)) if known else 0)
        start = 0 if known is None and newest is None else highest + EPOCH_GAP
        reply = await self._init(keys=[self._key(channel)], args=[new_epoch(), start])
        epoch, last = _text(reply[0]), int(reply[1])
        await self.positions.update_one(
            {"_id": channel}, {"$set": {"epoch": epoch}, "$max": {"last": last}}, upsert=True
        )
        return epoch, last
