"""Per-connection, per-channel FIFO: one connection's publishes on one channel get offsets in send order."""

from __future__ import annotations

import asyncio
import contextlib
import secrets

import pytest

from chatserver.protocol import Ack, Error, ErrorCode, Event, Welcome
from tests.live.conftest import member, session_for, ws

ROOMS = ("room:psychosenet:stemmen-horen", "room:psychosenet:naasten")
IN_FLIGHT = 40
WAIT_S = 30.0


def _refused(n: int) -> bool:
    """Every seventh publish is empty: refused at once (4206), while the ones before it are still on their way."""
    return n % 7 == 3


async def _pipeline(client, channel: str, tag: str, count: int) -> None:  # type: ignore[no-untyped-def]
    """Send ``count`` publishes without waiting for any answer."""
    for n in range(count):
        await client.send(
            type="publish",
            id=n + 1,
            channel=channel,
            client_msg_id=f"{tag}-{n}-{secrets.token_hex(3)}",
            body={"text": "   " if _refused(n) else f"{tag} {n}"},
        )


async def _answers(client, count: int) -> int:  # type: ignore[no-untyped-def]
    """Wait for ``count`` acks and refusals; the number of acks."""
    acks = refusals = 0
    async with asyncio.timeout(WAIT_S):
        while acks + refusals < count:
            frame = await client.recv(WAIT_S)
            if isinstance(frame, Error):
                assert frame.code == ErrorCode.INVALID_MESSAGE and _refused(frame.id - 1), frame
                refusals += 1
            elif isinstance(frame, Ack):
                assert not frame.held, frame
                acks += 1
    return acks


@pytest.mark.parametrize("publishers", [4])
async def test_every_subscriber_sees_each_publishers_messages_in_send_order(server, publishers: int) -> None:
    """Several publishers, each with IN_FLIGHT publishes in flight per channel, on two channels at once."""
    async with contextlib.AsyncExitStack() as stack:
        listeners = []
        for _ in range(3):
            client = await stack.enter_async_context(ws(server, await session_for(server, member())))
            await client.expect(Welcome)
            for room in ROOMS:
                await client.subscribe(room)
            listeners.append(client)
        senders = []
        for k in range(publishers):
            client = await stack.enter_async_context(ws(server, await session_for(server, member(f"p{k}"))))
            await client.expect(Welcome)
            senders.append(client)
        # Every publisher sends on both channels, interleaved, without waiting: 2 × IN_FLIGHT in flight each.
        await asyncio.gather(
            *(_pipeline(c, room, f"p{k}{room[-3:]}", IN_FLIGHT) for k, c in enumerate(senders) for room in ROOMS)
        )
        kept = [n for n in range(IN_FLIGHT) if not _refused(n)]
        for client in senders:
            assert await _answers(client, IN_FLIGHT * len(ROOMS)) == len(kept) * len(ROOMS)
        total = publishers * len(kept) * len(ROOMS)
        for listener in listeners:
            texts: dict[str, list[str]] = {room: [] for room in ROOMS}
            offsets: dict[str, list[int]] = {room: [] for room in ROOMS}
            async with asyncio.timeout(WAIT_S):
                while sum(map(len, texts.values())) < total:
                    event = await listener.expect(Event)
                    texts[event.channel].append(event.data["text"])
                    offsets[event.channel].append(event.offset)
            for room in ROOMS:
                assert offsets[room] == sorted(offsets[room])
                for k in range(publishers):
                    tag = f"p{k}{room[-3:]}"
                    mine = [int(t.split()[1]) for t in texts[room] if t.split()[0] == tag]
                    assert mine == kept, (room, tag, mine)
