"""The auto-pipeline against a real Valkey: one round trip per loop turn, each caller its own answer."""

import asyncio

import pytest
from redis.exceptions import ResponseError

from chatserver.adapters.redis_batch import AutoPipeline
from chatserver.adapters.redis_broker import AccountRateLimiter
from chatserver.adapters.redis_client import open_redis


@pytest.fixture
async def redis(redis_engine):
    client = open_redis(redis_engine.url)
    yield client
    await client.aclose()


async def test_calls_in_one_loop_turn_share_one_round_trip(redis):
    batch = AutoPipeline(redis)
    await redis.set("rb:a", "1")
    results = await asyncio.gather(*(batch.execute("INCR", "rb:a") for _ in range(20)), batch.execute("GET", "rb:a"))
    assert sorted(results[:20]) == list(range(2, 22))
    assert results[20] == b"21"  # in issue order: the GET went after the twenty INCRs
    assert batch.round_trips == 1
    assert batch.commands == 21
    await redis.delete("rb:a")


async def test_a_failing_command_fails_only_its_caller(redis):
    batch = AutoPipeline(redis)
    await redis.set("rb:text", "abc")
    good, bad = await asyncio.gather(batch.execute("GET", "rb:text"), batch.execute("INCR", "rb:text"),
                                     return_exceptions=True)  # fmt: skip
    assert good == b"abc"
    assert isinstance(bad, ResponseError)
    await redis.delete("rb:text")


async def test_a_flushed_script_is_loaded_again(redis):
    batch = AutoPipeline(redis)
    limiter = AccountRateLimiter(redis, "rb:", per_s=1.0, burst=1, batch=batch)
    assert await limiter.retry_after_ms("acc") == 0
    await redis.script_flush()
    # The script runs although Redis forgot it: within the burst the next calls are refused, not failed open.
    waits = [await limiter.retry_after_ms("acc") for _ in range(3)]
    assert waits[-1] > 0
    await redis.delete("rb:rl:publish:acc")


async def test_every_caller_hears_of_a_lost_connection(valkey):
    client = open_redis("redis://127.0.0.1:1")  # nothing listens there
    batch = AutoPipeline(client)
    results = await asyncio.gather(*(batch.execute("PING") for _ in range(3)), return_exceptions=True)
    assert all(isinstance(r, Exception) for r in results)
    await client.aclose()


async def test_preloaded_scripts_are_there_before_their_first_call(redis, caplog):
    batch = AutoPipeline(redis)
    await redis.script_flush()
    (gcra,) = AccountRateLimiter.HOT_SCRIPTS
    sha = redis.register_script(gcra).sha
    assert await redis.script_exists(sha) == [False]
    await batch.preload(gcra)
    assert await redis.script_exists(sha) == [True]  # on a cluster: on every primary

    away = AutoPipeline(open_redis("redis://127.0.0.1:1"))
    await away.preload(gcra)  # best effort: a warning, no exception
    assert "could not preload 1 scripts" in caplog.text
    await away.redis.aclose()
