"""Floor peer: the least a Python server can do per delivery — a raw asyncio protocol on uvloop.

No framework, no authentication, no persistence, no rate limits, no
moderation: an HTTP upgrade parsed by hand, client frames unmasked by hand,
one Redis subscription per room, each event frame built once and written with
``transport.write`` to every local socket. Offsets come from a Redis counter.
It speaks the subset of protocol v1 the benchmark uses (welcome, subscribe,
publish → ack, event, ping). Its server CPU per delivery is the floor our
server is compared against in the same run: what is left once everything but
the ``write`` per socket is gone (docs/benchmark.md).
Run: ``python -m loadtest.peers.bare_server --port P --redis-url URL``.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import logging
import time
from collections.abc import Coroutine
from typing import Any

import uvloop
from redis.asyncio import Redis

from chatserver.protocol import (
    Ack,
    MessageData,
    Ping,
    Position,
    PresenceSnapshot,
    Publish,
    Subscribe,
    Subscribed,
    decode_client_frame,
    encode_frame,
    message_event,
)
from loadtest.peers.v1 import EPOCH, LIMITS, WELCOME
from loadtest.wire import accept_for, apply_mask

log = logging.getLogger("loadtest.bare_peer")
MAX_FRAME = LIMITS.max_frame_bytes


def text_frame(payload: bytes) -> bytes:
    """One final, unmasked text frame (server frames are the same bytes for every socket)."""
    n = len(payload)
    if n < 126:
        return bytes((0x81, n)) + payload
    return bytes((0x81, 126)) + n.to_bytes(2, "big") + payload


class Peer:
    def __init__(self, redis: Redis, prefix: str) -> None:
        self.redis = redis
        self.prefix = prefix
        self.pubsub = redis.pubsub(ignore_subscribe_messages=True)
        self.members: dict[bytes, set[asyncio.Transport]] = {}
        self.tasks: set[asyncio.Task[None]] = set()
        self.welcome = text_frame(WELCOME)

    def spawn(self, coro: Coroutine[Any, Any, None]) -> asyncio.Task[None]:
        task = asyncio.get_running_loop().create_task(coro)
        self.tasks.add(task)
        task.add_done_callback(self.tasks.discard)
        return task

    async def read(self) -> None:
        # Opened before the first subscribe: concurrent first subscribes lose messages.
        await self.pubsub.subscribe(f"{self.prefix}ping")
        while True:
            message = await self.pubsub.get_message(timeout=1.0)
            if message is None:
                continue
            local = self.members.get(message["channel"])
            if not local:
                continue
            frame = text_frame(message["data"])
            for transport in local:
                transport.write(frame)

    async def subscribe(self, transport: asyncio.Transport, frame: Subscribe) -> None:
        key = (self.prefix + frame.channel).encode()
        local = self.members.get(key)
        if local is None:
            local = self.members[key] = set()
            await self.pubsub.subscribe(key)
        local.add(transport)
        head = int(await self.redis.get(f"{self.prefix}offset:{frame.channel}") or 0)
        subscribed = Subscribed(id=frame.id, channel=frame.channel, position=Position(offset=head, epoch=EPOCH),
                                presence=PresenceSnapshot(count=0))  # fmt: skip
        transport.write(text_frame(encode_frame(subscribed)))

    async def publish(self, transport: asyncio.Transport, frame: Publish) -> None:
        offset = int(await self.redis.incr(f"{self.prefix}offset:{frame.channel}"))
        data = MessageData(sender="peer", text=frame.body.text)
        event = message_event(frame.channel, offset, EPOCH, data, int(time.time() * 1000))
        await self.redis.publish(self.prefix + frame.channel, event)
        ack = Ack(id=frame.id, client_msg_id=frame.client_msg_id, channel=frame.channel, offset=offset, epoch=EPOCH)
        if not transport.is_closing():
            transport.write(text_frame(encode_frame(ack)))

    def leave(self, transport: asyncio.Transport) -> None:
        for local in self.members.values():
            local.discard(transport)


class Connection(asyncio.Protocol):
    def __init__(self, peer: Peer) -> None:
        self.peer = peer
        self.transport: asyncio.Transport | None = None
        self.buf = b""
        self.open = False
        self.last: asyncio.Task[None] | None = None  # frames of one connection are handled in order

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self.transport = transport  # type: ignore[assignment]

    def connection_lost(self, exc: Exception | None) -> None:
        if self.transport is not None:
            self.peer.leave(self.transport)

    def data_received(self, data: bytes) -> None:
        assert self.transport is not None
        self.buf += data
        if not self.open:
            end = self.buf.find(b"\r\n\r\n")
            if end < 0:
                if len(self.buf) > 16384:
                    self.transport.close()
                return
            head, self.buf = self.buf[:end], self.buf[end + 4 :]
            key = b""
            for line in head.split(b"\r\n")[1:]:
                name, _, value = line.partition(b":")
                if name.strip().lower() == b"sec-websocket-key":
                    key = value.strip()
            if not key:
                self.transport.write(b"HTTP/1.1 200 OK\r\nContent-Length: 4\r\nConnection: close\r\n\r\npeer")
                self.transport.close()
                return
            accept = accept_for(key.decode("latin-1")).encode()
            self.transport.write(
                b"HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
                b"Sec-WebSocket-Accept: " + accept + b"\r\n\r\n" + self.peer.welcome
            )
            self.open = True
        self._frames()

    def _frames(self) -> None:
        assert self.transport is not None
        buf = self.buf
        pos = 0
        while len(buf) - pos >= 6:
            b0, b1 = buf[pos], buf[pos + 1]
            n = b1 & 0x7F
            start = pos + 2
            if n == 126:
                if len(buf) - pos < 8:
                    break
                n = int.from_bytes(buf[start : start + 2], "big")
                start += 2
            elif n == 127:
                self.transport.close()
                return
            if n > MAX_FRAME or not b1 & 0x80:
                self.transport.close()
                return
            if len(buf) < start + 4 + n:
                break
            payload = apply_mask(buf[start + 4 : start + 4 + n], buf[start : start + 4])
            pos = start + 4 + n
            self._on_frame(b0 & 0x0F, payload)
        self.buf = buf[pos:]

    def _on_frame(self, opcode: int, payload: bytes) -> None:
        assert self.transport is not None
        if opcode == 0x8:
            self.transport.write(b"\x88\x02\x03\xe8")
            self.transport.close()
            return
        if opcode == 0x9:
            self.transport.write(bytes((0x8A, len(payload))) + payload)
            return
        if opcode != 0x1:
            return
        frame = decode_client_frame(payload)
        if type(frame) is Publish:
            self.last = self.peer.spawn(self._after(self.last, self.peer.publish(self.transport, frame)))
        elif type(frame) is Subscribe:
            self.last = self.peer.spawn(self._after(self.last, self.peer.subscribe(self.transport, frame)))
        elif type(frame) is Ping:
            self.transport.write(text_frame(b'{"type":"pong"}'))

    @staticmethod
    async def _after(previous: asyncio.Task[None] | None, step: Coroutine[Any, Any, None]) -> None:
        if previous is not None and not previous.done():
            with contextlib.suppress(Exception):
                await previous
        try:
            await step
        except Exception:
            log.exception("peer frame failed")


async def serve(host: str, port: int, redis_url: str, prefix: str) -> None:
    redis = Redis.from_url(redis_url)
    peer = Peer(redis, prefix)
    reader = asyncio.create_task(peer.read())
    server = await asyncio.get_running_loop().create_server(lambda: Connection(peer), host, port, backlog=4096)
    try:
        await server.serve_forever()
    finally:
        reader.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await reader
        await redis.aclose()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--redis-url", required=True)
    parser.add_argument("--prefix", default="ltbs:")
    args = parser.parse_args()
    if args.host != "127.0.0.1":
        parser.error("only 127.0.0.1")
    logging.basicConfig(level=logging.WARNING)
    with contextlib.suppress(KeyboardInterrupt):
        uvloop.run(serve(args.host, args.port, args.redis_url, args.prefix))


if __name__ == "__main__":
    main()
