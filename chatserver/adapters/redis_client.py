"""The one redis-py asyncio client of a process, and its health check."""

from __future__ import annotations

import asyncio
from typing import Any

import redis.asyncio as aioredis
from redis.asyncio.connection import BlockingConnectionPool
from redis.asyncio.retry import Retry
from redis.backoff import ExponentialBackoff
from redis.exceptions import ConnectionError as RedisConnectionError
from redis.exceptions import RedisError

MAX_CONNECTIONS = 64
POOL_WAIT_S = 5.0
HEALTH_TIMEOUT_S = 1.5

Redis = aioredis.Redis


def is_cluster_url(url: str) -> bool:
    return url.startswith("redis+cluster://")


def open_redis(url: str) -> aioredis.Redis:
    """A client on a *blocking* pool: at the cap, callers wait instead of failing."""
    # After a Redis restart every pooled connection is stale; one quick retry on a
    # fresh connection hides that instead of failing one request per stale connection.
    pool = BlockingConnectionPool.from_url(
        url,
        max_connections=MAX_CONNECTIONS,
        timeout=POOL_WAIT_S,
        socket_connect_timeout=2.0,
        socket_timeout=5.0,
        health_check_interval=15,
        retry=Retry(ExponentialBackoff(cap=0.2, base=0.02), retries=2),
        retry_on_error=[RedisConnectionError],
    )
    return aioredis.Redis(connection_pool=pool)


async def redis_health(client: aioredis.Redis) -> dict[str, Any]:
    try:
        async with asyncio.timeout(HEALTH_TIMEOUT_S):
            info = await client.info("server")
        return {"reachable": True, "version": str(info.get("valkey_version") or info.get("redis_version", ""))}
    except (RedisError, OSError, TimeoutError) as exc:
        return {"reachable": False, "error": type(exc).__name__}
