"""A member subscribes to a room, publishes, and every subscriber gets the event once, in order."""

from __future__ import annotations

from chatserver.protocol import Ack, Event, Subscribed, Welcome
from tests.live.conftest import member, session_for, ws

ROOM = "room:psychosenet:stemmen-horen"


async def test_publish_reaches_every_subscriber_once_in_order(server) -> None:
    alice, bob = member("alice"), member("bob")
    ta, tb = await session_for(server, alice), await session_for(server, bob)
    async with ws(server, ta) as a, ws(server, tb) as b:
        assert isinstance(await a.expect(Welcome), Welcome)
        await b.expect(Welcome)
        sa = await a.subscribe(ROOM)
        sb = await b.subscribe(ROOM)
        assert isinstance(sa, Subscribed) and isinstance(sb, Subscribed)
        acks = [await a.publish(ROOM, f"bericht {i}") for i in range(5)]
        assert all(isinstance(x, Ack) for x in acks)
        offsets = [x.offset for x in acks]
        assert offsets == list(range(offsets[0], offsets[0] + 5))
        got = [await b.expect(Event) for _ in range(5)]
        assert [e.offset for e in got] == offsets
        assert [e.data["text"] for e in got] == [f"bericht {i}" for i in range(5)]
        assert got[0].data["sender"] == "alice"
