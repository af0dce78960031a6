"""Fifty simultaneous logins queue for the argon2 pool instead of stalling the event loop."""

from __future__ import annotations

import asyncio
import gc
import secrets
import time

import httpx

from chatserver.services.identity import IdentityService

from ..conftest import RunningServer
from ..integration.test_api_identity import PASSWORD

LOGINS = 50
MAX_LAG_S = 0.25
TICK_S = 0.01


async def test_fifty_logins_do_not_stall_the_loop(server: RunningServer) -> None:
    identity: IdentityService = server.services.identity
    password_hash = await identity.passwords.hash(PASSWORD)
    names = [f"last{secrets.token_hex(4)}" for _ in range(LOGINS)]
    from chatserver.domain.accounts import skeleton

    await server.services.db["accounts"].insert_many(
        [
            {"_id": secrets.token_hex(16), "pseudonym": n, "pseudonym_key": skeleton(n), "kind": "member",
             "password_hash": password_hash, "validated": False, "verified": False}
            for n in names
        ]
    )  # fmt: skip
    max_lag = 0.0
    stop = asyncio.Event()

    async def ticker() -> None:
        nonlocal max_lag
        while not stop.is_set():
            before = time.perf_counter()
            await asyncio.sleep(TICK_S)
            max_lag = max(max_lag, time.perf_counter() - before - TICK_S)

    limits = httpx.Limits(max_connections=LOGINS)
    # What is measured is the logins' own work; a full collection of the garbage the whole test session has
    # piled up in this process (the server runs in it too) would be counted as a stall otherwise. The server
    # in production freezes what start-up built for the same reason (create_app(freeze_after_startup=True)).
    gc.collect()
    gc.disable()
    try:
        async with httpx.AsyncClient(base_url=server.url, timeout=60.0, limits=limits) as client:
            timer = asyncio.ensure_future(ticker())
            started = time.perf_counter()
            results = await asyncio.gather(
                *(client.post("/api/v1/sessions", json={"pseudonym": n, "password": PASSWORD}) for n in names)
            )
            elapsed = time.perf_counter() - started
            stop.set()
            await asyncio.wait_for(timer, 2)
    finally:
        gc.enable()
    assert [r.status_code for r in results] == [200] * LOGINS
    print(f"{LOGINS} logins in {elapsed:.2f} s, max event-loop lag {max_lag * 1000:.0f} ms")
    assert max_lag < MAX_LAG_S
