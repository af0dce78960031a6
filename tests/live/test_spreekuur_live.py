"""The spreekuur Q&A stream over /ws: approved questions, answers and status changes arrive as "qa" events."""

from __future__ import annotations

import asyncio

import pytest

from chatserver.domain.channels import mod_channel, spreekuur_channel
from chatserver.protocol import Error, Event, Subscribed

from ..integration.content_helpers import member
from ..integration.spreekuur_helpers import host_account, scheduled, seat_key, service
from ..integration.test_oneonone_support import eventually
from .conftest import session_for, ws


async def test_second_visitor_sees_approved_question_and_answer_live(server) -> None:  # type: ignore[no-untyped-def]
    host = await host_account(server)
    doc = await scheduled(server, host)
    svc = service(server)
    channel = spreekuur_channel("psychosenet", doc["_id"])
    async with (
        ws(server, await session_for(server, member())) as watcher,
        ws(server, await session_for(server, host)) as moderator,
    ):
        await watcher.recv()
        await moderator.recv()
        assert isinstance(await watcher.subscribe(channel), Subscribed)
        assert isinstance(await moderator.subscribe(mod_channel("psychosenet")), Subscribed)
        asked = await svc.ask(member(), doc, "Wat kan ik doen tegen piekeren?", False)
        new = await moderator.expect(Event, where=lambda e: e.kind == "spreekuur")
        assert new.data["event"] == "new" and new.data["question"]["text"] == "Wat kan ik doen tegen piekeren?"
        await svc.approve(host, asked.question_id)
        question = await watcher.expect(Event, where=lambda e: e.kind == "qa")
        assert question.data["type"] == "question"
        assert question.data["question"] == {"id": asked.question_id, "text": "Wat kan ik doen tegen piekeren?",
                                             "asker": None, "merged_count": 0, "answer": None}  # fmt: skip
        await svc.open_now(host, doc["_id"])
        status = await watcher.expect(Event, where=lambda e: e.kind == "qa")
        assert status.data["type"] == "status" and status.data["status"] == "live"
        await svc.answer(host, asked.question_id, "Plan een vast piekerkwartier.")
        answer = await watcher.expect(Event, where=lambda e: e.kind == "qa")
        assert answer.data["type"] == "answer" and answer.data["question_id"] == asked.question_id
        assert answer.data["answer"]["text"] == "Plan een vast piekerkwartier."
        assert answer.offset > status.offset > question.offset
        qa_events = [f for f in watcher.seen if isinstance(f, Event) and f.channel == channel]
        assert len(qa_events) == 3  # one event per change, nothing else


async def test_late_visitor_recovers_the_stream_by_offset(server) -> None:  # type: ignore[no-untyped-def]
    host = await host_account(server)
    doc = await scheduled(server, host)
    svc = service(server)
    channel = spreekuur_channel("psychosenet", doc["_id"])
    position = await svc.position(doc)
    first = await svc.ask(member(), doc, "Eerste vraag over slaap", False)
    second = await svc.ask(member(), doc, "Tweede vraag over slaap", False)
    await svc.approve(host, first.question_id)
    await svc.approve(host, second.question_id)
    async with ws(server, await session_for(server, member())) as late:
        await late.recv()
        subscribed = await late.subscribe(channel, since=position)
        assert isinstance(subscribed, Subscribed) and subscribed.replay == 2
        replayed = [await late.expect(Event), await late.expect(Event)]
        assert [e.data["question"]["id"] for e in replayed] == [first.question_id, second.question_id]
    async with ws(server, await session_for(server, member())) as other:
        await other.recv()
        response = await other.subscribe(channel)
        assert isinstance(response, Subscribed)
    stream = await server.services.chat.read_after(channel, position["offset"], 10)
    assert len(stream) == 2


async def test_a_full_live_spreekuur_refuses_new_subscribers_only(server) -> None:  # type: ignore[no-untyped-def]
    """Subscribing a live session takes a seat; past the capacity a new visitor gets 4202, holders and staff do not."""
    host = await host_account(server)
    doc = await scheduled(server, host, capacity=1)
    svc = service(server)
    channel = spreekuur_channel("psychosenet", doc["_id"])
    holder, latecomer, early = member(), member(), member()
    async with ws(server, await session_for(server, early)) as waiting_room:
        await waiting_room.recv()
        # Before the start subscribing only follows; it takes no seat.
        assert isinstance(await waiting_room.subscribe(channel), Subscribed)
        assert await server.services.redis.scard(seat_key(server, doc["_id"])) == 0
    await svc.open_now(host, doc["_id"])
    doc = await svc.repo.get(doc["_id"])
    async with (
        ws(server, await session_for(server, holder)) as first,
        ws(server, await session_for(server, latecomer)) as second,
        ws(server, await session_for(server, host)) as staff_socket,
    ):
        for socket in (first, second, staff_socket):
            await socket.recv()
        assert isinstance(await first.subscribe(channel), Subscribed)
        refused = await second.subscribe(channel)
        assert isinstance(refused, Error) and refused.code == 4202 and refused.channel == channel
        assert isinstance(await staff_socket.subscribe(channel), Subscribed)
        # The refused visitor gets nothing of the stream; the holder does.
        asked = await svc.ask(holder, doc, "Mag ik iets vragen over slaap?", False)
        await svc.approve(host, asked.question_id)
        await first.expect(Event, where=lambda e: e.kind == "qa")
        with pytest.raises(TimeoutError):
            await second.expect(Event, timeout=0.5, where=lambda e: e.channel == channel)
    async with ws(server, await session_for(server, holder)) as again:
        await again.recv()
        assert isinstance(await again.subscribe(channel), Subscribed)  # an asker is never refused again
        assert await server.services.redis.smembers(seat_key(server, doc["_id"])) == {holder.account_id.encode()}
    # Their last connection closed: the seat is free again (decision 0009).
    await eventually(lambda: _seats(server, doc["_id"], set()))


async def _seats(server, sid: str, expected: set[str]) -> bool:  # type: ignore[no-untyped-def]
    members = await server.services.redis.smembers(seat_key(server, sid))
    return {m.decode() for m in members} == expected


async def test_a_seat_is_freed_when_its_holders_last_connection_closes(server) -> None:  # type: ignore[no-untyped-def]
    """Two tabs hold one seat; closing one keeps it, closing the last frees it for the next visitor at once."""
    host = await host_account(server)
    doc = await scheduled(server, host, capacity=1)
    svc = service(server)
    await svc.open_now(host, doc["_id"])
    channel = spreekuur_channel("psychosenet", doc["_id"])
    holder, next_in_line = member(), member()
    holder_token = await session_for(server, holder)
    async with ws(server, holder_token) as tab2:
        await tab2.recv()
        assert isinstance(await tab2.subscribe(channel), Subscribed)
        async with ws(server, holder_token) as tab1:
            await tab1.recv()
            assert isinstance(await tab1.subscribe(channel), Subscribed)
            assert await _seats(server, doc["_id"], {holder.account_id})
            async with ws(server, await session_for(server, next_in_line)) as waiting:
                await waiting.recv()
                assert isinstance(await waiting.subscribe(channel), Error)  # full
        await asyncio.sleep(0.3)  # tab1 closed
        assert await _seats(server, doc["_id"], {holder.account_id})  # one tab is still open
    await eventually(lambda: _seats(server, doc["_id"], set()))
    async with ws(server, await session_for(server, next_in_line)) as seated:
        await seated.recv()
        assert isinstance(await seated.subscribe(channel), Subscribed)
    await eventually(lambda: _seats(server, doc["_id"], set()))  # and given back when they go too
