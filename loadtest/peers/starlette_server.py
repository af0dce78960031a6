"""Gateway question peer: a minimal Starlette WebSocket server under uvicorn, one Redis subscription per room.

It speaks the subset of protocol v1 the benchmark uses (hello, subscribe,
publish → ack, event), builds each event frame once (``chatserver.protocol``)
and sends the same text to every local socket through the ASGI
``websocket.send`` of each connection. Offsets come from a Redis counter;
persistence is OFF and there is no authentication. It exists to answer one
design question: what the ASGI WebSocket layer costs on the fan-out path
(docs/decisions/0002-live-gateway.md).
Run: ``python -m loadtest.peers.starlette_server --port P --redis-url URL``.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import logging
import time
from collections.abc import AsyncIterator

import uvicorn
from redis.asyncio import Redis
from starlette.applications import Starlette
from starlette.routing import WebSocketRoute
from starlette.websockets import WebSocket, WebSocketDisconnect

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
from loadtest.peers.v1 import EPOCH, WELCOME

log = logging.getLogger("loadtest.starlette_peer")


class RoomHub:
    """Channel → local sockets; one Redis subscription per channel, one reader task for all."""

    def __init__(self, redis: Redis, prefix: str) -> None:
        self.redis = redis
        self.prefix = prefix
        self.pubsub = redis.pubsub(ignore_subscribe_messages=True)
        self.members: dict[str, set[WebSocket]] = {}
        self.reader: asyncio.Task[None] | None = None
        self.lock = asyncio.Lock()

    async def start(self) -> None:
        # Open the pub/sub connection before the first subscribe: concurrent first subscribes lose messages.
        await self.pubsub.subscribe(f"{self.prefix}ping")
        self.reader = asyncio.create_task(self._read())

    async def stop(self) -> None:
        if self.reader is not None:
            self.reader.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self.reader
        await self.pubsub.aclose()  # type: ignore[no-untyped-call,unused-ignore]

    async def join(self, channel: str, ws: WebSocket) -> None:
        async with self.lock:
            local = self.members.get(channel)
            if local is None:
                local = self.members[channel] = set()
                await self.pubsub.subscribe(self.prefix + channel)
            local.add(ws)

    async def leave(self, ws: WebSocket) -> None:
        async with self.lock:
            for channel, local in list(self.members.items()):
                local.discard(ws)
                if not local:
                    del self.members[channel]
                    await self.pubsub.unsubscribe(self.prefix + channel)

    async def _read(self) -> None:
        cut = len(self.prefix)
        while True:
            message = await self.pubsub.get_message(timeout=1.0)
            if message is None:
                continue
            channel = message["channel"].decode()[cut:]
            text = message["data"].decode()
            for ws in list(self.members.get(channel, ())):
                try:
                    await ws.send_text(text)
                except (RuntimeError, WebSocketDisconnect, OSError):
                    continue


def build_app(redis_url: str, prefix: str) -> Starlette:
    redis = Redis.from_url(redis_url)
    hub = RoomHub(redis, prefix)
    welcome = WELCOME.decode()

    async def ws_endpoint(ws: WebSocket) -> None:
        await ws.accept()
        try:
            await ws.send_text(welcome)
            while True:
                frame = decode_client_frame(await ws.receive_text())
                if type(frame) is Publish:
                    offset = int(await redis.incr(f"{prefix}offset:{frame.channel}"))
                    data = MessageData(sender="peer", text=frame.body.text)
                    event = message_event(frame.channel, offset, EPOCH, data, int(time.time() * 1000))
                    await redis.publish(prefix + frame.channel, event)
                    ack = Ack(id=frame.id, client_msg_id=frame.client_msg_id, channel=frame.channel, offset=offset,
                              epoch=EPOCH)  # fmt: skip
                    await ws.send_text(encode_frame(ack).decode())
                elif type(frame) is Subscribe:
                    await hub.join(frame.channel, ws)
                    head = int(await redis.get(f"{prefix}offset:{frame.channel}") or 0)
                    position = Position(offset=head, epoch=EPOCH)
                    subscribed = Subscribed(
                        id=frame.id, channel=frame.channel, position=position, presence=PresenceSnapshot(count=0)
                    )
                    await ws.send_text(encode_frame(subscribed).decode())
                elif type(frame) is Ping:
                    await ws.send_text('{"type":"pong"}')
        except (WebSocketDisconnect, RuntimeError):
            pass
        except Exception:
            log.exception("peer connection failed")
        finally:
            await hub.leave(ws)

    @contextlib.asynccontextmanager
    async def lifespan(app: Starlette) -> AsyncIterator[None]:
        await hub.start()
        try:
            yield
        finally:
            await hub.stop()
            await redis.aclose()

    return Starlette(routes=[WebSocketRoute("/ws", ws_endpoint)], lifespan=lifespan)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--redis-url", required=True)
    parser.add_argument("--prefix", default="ltst:")
    args = parser.parse_args()
    if args.host != "127.0.0.1":
        parser.error("only 127.0.0.1")
    logging.basicConfig(level=logging.WARNING)
    uvicorn.run(build_app(args.redis_url, args.prefix), host=args.host, port=args.port, log_level="warning",
                access_log=False, lifespan="on")  # fmt: skip


if __name__ == "__main__":
    main()
