"""Presence against a real Valkey: entries that nobody refreshes expire, refreshed ones stay, keys get a TTL."""

from __future__ import annotations

import asyncio
import secrets
from collections.abc import AsyncIterator

import pytest

from chatserver.adapters.embedded import ValkeyCluster, ValkeyServer
from chatserver.adapters.redis_broker import PRESENCE_REFRESH_CHUNK, PresenceStore
from chatserver.adapters.redis_client import Redis, open_redis

CHANNEL = "room:psychosenet:welkom"
EXPIRY_S = 0.6  # refresh every 0.2 s


@pytest.fixture
async def redis(redis_engine: ValkeyServer | ValkeyCluster) -> AsyncIterator[Redis]:
    client = open_redis(redis_engine.url)
    yield client
    await client.aclose()


@pytest.fixture
def store(redis: Redis) -> PresenceStore:
    return PresenceStore(redis, f"p{secrets.token_hex(4)}:", expiry_s=EXPIRY_S)


async def test_entries_nobody_refreshes_expire_and_refreshed_ones_stay(store: PresenceStore, redis: Redis) -> None:
    assert store.refresh_s == pytest.approx(EXPIRY_S / 3)
    assert await store.join(CHANNEL, "c1", "Merel") == 1
    assert await store.join(CHANNEL, "c2", "Vlinder") == 2  # c2's process will die: nobody refreshes it
    assert await store.snapshot(CHANNEL, 50) == (2, ["Merel", "Vlinder"])
    ttl_ms = await redis.pttl(store.key(CHANNEL))
    assert 0 < ttl_ms <= EXPIRY_S * 1000

    for _ in range(6):  # 1.2 s: twice the expiry; only c1's process is alive
        await asyncio.sleep(store.refresh_s)
        await store.refresh([(CHANNEL, "c1", "Merel")])
    assert await store.snapshot(CHANNEL, 50) == (1, ["Merel"])
    assert await store.count(CHANNEL) == 1
    assert 0 < await redis.pttl(store.key(CHANNEL)) <= EXPIRY_S * 1000
    # A join and a leave count only the unexpired entries too.
    assert await store.join(CHANNEL, "c3", "Zonnebloem") == 2
    assert await store.leave(CHANNEL, "c3", "Zonnebloem") == 1

    await asyncio.sleep(EXPIRY_S + 0.2)  # now c1's process stopped too
    assert await store.snapshot(CHANNEL, 50) == (0, [])
    assert await redis.exists(store.key(CHANNEL)) == 0  # the abandoned channel's key is gone


async def test_counts_lists_and_leaves_keep_their_meaning(store: PresenceStore) -> None:
    assert await store.snapshot(CHANNEL, 50) == (0, [])
    await store.join(CHANNEL, "a1", "Merel")
    await store.join(CHANNEL, "a2", "Merel")  # one person, two tabs: counted twice, listed once
    assert await store.join(CHANNEL, "b1", "Vlinder: met dubbele punt") == 3
    assert await store.snapshot(CHANNEL, 3) == (3, ["Merel", "Vlinder: met dubbele punt"])
    assert await store.snapshot(CHANNEL, 2) == (3, None)  # above the list limit: a count only
    assert await store.leave(CHANNEL, "zz", "Niemand") == 3  # not there: nothing changes
    assert await store.leave(CHANNEL, "a1", "Merel") == 2
    assert await store.snapshot(CHANNEL, 50) == (2, ["Merel", "Vlinder: met dubbele punt"])
    await store.remove([(CHANNEL, "a2", "Merel"), (CHANNEL, "b1", "Vlinder: met dubbele punt")])
    assert await store.count(CHANNEL) == 0


async def test_refresh_puts_lost_entries_back_in_one_pipeline(store: PresenceStore, redis: Redis) -> None:
    many = PRESENCE_REFRESH_CHUNK * 2 + 7  # more than one script call for one channel
    entries = [(CHANNEL, f"{i:016x}", f"lid-{i}") for i in range(many)]
    entries.append(("room:psychosenet:stemmen-horen", "ffff", "Merel"))
    await redis.script_flush()  # the pipeline loads its script again
    await store.refresh(entries)
    assert await store.snapshot(CHANNEL, 50) == (many, None)
    assert await store.snapshot("room:psychosenet:stemmen-horen", 50) == (1, ["Merel"])
    await redis.delete(store.key(CHANNEL))  # e.g. a Redis restart lost presence
    await store.refresh(entries)
    assert await store.count(CHANNEL) == many
    assert 0 < await redis.pttl(store.key(CHANNEL)) <= EXPIRY_S * 1000
    await store.refresh([])  # nothing held: no round trip, no error
