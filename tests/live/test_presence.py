"""Presence over the live protocol: a dead process's entries expire, live connections are kept by their gateway."""

from __future__ import annotations

import asyncio
from dataclasses import replace

import httpx

from chatserver.adapters.redis_broker import PresenceStore
from chatserver.config import Settings
from chatserver.live.frontdoor import GATEWAY_STATE_KEY
from chatserver.protocol import Presence, Subscribed, Welcome
from tests.conftest import run_server
from tests.live.conftest import member, session_for, ws

ROOM = "room:psychosenet:welkom"
PAGE = "/f/psychosenet/chat/welkom/"
EXPIRY_S = 2  # the gateway refreshes every 2/3 s


async def test_a_dead_process_entry_expires_and_live_connections_stay_counted(settings: Settings) -> None:
    async with run_server(replace(settings, presence_expiry_s=EXPIRY_S)) as server:
        # An entry written by a process that was killed since: nobody refreshes it.
        dead = PresenceStore(server.services.redis, settings.redis_key_prefix, EXPIRY_S)
        assert await dead.join(ROOM, "00dead00dead00de", "Spook") == 1
        alice, bob = member("Merel"), member("Vlinder")
        async with ws(server, await session_for(server, alice)) as a:
            await a.expect(Welcome)
            first = await a.subscribe(ROOM)
            assert isinstance(first, Subscribed)
            assert (first.presence.count, first.presence.members) == (2, ["Merel", "Spook"])

            await asyncio.sleep(EXPIRY_S + 0.5)  # Merel's gateway renews her entry; Spook's expires
            async with ws(server, await session_for(server, bob)) as b:
                await b.expect(Welcome)
                second = await b.subscribe(ROOM)
                assert isinstance(second, Subscribed)
                assert (second.presence.count, second.presence.members) == (2, ["Merel", "Vlinder"])
                joined = await a.expect(Presence, where=lambda p: p.action == "join")
                assert (joined.count, joined.pseudonym) == (2, "Vlinder")
                async with httpx.AsyncClient(base_url=server.url, timeout=10) as http:
                    page = await http.get(PAGE)
                assert "<span data-presence>2</span>" in page.text
            left = await a.expect(Presence, where=lambda p: p.action == "leave")
            assert (left.count, left.pseudonym) == (1, "Vlinder")
            # Leaving is not undone by a refresh that follows it.
            await server.services.lifespan_state[GATEWAY_STATE_KEY].refresh_presence()
            assert await dead.snapshot(ROOM, 50) == (1, ["Merel"])
