"""Reconnecting with the last position replays exactly what was missed; retries never duplicate."""

from __future__ import annotations

from chatserver.protocol import Ack, Event, Reload, Subscribed, Welcome
from tests.live.conftest import member, session_for, ws

ROOM = "room:psychosenet:naasten"


async def test_reconnect_with_since_replays_missed_events_in_order_without_duplicates(server) -> None:
    # Nobody else listens: the channel closes while the reader is away and the replay comes from the store.
    before = _gateway(server).replays_from_memory
    reader, writer = member("lezer"), member("schrijver")
    tr, tw = await session_for(server, reader), await session_for(server, writer)
    async with ws(server, tw) as w:
        await w.expect(Welcome)
        async with ws(server, tr) as r:
            await r.expect(Welcome)
            await r.subscribe(ROOM)
            first = [await w.publish(ROOM, f"voor {i}") for i in range(3)]
            seen = [await r.expect(Event) for _ in range(3)]
            assert [e.offset for e in seen] == [a.offset for a in first]
            last = {"offset": seen[-1].offset, "epoch": seen[-1].epoch}
        missed = [await w.publish(ROOM, f"gemist {i}") for i in range(4)]
        async with ws(server, tr) as r:
            await r.expect(Welcome)
            sub = await r.subscribe(ROOM, since=last)
            assert isinstance(sub, Subscribed) and sub.replay == 4
            replayed = [await r.expect(Event) for _ in range(4)]
            assert [e.offset for e in replayed] == [a.offset for a in missed]
            assert [e.data["text"] for e in replayed] == [f"gemist {i}" for i in range(4)]
            live = await w.publish(ROOM, "live")
            nxt = await r.expect(Event)
            assert nxt.offset == live.offset
            assert sub.position.offset == missed[-1].offset
    assert _gateway(server).replays_from_memory == before


async def test_retry_with_same_client_msg_id_returns_the_original_ack(server) -> None:
    async with ws(server, await session_for(server, member())) as c:
        await c.expect(Welcome)
        first = await c.publish(ROOM, "één keer", client_msg_id="retry-1")
        again = await c.publish(ROOM, "één keer", client_msg_id="retry-1")
        assert isinstance(first, Ack) and isinstance(again, Ack)
        assert again.offset == first.offset and again.duplicate and not first.duplicate
    stored = await server.services.db["events"].count_documents({"channel": ROOM, "client_msg_id": "retry-1"})
    assert stored == 1


async def test_wrong_epoch_gets_reload(server) -> None:
    async with ws(server, await session_for(server, member())) as c:
        await c.expect(Welcome)
        await c.publish(ROOM, "iets")
        sub = await c.subscribe(ROOM, since={"offset": 1, "epoch": "other-epoch"})
        assert isinstance(sub, Subscribed)
        reload = await c.expect(Reload)
        assert reload.reason == "epoch_changed" and reload.position == sub.position


def _gateway(server):
    from chatserver.live.frontdoor import GATEWAY_STATE_KEY

    return server.services.lifespan_state[GATEWAY_STATE_KEY]


async def test_a_channel_still_open_here_replays_from_memory_exactly_as_the_store_would(server) -> None:
    stayer, reader, writer = member("blijver"), member("lezer"), member("schrijver")
    ts, tr, tw = [await session_for(server, a) for a in (stayer, reader, writer)]
    gateway = _gateway(server)
    async with ws(server, tw) as w, ws(server, ts) as s:
        await w.expect(Welcome)
        await s.expect(Welcome)
        await s.subscribe(ROOM)  # keeps the channel open in this process while the reader is away
        async with ws(server, tr) as r:
            await r.expect(Welcome)
            await r.subscribe(ROOM)
            await w.publish(ROOM, "voor")
            seen = await r.expect(Event)
            last = {"offset": seen.offset, "epoch": seen.epoch}
        missed = [await w.publish(ROOM, f"gemist {i}") for i in range(5)]
        for _ in missed:
            await s.expect(Event)
        before = gateway.replays_from_memory
        async with ws(server, tr) as r:
            await r.expect(Welcome)
            sub = await r.subscribe(ROOM, since=last)
            assert isinstance(sub, Subscribed) and sub.replay == 5
            replayed = [await r.expect(Event) for _ in range(5)]
            live = await w.publish(ROOM, "live")
            nxt = await r.expect(Event)
        assert gateway.replays_from_memory == before + 1
        assert [e.offset for e in replayed] == [a.offset for a in missed]
        assert [e.data["text"] for e in replayed] == [f"gemist {i}" for i in range(5)]
        assert sub.position.offset == missed[-1].offset
        assert nxt.offset == live.offset  # live follows, nothing twice
        stored = await server.services.chat.read_after(ROOM, last["offset"], 100)
        assert [o for o, _ in stored][:5] == [a.offset for a in missed]


async def test_a_refused_replay_leaves_no_presence_behind(server, monkeypatch) -> None:
    """The store cannot be read for the replay: the subscribe is refused and the reader is not listed present."""
    from chatserver.protocol import Error, ErrorCode

    reader, writer = member("lezer"), member("schrijver")
    tr, tw = await session_for(server, reader), await session_for(server, writer)
    presence = _gateway(server).channel_presence.store
    async with ws(server, tw) as w:
        await w.expect(Welcome)
        async with ws(server, tr) as r:
            await r.expect(Welcome)
            await r.subscribe(ROOM)
            first = await w.publish(ROOM, "voor")
            seen = await r.expect(Event)
            assert seen.offset == first.offset
            last = {"offset": seen.offset, "epoch": seen.epoch}
        await w.publish(ROOM, "gemist")
        assert await presence.count(ROOM) == 0

        async def unreadable(*_: object, **__: object) -> list[tuple[int, bytes]]:
            raise TimeoutError

        monkeypatch.setattr(server.services.chat, "read_after", unreadable)
        async with ws(server, tr) as r:
            await r.expect(Welcome)
            refused = await r.subscribe(ROOM, since=last)
            assert isinstance(refused, Error) and refused.code == ErrorCode.UNAVAILABLE
            assert await presence.count(ROOM) == 0  # while the connection is still open
