"""A reconnect storm while publishing goes on: every subscriber ends with every event once, in order."""

from __future__ import annotations

import asyncio
import contextlib
from typing import Any

import msgspec
from websockets.asyncio.client import connect

from chatserver.protocol import Event, Subscribed, Welcome, decode_server_frame
from tests.live.conftest import ORIGIN, WAIT_S, member, session_for, ws

ROOM = "room:psychosenet:naasten"
SUBSCRIBERS = 30
ROUNDS = 3


class Reader:
    def __init__(self, server: Any, token: str) -> None:
        self.server = server
        self.token = token
        self.offsets: list[int] = []
        self.position: dict[str, Any] | None = None
        self.task: asyncio.Task[None] | None = None
        self.subscribed = asyncio.Event()

    async def run(self) -> None:
        headers = {"Cookie": f"gem_session={self.token}"}
        async with connect(self.server.ws_url, origin=ORIGIN, additional_headers=headers, open_timeout=WAIT_S) as c:
            frame: dict[str, Any] = {"type": "subscribe", "id": 1, "channel": ROOM}
            if self.position is not None:
                frame["since"] = self.position
            async for raw in c:
                got = decode_server_frame(raw)
                if isinstance(got, Welcome):
                    await c.send(msgspec.json.encode(frame).decode())
                elif isinstance(got, Subscribed):
                    self.subscribed.set()
                elif isinstance(got, Event) and got.channel == ROOM:
                    self.offsets.append(got.offset)
                    self.position = {"offset": got.offset, "epoch": got.epoch}

    def start(self) -> None:
        self.subscribed.clear()
        self.task = asyncio.create_task(self.run())

    async def drop(self) -> None:
        assert self.task is not None
        self.task.cancel()
        with contextlib.suppress(asyncio.CancelledError, Exception):
            await self.task


async def test_reconnect_storm_delivers_everything_once_in_order(server) -> None:
    token = await session_for(server, member("lezers"))
    readers = [Reader(server, token) for _ in range(SUBSCRIBERS)]
    for r in readers:
        r.start()
    async with asyncio.timeout(15):
        await asyncio.gather(*(r.subscribed.wait() for r in readers))
    acked: list[int] = []
    async with ws(server, await session_for(server, member("schrijver"))) as w:
        await w.expect(Welcome)
        for round_no in range(ROUNDS):
            for i in range(15):
                ack = await w.publish(ROOM, f"ronde {round_no} bericht {i}")
                acked.append(ack.offset)
                if i == 5:  # everybody drops mid-stream and comes back with its position
                    await asyncio.gather(*(r.drop() for r in readers))
                    for r in readers:
                        r.start()
        async with asyncio.timeout(15):
            while any(not r.offsets or r.offsets[-1] < acked[-1] for r in readers):
                await asyncio.sleep(0.05)
    for r in readers:
        await r.drop()
    first = acked[0]
    for r in readers:
        mine = [o for o in r.offsets if o >= first]
        assert len(mine) == len(set(mine)), "an event arrived twice"
        assert mine == sorted(mine), "events arrived out of order"
        assert set(acked) <= set(mine), "an acknowledged event never arrived"
