"""The cluster client: it waits at its cap instead of failing, and a burst of first commands all succeed."""

from __future__ import annotations

import asyncio
import secrets

import pytest
from redis.asyncio.cluster import ClusterNode
from redis.exceptions import ConnectionError as RedisConnectionError

from chatserver.adapters.embedded import ValkeyCluster
from chatserver.adapters.redis_client import BoundedRedisCluster, open_redis


async def test_a_burst_of_first_commands_on_a_new_client_all_succeed(cluster: ValkeyCluster) -> None:
    # redis-py picks nodes from a half-read slot map when commands start while it
    # initialises; the bounded client reads the map first (18-50 of 80 failed without).
    for _ in range(5):
        client = open_redis(cluster.url)
        tag = secrets.token_hex(3)
        try:
            results = await asyncio.gather(
                *(client.set(f"t{tag}:k{i}", i, px=5000) for i in range(80)), return_exceptions=True
            )
            assert results == [True] * 80
        finally:
            await client.aclose()


async def test_the_cluster_client_waits_at_its_cap_instead_of_failing(cluster: ValkeyCluster) -> None:
    nodes = [ClusterNode("127.0.0.1", n.port) for n in cluster.nodes]
    client = BoundedRedisCluster(startup_nodes=nodes, max_in_flight=2, wait_s=5.0)
    try:
        key = f"t{secrets.token_hex(3)}:leeg"
        # Eight blocking reads of 0.2 s on one node, two at a time: all answer, none errors.
        results = await asyncio.gather(*(client.blpop([key], timeout=0.2) for _ in range(8)))
        assert results == [None] * 8
        assert max(len(node._connections) for node in client.get_nodes()) <= 2
    finally:
        await client.aclose()

    client = BoundedRedisCluster(startup_nodes=nodes, max_in_flight=1, wait_s=0.1)
    try:
        slow = asyncio.create_task(client.blpop([f"t{secrets.token_hex(3)}:leeg"], timeout=1))
        await asyncio.sleep(0.05)
        with pytest.raises(RedisConnectionError, match="No connection available"):
            await client.get("iets")
        assert await slow is None
    finally:
        await client.aclose()
