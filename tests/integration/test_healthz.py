"""`/healthz` reports both engines, and notices when one goes and comes back."""

from __future__ import annotations

import asyncio

import httpx

from chatserver.adapters.embedded import ValkeyCluster, ValkeyServer

from ..conftest import RunningServer


async def test_healthz_ok_names_both_engines(client: httpx.AsyncClient) -> None:
    response = await client.get("/healthz")
    assert response.status_code == 200
    body = response.json()
    assert body["status"] == "ok"
    assert body["redis"]["reachable"] is True
    assert body["redis"]["version"]
    assert body["mongodb"]["reachable"] is True
    assert body["mongodb"]["version"]


async def test_healthz_is_503_while_redis_is_down_and_200_after(
    server: RunningServer, client: httpx.AsyncClient, redis_engine: ValkeyServer | ValkeyCluster
) -> None:
    redis_engine.stop()
    try:
        response = await client.get("/healthz")
        assert response.status_code == 503
        body = response.json()
        assert body["status"] == "unavailable"
        assert body["down"] == ["redis"]
        assert body["redis"]["reachable"] is False
        assert body["mongodb"]["reachable"] is True
    finally:
        redis_engine.start()
    async with asyncio.timeout(10):
        while (await client.get("/healthz")).status_code != 200:
            await asyncio.sleep(0.1)
    assert (await client.get("/healthz")).json()["redis"]["reachable"] is True
