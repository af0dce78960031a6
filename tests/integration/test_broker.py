"""The pub/sub reader on one Valkey: a restarted reader subscribes again and asks for a refill."""

from __future__ import annotations

import asyncio
import secrets

from chatserver.adapters.embedded import ValkeyServer
from chatserver.adapters.redis_broker import RedisBroker
from chatserver.adapters.redis_client import open_redis


async def test_a_restarted_reader_subscribes_again_and_asks_for_a_refill(valkey: ValkeyServer) -> None:
    redis = open_redis(valkey.url)
    broker = RedisBroker(valkey.url, redis)
    got: list[tuple[bytes, bytes]] = []
    refills: list[set[bytes]] = []

    def start() -> asyncio.Task[None]:
        return asyncio.create_task(broker.run(lambda c, d: got.append((c, d)), refills.append))

    task = start()
    name = f"t{secrets.token_hex(3)}:live:room:psychosenet:welkom"
    try:
        await broker.subscribe(name)
        assert refills == []
        task.cancel()  # the supervisor starts a new reader after a crash
        await asyncio.gather(task, return_exceptions=True)
        task = start()
        async with asyncio.timeout(5):
            while not refills:
                await asyncio.sleep(0.02)
            while await redis.pubsub_numsub(name) != [(name.encode(), 1)]:
                await asyncio.sleep(0.02)
        assert refills == [{name.encode()}]
        await broker.publish(name, b"weer")
        async with asyncio.timeout(5):
            while not got:
                await asyncio.sleep(0.02)
        assert got == [(name.encode(), b"weer")]
    finally:
        task.cancel()
        await asyncio.gather(task, return_exceptions=True)
        await broker.close()
        await redis.aclose()
