"""Automatic pipelining: Redis commands issued in the same event-loop turn go out in one round trip.

The hot path of publishing asks Redis a few small questions per message (the
account's rate limit, its mute). Every redis-py call checks a connection out of
the pool, writes, reads and parses on its own; with many publishers at once
that per-call overhead dominated. :class:`AutoPipeline` collects the calls made
in one turn of the loop and sends them as one non-transactional pipeline, so
twenty concurrent publishers cost one checkout, one ``write`` and one read.
Each caller still gets its own result or its own exception.
"""

from __future__ import annotations

import asyncio
import logging
from typing import Any

from redis.exceptions import NoScriptError, RedisError

from chatserver.adapters.redis_client import Redis

log = logging.getLogger("chatserver.redis")

# A pipeline larger than this is split; keeps one reply read bounded.
MAX_PIPELINE = 512
PRELOAD_TIMEOUT_S = 2.0

_Call = tuple[tuple[Any, ...], "asyncio.Future[Any]"]


class AutoPipeline:
    """One per process and event loop."""

    def __init__(self, redis: Redis) -> None:
        self.redis = redis
        self._pending: list[_Call] = []
        self._scheduled = False
        self._tasks: set[asyncio.Task[None]] = set()
        self.round_trips = 0
        self.commands = 0

    async def execute(self, *args: Any) -> Any:
        """Run one command (``execute("PTTL", key)``) in the pipeline of this loop turn; raises its error."""
        loop = asyncio.get_running_loop()
        future: asyncio.Future[Any] = loop.create_future()
        self._pending.append((args, future))
        if not self._scheduled:
            self._scheduled = True
            loop.call_soon(self._flush)
        return await future

    async def evalsha(self, sha: str, script: str, keys: list[str], args: list[Any]) -> Any:
        """EVALSHA in the pipeline; on NOSCRIPT (Redis restarted, scripts flushed) one EVAL loads it again."""
        try:
            return await self.execute("EVALSHA", sha, len(keys), *keys, *args)
        except NoScriptError:
            return await self.execute("EVAL", script, len(keys), *keys, *args)

    async def preload(self, *scripts: str) -> None:
        """Load scripts now (on every primary of a cluster), so that first calls need no ``EVAL`` fallback.

        Best effort: with Redis away the fallback still loads them on first use.
        """
        try:
            async with asyncio.timeout(PRELOAD_TIMEOUT_S):
                for script in scripts:
                    await self.redis.script_load(script)
        except (RedisError, OSError, TimeoutError) as exc:
            log.warning("could not preload %d scripts (%s)", len(scripts), type(exc).__name__)

    def _flush(self) -> None:
        self._scheduled = False
        batch, self._pending = self._pending, []
        while batch:
            chunk, batch = batch[:MAX_PIPELINE], batch[MAX_PIPELINE:]
            task = asyncio.get_running_loop().create_task(self._send(chunk))
            self._tasks.add(task)
            task.add_done_callback(self._tasks.discard)

    async def _send(self, calls: list[_Call]) -> None:
        self.round_trips += 1
        self.commands += len(calls)
        try:
            if len(calls) == 1:
                args, future = calls[0]
                result = await self.redis.execute_command(*args)
                if not future.done():
                    future.set_result(result)
                return
            async with self.redis.pipeline(transaction=False) as pipe:
                for args, _ in calls:
                    pipe.execute_command(*args)
                results = await pipe.execute(raise_on_error=False)
        except BaseException as exc:  # every caller gets the failure; cancellation included
            for _, future in calls:
                if not future.done():
                    future.set_exception(exc if isinstance(exc, Exception) else asyncio.CancelledError())
            if not isinstance(exc, Exception):
                raise
            return
        for (_, future), result in zip(calls, results, strict=True):
            if future.done():
                continue
            if isinstance(result, Exception):
                future.set_exception(result)
            else:
                future.set_result(result)
