"""The one redis-py asyncio client of a process, and its health check.

``redis://`` / ``rediss://`` / ``unix://`` URLs give a client on one server;
``redis+cluster://host:port[,host:port...]`` (or ``rediss+cluster://`` for TLS)
gives a Redis Cluster client that finds the other nodes itself. Both wait at
their connection cap instead of failing (redis-py's default pool errors there).
"""

from __future__ import annotations

import asyncio
import contextlib
import contextvars
from collections.abc import AsyncIterator
from typing import Any
from urllib.parse import urlsplit

import redis.asyncio as aioredis
from redis.asyncio.cluster import ClusterNode, ClusterPipeline, RedisCluster
from redis.asyncio.connection import BlockingConnectionPool
from redis.asyncio.retry import Retry
from redis.backoff import ExponentialBackoff
from redis.exceptions import ConnectionError as RedisConnectionError
from redis.exceptions import RedisClusterException, RedisError

from chatserver.adapters.metered import metered_connection
from chatserver.config import CLUSTER_SCHEMES, cluster_nodes

MAX_CONNECTIONS = 64
POOL_WAIT_S = 5.0
HEALTH_TIMEOUT_S = 1.5

Redis = aioredis.Redis | RedisCluster
"""Every service takes this: one server or a cluster, the same commands."""

# What Redis being away looks like: RedisClusterException (not a RedisError) is reading the slot map of an
# unreachable cluster. Callers catch these, never a bare Exception.
REDIS_ERRORS = (RedisError, RedisClusterException, OSError, TimeoutError)


def is_cluster_url(url: str) -> bool:
    return urlsplit(url).scheme in CLUSTER_SCHEMES


def publish_command(redis: Redis) -> str:
    """SPUBLISH on a cluster (the message goes to the channel's shard only), PUBLISH on one server."""
    return "SPUBLISH" if isinstance(redis, RedisCluster) else "PUBLISH"


# Whether the running task already holds a slot of the gate: a pipeline that
# follows a MOVED redirection calls back into ``execute_command``.
_holding = contextvars.ContextVar("redis_cluster_gate_held", default=False)


class BoundedRedisCluster(RedisCluster):
    """A cluster client that waits at its cap instead of raising ``MaxConnectionsError``.

    At most ``max_in_flight`` commands or pipelines run at once; each uses at
    most one connection per node, so no node's pool can run dry. A caller that
    waits longer than ``wait_s`` gets redis-py's ``ConnectionError``, as from
    the blocking pool of the single-server client.

    redis-py reports an unreachable cluster with ``RedisClusterException``,
    which is not a ``RedisError``; it is raised here as ``ConnectionError`` so
    that every caller's "Redis is away" handling applies to a cluster too.
    """

    def __init__(self, *, max_in_flight: int, wait_s: float, **kwargs: Any) -> None:
        super().__init__(max_connections=max_in_flight, **kwargs)
        self._gate = asyncio.Semaphore(max_in_flight)
        self._wait_s = wait_s

    @contextlib.asynccontextmanager
    async def gated(self) -> AsyncIterator[None]:
        """Hold one of the ``max_in_flight`` slots (once per task) and say "Redis is away" as redis-py does."""
        if _holding.get():  # a pipeline following a redirection calls back into execute_command
            yield
            return
        try:
            async with asyncio.timeout(self._wait_s):
                await self._gate.acquire()
        except TimeoutError:
            raise RedisConnectionError("No connection available.") from None
        token = _holding.set(True)
        try:
            # Read the slot map first, under redis-py's lock. Commands that start while
            # the client is (re)initialising otherwise pick nodes from a half-built map:
            # measured with 80 concurrent first commands on a fresh client, 18-50 failed
            # with ConnectionError or AttributeError; with this, none.
            await self.initialize()
            yield
        except RedisClusterException as exc:
            raise RedisConnectionError(str(exc)) from exc
        finally:
            _holding.reset(token)
            self._gate.release()

    async def execute_command(self, *args: Any, **kwargs: Any) -> Any:
        async with self.gated():
            return await super().execute_command(*args, **kwargs)

    def pipeline(self, transaction: Any | None = None, shard_hint: Any | None = None) -> ClusterPipeline:
        if shard_hint:
            return super().pipeline(transaction, shard_hint)  # raises: not supported in a cluster
        # redis-py's own ClusterPipeline leaves the same attribute to its base class.
        return _BoundedPipeline(self, transaction)  # type: ignore[abstract]


class _BoundedPipeline(ClusterPipeline):
    async def execute(self, raise_on_error: bool = True, allow_redirections: bool = True) -> list[Any]:
        client = self.cluster_client
        assert isinstance(client, BoundedRedisCluster)
        async with client.gated():
            return await super().execute(raise_on_error, allow_redirections)


def open_redis(url: str) -> Redis:
    """A client that waits at its connection cap; a cluster client for ``redis+cluster://``."""
    # After a Redis restart every pooled connection is stale; one quick retry on a
    # fresh connection hides that instead of failing one request per stale connection.
    options: dict[str, Any] = {
        "socket_connect_timeout": 2.0,
        "socket_timeout": 5.0,
        "health_check_interval": 15,
        "retry": Retry(ExponentialBackoff(cap=0.2, base=0.02), retries=2),
    }
    if is_cluster_url(url):
        nodes, url_options = cluster_nodes(url)
        return BoundedRedisCluster(
            startup_nodes=[ClusterNode(host, port) for host, port in nodes],
            max_in_flight=MAX_CONNECTIONS,
            wait_s=POOL_WAIT_S,
            **options,
            **url_options,
        )
    pool = BlockingConnectionPool.from_url(
        url, max_connections=MAX_CONNECTIONS, timeout=POOL_WAIT_S, retry_on_error=[RedisConnectionError], **options
    )
    pool.connection_class = metered_connection(pool.connection_class)  # round trips and errors for /metrics
    return aioredis.Redis(connection_pool=pool)


async def redis_health(client: Redis) -> dict[str, Any]:
    try:
        async with asyncio.timeout(HEALTH_TIMEOUT_S):
            info = await client.info("server")
        result = {"reachable": True, "version": str(info.get("valkey_version") or info.get("redis_version", ""))}
        if isinstance(client, RedisCluster):
            async with asyncio.timeout(HEALTH_TIMEOUT_S):
                state = await client.cluster_info()
            result["cluster_state"] = str(state.get("cluster_state", ""))
            result["reachable"] = result["cluster_state"] == "ok"
        return result
    except (RedisError, OSError, TimeoutError) as exc:
        return {"reachable": False, "error": type(exc).__name__}
