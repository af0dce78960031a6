"""Live faults against the real child servers: slow readers, dropped subscribers, Redis and database outages."""

from __future__ import annotations

import asyncio
import contextlib
import random
import socket
import time

import pytest
import redis.asyncio as aioredis

from chatserver.protocol import Ack, CloseCode, Error, ErrorCode, Event, Welcome
from tests.live.conftest import ORIGIN, member, session_for, ws

pytestmark = pytest.mark.fault
ROOM = "room:psychosenet:stemmen-horen"


async def _raw_reader_that_never_reads(server, token: str) -> socket.socket:
    """A WebSocket client that completes the handshake and subscribes, then never reads again."""
    import base64
    import os

    sock = socket.create_connection(("127.0.0.1", server.port))
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
    key = base64.b64encode(os.urandom(16)).decode()
    sock.sendall(
        (
            f"GET /ws HTTP/1.1\r\nHost: 127.0.0.1\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
            f"Sec-WebSocket-Key: {key}\r\nSec-WebSocket-Version: 13\r\nOrigin: {ORIGIN}\r\n"
            f"Cookie: gem_session={token}\r\n\r\n"
        ).encode()
    )
    payload = b'{"type":"subscribe","id":1,"channel":"' + ROOM.encode() + b'"}'
    mask = os.urandom(4)
    masked = bytes(b ^ mask[i % 4] for i, b in enumerate(payload))
    await asyncio.sleep(0.3)
    sock.sendall(bytes((0x81, 0x80 | len(payload))) + mask + masked)
    return sock


async def test_a_reader_that_never_reads_is_closed_slow_and_others_keep_receiving(server) -> None:
    writer, fast = member("schrijver"), member("snel")
    tw, tf = await session_for(server, writer), await session_for(server, fast)
    stuck = await _raw_reader_that_never_reads(server, await session_for(server, member("traag")))
    gateway = server.services.lifespan_state["live_gateway"]
    try:
        async with ws(server, tw) as w, ws(server, tf) as f:
            await w.expect(Welcome)
            await f.expect(Welcome)
            await f.subscribe(ROOM)
            await asyncio.sleep(0.3)
            assert len(gateway.connections) == 3
            stuck_conn = next(c for c in gateway.connections if c.actor.pseudonym == "traag")
            text = "x" * 3900
            offsets = []
            deadline = time.monotonic() + 25  # generous: a loaded machine publishes slowly
            while len(gateway.connections) == 3 and time.monotonic() < deadline:
                ack = await w.publish(ROOM, text)
                if isinstance(ack, Error) and ack.code == ErrorCode.RATE_LIMITED:
                    await asyncio.sleep((ack.retry_after_ms or 1) / 1000)
                    continue
                assert isinstance(ack, Ack)
                offsets.append(ack.offset)
                got = await f.expect(Event)
                assert got.offset == ack.offset
            # The stuck one was dropped; its outbox never grew past the bound (+ one frame).
            assert len(gateway.connections) == 2
            ack = await w.publish(ROOM, "nog steeds")
            assert (await f.expect(Event)).offset == ack.offset
        # The server let go of the stuck socket: closed with the slow code, then aborted after the grace.
        async with asyncio.timeout(5):
            while not stuck_conn.lost:
                await asyncio.sleep(0.05)
        assert stuck_conn.closing
    finally:
        stuck.close()


async def test_redis_dropping_our_subscriber_is_noticed_and_the_gap_refilled(server, redis_engine) -> None:
    reader, writer = member("lezer"), member("schrijver")
    tr, tw = await session_for(server, reader), await session_for(server, writer)
    admins = [aioredis.from_url(url) for url in redis_engine.node_urls]
    try:
        async with ws(server, tr) as r, ws(server, tw) as w:
            await r.expect(Welcome)
            await w.expect(Welcome)
            await r.subscribe(ROOM)
            acks = [await w.publish(ROOM, "voor")]
            for admin in admins:
                await admin.execute_command("CLIENT", "KILL", "TYPE", "pubsub")
            acks += [await w.publish(ROOM, f"tijdens {i}") for i in range(5)]
            got = [await r.expect(Event, timeout=8) for _ in range(6)]
            assert [e.offset for e in got] == [a.offset for a in acks]
            assert all(isinstance(a, Ack) for a in acks)
    finally:
        for admin in admins:
            await admin.aclose()


async def test_redis_restart_loses_no_acknowledged_message(server, redis_engine) -> None:
    reader, writer = member("lezer"), member("schrijver")
    tr, tw = await session_for(server, reader), await session_for(server, writer)
    async with ws(server, tr) as r, ws(server, tw) as w:
        await r.expect(Welcome)
        await w.expect(Welcome)
        await r.subscribe(ROOM)
        acked: list[int] = []
        try:
            redis_engine.stop()
            for i in range(5):  # Redis is down: messages are still stored and acknowledged
                reply = await w.publish(ROOM, f"zonder redis {i}")
                if isinstance(reply, Ack):
                    acked.append(reply.offset)
        finally:
            await asyncio.to_thread(redis_engine.start)
        started = time.monotonic()
        reply = await w.publish(ROOM, "na herstart")
        assert isinstance(reply, Ack)
        acked.append(reply.offset)
        seen: list[int] = []
        async with asyncio.timeout(8):
            while acked[-1] not in seen:
                seen.append((await r.expect(Event)).offset)
        assert time.monotonic() - started < 5
        assert set(acked) <= set(seen)
        assert seen == sorted(set(seen))


async def test_database_down_answers_error_within_3s_and_live_delivery_goes_on(server, secantus) -> None:
    reader, writer = member("lezer"), member("schrijver")
    tr, tw = await session_for(server, reader), await session_for(server, writer)
    async with ws(server, tr) as r, ws(server, tw) as w:
        await r.expect(Welcome)
        await w.expect(Welcome)
        await r.subscribe(ROOM)
        stored = await w.publish(ROOM, "opgeslagen")
        assert (await r.expect(Event)).offset == stored.offset
        try:
            secantus.stop()
            started = time.monotonic()
            reply = await w.publish(ROOM, "database weg", client_msg_id="db-down-1")
            assert time.monotonic() - started < 3.2
            assert isinstance(reply, Error) and reply.code == ErrorCode.UNAVAILABLE
            # Presence and typing still flow through Redis; the gateway stays up.
            await w.send(type="ping", id=77)
        finally:
            await asyncio.to_thread(secantus.start)
        async with asyncio.timeout(10):
            while True:
                reply = await w.publish(ROOM, "database weg", client_msg_id="db-down-1")
                if isinstance(reply, Ack):
                    break
                await asyncio.sleep(0.3)
        count = await server.services.db["events"].count_documents({"channel": ROOM, "client_msg_id": "db-down-1"})
        assert count == 1
        assert (await r.expect(Event, where=lambda e: e.offset == reply.offset)).data["text"] == "database weg"
    assert CloseCode.SERVICE_RESTART == 4000


async def test_a_client_retrying_through_a_redis_outage_as_documented_is_never_closed(server, redis_engine) -> None:
    """Twelve messages in flight, each retried after ``retry_after_ms`` with its own client_msg_id (issue 19)."""
    from websockets.exceptions import ConnectionClosed

    writer = member("volhouder")
    in_flight = {i: f"outage-{i}" for i in range(1, 13)}
    acked: dict[str, Ack] = {}
    refusals = 0
    retry_at: dict[int, float] = {}

    async with ws(server, await session_for(server, writer)) as w:
        await w.expect(Welcome)

        async def send(rid: int) -> None:
            body = {"text": f"bericht {rid}"}
            await w.send(type="publish", id=rid, channel=ROOM, client_msg_id=in_flight[rid], body=body)

        async def pump(until: float) -> None:
            nonlocal refusals
            while time.monotonic() < until and len(acked) < len(in_flight):
                now = time.monotonic()
                for rid, at in list(retry_at.items()):
                    if at <= now:
                        del retry_at[rid]
                        await send(rid)
                try:
                    frame = await w.recv(timeout=0.1)
                except TimeoutError:
                    continue
                if isinstance(frame, Error):
                    assert frame.code == ErrorCode.UNAVAILABLE and frame.retry_after_ms, frame
                    refusals += 1
                    retry_at[frame.id] = time.monotonic() + frame.retry_after_ms / 1000
                elif isinstance(frame, Ack):
                    acked[frame.client_msg_id] = frame

        try:
            redis_engine.stop()
            for rid in in_flight:
                await send(rid)
            outage_end = time.monotonic() + 12
            while time.monotonic() < outage_end and refusals <= 80 and len(acked) < len(in_flight):
                await pump(min(outage_end, time.monotonic() + 0.5))
        except ConnectionClosed:
            rcvd = w.conn.protocol.close_rcvd
            pytest.fail(f"closed during the outage with {rcvd.code if rcvd else None} after {refusals} refusals")
        finally:
            await asyncio.to_thread(redis_engine.start)
        assert refusals > 50  # more than the abuse limit, within about 10 s
        try:
            await pump(time.monotonic() + 20)
        except ConnectionClosed:
            rcvd = w.conn.protocol.close_rcvd
            pytest.fail(f"closed after the outage with {rcvd.code if rcvd else None}")
        assert set(acked) == set(in_flight.values())
        assert w.conn.protocol.close_rcvd is None
    events = server.services.db["events"]
    for cmid in in_flight.values():
        stored = 0 if acked[cmid].held else 1  # a line held for a moderator is not an event (yet)
        assert await events.count_documents({"channel": ROOM, "client_msg_id": cmid}) == stored


def _masked_text(payload: bytes) -> bytes:
    import os

    mask = os.urandom(4)
    return bytes((0x81, 0x80 | len(payload))) + mask + bytes(b ^ mask[i % 4] for i, b in enumerate(payload))


async def _raw_subscriber(server, token: str, channels: tuple[str, ...]) -> socket.socket:  # type: ignore[no-untyped-def]
    """A raw WebSocket client subscribed to ``channels`` that reads nothing after the handshake."""
    import base64
    import os

    sock = socket.create_connection(("127.0.0.1", server.port))
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
    key = base64.b64encode(os.urandom(16)).decode()
    sock.sendall(
        (
            f"GET /ws HTTP/1.1\r\nHost: 127.0.0.1\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
            f"Sec-WebSocket-Key: {key}\r\nSec-WebSocket-Version: 13\r\nOrigin: {ORIGIN}\r\n"
            f"Cookie: gem_session={token}\r\n\r\n"
        ).encode()
    )
    await asyncio.sleep(0.2)
    for i, channel in enumerate(channels):
        sock.sendall(_masked_text(b'{"type":"subscribe","id":%d,"channel":"%s"}' % (i + 1, channel.encode())))
    return sock


async def test_many_normal_listeners_beside_slow_and_reset_ones_receive_everything(server) -> None:
    """Slow readers are closed 4001 and reset sockets vanish; nobody else misses a frame or a close (issue 19)."""
    import struct

    from websockets.exceptions import ConnectionClosed

    rooms = (ROOM, "room:psychosenet:naasten")
    normal_count, slow_count, reset_count, messages = 30, 4, 6, 240
    async with contextlib.AsyncExitStack() as stack:
        listeners = []
        for _ in range(normal_count):
            client = await stack.enter_async_context(ws(server, await session_for(server, member())))
            await client.expect(Welcome)
            for room in rooms:
                await client.subscribe(room)
            listeners.append(client)
        raw: list[socket.socket] = []
        for _ in range(slow_count + reset_count):
            raw.append(await _raw_subscriber(server, await session_for(server, member()), rooms))
        stack.callback(lambda: [s.close() for s in raw])
        gateway = server.services.lifespan_state["live_gateway"]
        writer = await stack.enter_async_context(ws(server, await session_for(server, member("schrijver"))))
        await writer.expect(Welcome)
        await asyncio.sleep(0.5)

        received: list[dict[str, list[int]]] = [{room: [] for room in rooms} for _ in listeners]
        closed: list[int | None] = []

        async def read(i: int, client) -> None:  # type: ignore[no-untyped-def]
            try:
                while True:
                    frame = await client.recv(60)
                    if isinstance(frame, Event) and frame.kind == "message" and frame.data["sender"] == "schrijver":
                        received[i][frame.channel].append(frame.offset)
            except ConnectionClosed:
                rcvd = client.conn.protocol.close_rcvd
                closed.append(rcvd.code if rcvd else None)

        readers = [asyncio.create_task(read(i, c)) for i, c in enumerate(listeners)]
        acked: dict[str, list[int]] = {room: [] for room in rooms}
        vocab = ("vandaag", "morgen", "wandelen", "koffie", "boek", "fiets", "regen", "zon", "tuin", "muziek", "trein")
        rng = random.Random(19)
        sent = 0
        while sent < messages:  # windows of 20 publishes in flight, alternating rooms
            if sent >= messages // 3 and raw[slow_count:]:  # the reset ones vanish abruptly (RST) mid-stream
                for sock in raw[slow_count:]:
                    sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
                    sock.close()
                del raw[slow_count:]
            window = range(sent, min(sent + 20, messages))
            texts = {n: " ".join(rng.choices(vocab, k=640))[:3990] + f" {n}" for n in window}  # near the cap
            for n in window:
                await writer.send(
                    type="publish", id=n + 1, channel=rooms[n % 2], client_msg_id=f"m-{n}", body={"text": texts[n]}
                )
            acks: dict[int, Ack] = {}
            async with asyncio.timeout(60):
                while len(acks) < len(window):
                    reply = await writer.expect((Ack, Error))  # type: ignore[arg-type]
                    if isinstance(reply, Error) and reply.code == ErrorCode.RATE_LIMITED:  # wait as told, retry
                        await asyncio.sleep((reply.retry_after_ms or 1) / 1000)
                        n = reply.id - 1
                        body = {"text": texts[n]}
                        await writer.send(
                            type="publish", id=n + 1, channel=rooms[n % 2], client_msg_id=f"m-{n}", body=body
                        )
                        continue
                    assert isinstance(reply, Ack), reply
                    acks[reply.id] = reply
            for n in window:
                if not acks[n + 1].held:  # a screener may hold a line for a moderator: it is not delivered
                    acked[rooms[n % 2]].append(acks[n + 1].offset)
            sent += len(window)
        for room in rooms:  # a message refused with 4204 and sent again is stored after the ones sent meanwhile
            acked[room].sort()
        async with asyncio.timeout(20):
            while any(received[i][room][-1:] != acked[room][-1:] for i in range(normal_count) for room in rooms):
                if closed:
                    break
                await asyncio.sleep(0.05)
        for task in readers:
            task.cancel()
        assert closed == [], f"normal listeners were closed: {closed}"
        assert sum(map(len, acked.values())) > messages // 2
        assert len(gateway.connections) == normal_count + 1  # the slow ones were closed, the reset ones are gone
        for i in range(normal_count):
            for room in rooms:
                assert received[i][room] == acked[room], (i, room)
