"""A cheap WebSocket client for the load generator: one asyncio.Protocol per connection, no task per frame.

Two dialects share it: protocol v1 of our server (frames from
``chatserver.protocol``, the only module of ours imported here) and the
Socket.IO/Engine.IO v4 text protocol of the python-socketio reference peer.
A dialect turns a received text frame into a small tuple; the hot path for an
event is one decode and one tuple.
"""

from __future__ import annotations

import abc
import asyncio
import json
from collections.abc import Callable
from typing import Any, cast

import msgspec

from chatserver.protocol import (
    Ack,
    Error,
    Event,
    MessageBody,
    Ping,
    Position,
    Publish,
    Reload,
    Subscribe,
    Subscribed,
    Welcome,
    decode_server_frame,
)
from loadtest.wire import (
    MAX_HEAD_BYTES,
    OP_BINARY,
    OP_CLOSE,
    OP_PING,
    OP_PONG,
    OP_TEXT,
    FrameParser,
    WireError,
    encode_client_frame,
    encode_close,
    handshake_request,
    new_key,
    parse_handshake_response,
)

# Kinds of a parsed server frame: (kind, channel, offset, epoch, text_or_reason, request_id, extra)
K_EVENT = 1
K_ACK = 2
K_SUBSCRIBED = 3
K_ERROR = 4
K_RELOAD = 5
K_WELCOME = 6
K_OTHER = 0

Parsed = tuple[int, str, int, str, str, int, int]
_OTHER: Parsed = (K_OTHER, "", 0, "", "", -1, 0)

_encode = msgspec.json.encode


class Dialect(abc.ABC):
    """How to speak to one kind of server."""

    name = "abstract"

    @abc.abstractmethod
    def path(self) -> str:
        """The WebSocket path of the server."""

    def headers(self, token: str) -> dict[str, str]:
        return {}

    def opening(self) -> list[bytes]:
        """Frames to send right after the handshake (none: v1 authenticates at the upgrade and sends welcome)."""
        return []

    def keepalive(self) -> bytes | None:
        """An application-level ping to send now and then, if the dialect has one."""
        return None

    def answer(self, payload: bytes) -> bytes | None:
        """A reply the dialect owes for this frame (Engine.IO ping), if any."""
        return None

    @abc.abstractmethod
    def subscribe(self, request_id: int, channel: str, since: tuple[int, str] | None) -> bytes:
        """A subscribe frame, resuming after ``since`` when given."""

    @abc.abstractmethod
    def publish(self, request_id: int, channel: str, client_msg_id: str, text: str) -> bytes:
        """A publish frame."""

    @abc.abstractmethod
    def parse(self, payload: bytes) -> Parsed:
        """The parts of a server frame the generator counts."""


class ChatDialect(Dialect):
    """Protocol v1 of our server (docs/protocol.md); the token goes in the upgrade's Authorization header."""

    name = "chatserver"

    def path(self) -> str:
        return "/ws"

    def headers(self, token: str) -> dict[str, str]:
        return {"Authorization": f"Bearer {token}"} if token else {}

    def keepalive(self) -> bytes | None:
        return _encode(Ping())

    def subscribe(self, request_id: int, channel: str, since: tuple[int, str] | None) -> bytes:
        position = Position(offset=since[0], epoch=since[1]) if since else None
        return _encode(Subscribe(id=request_id, channel=channel, since=position))

    def publish(self, request_id: int, channel: str, client_msg_id: str, text: str) -> bytes:
        return _encode(
            Publish(id=request_id, channel=channel, client_msg_id=client_msg_id, body=MessageBody(text=text))
        )

    def parse(self, payload: bytes) -> Parsed:
        frame = decode_server_frame(payload)
        if type(frame) is Event:
            data = frame.data
            text = data.get("text", "") if isinstance(data, dict) else ""
            return (K_EVENT, frame.channel, frame.offset, frame.epoch, text, -1, 0)
        if type(frame) is Ack:
            return (K_ACK, frame.channel, frame.offset, frame.epoch, frame.client_msg_id, frame.id, 0)
        if type(frame) is Subscribed:
            pos = frame.position
            return (K_SUBSCRIBED, frame.channel, pos.offset, pos.epoch, "", frame.id, frame.replay)
        if type(frame) is Error:
            rid = -1 if frame.id is None else frame.id
            return (K_ERROR, frame.channel or "", frame.code, "", frame.reason, rid, frame.retry_after_ms or 0)
        if type(frame) is Reload:
            return (K_RELOAD, frame.channel, frame.position.offset, frame.position.epoch, frame.reason, frame.id, 0)
        if type(frame) is Welcome:
            return (K_WELCOME, "", 0, "", frame.pseudonym, -1, 0)
        return _OTHER


class SocketIODialect(Dialect):
    """Engine.IO v4 over WebSocket with Socket.IO packets, as loadtest/peers/socketio_server.py speaks it."""

    name = "socketio"

    def path(self) -> str:
        return "/socket.io/?EIO=4&transport=websocket"

    def answer(self, payload: bytes) -> bytes | None:
        if payload == b"2":
            return b"3"
        if payload[:1] == b"0":
            return b"40"
        return None

    def subscribe(self, request_id: int, channel: str, since: tuple[int, str] | None) -> bytes:
        return b"42%d" % request_id + json.dumps(["subscribe", {"channel": channel}]).encode()

    def publish(self, request_id: int, channel: str, client_msg_id: str, text: str) -> bytes:
        body = {"channel": channel, "text": text, "client_msg_id": client_msg_id}
        return b"42%d" % request_id + json.dumps(["publish", body]).encode()

    def parse(self, payload: bytes) -> Parsed:
        if payload[:2] == b"42":
            data: Any = json.loads(payload[2:])
            if data[0] == "event":
                ev = data[1]
                return (K_EVENT, ev["channel"], ev["offset"], "", ev["text"], -1, 0)
            return _OTHER
        if payload[:2] == b"43":
            bracket = payload.index(b"[")
            rid = int(payload[2:bracket])
            ack = json.loads(payload[bracket:])[0]
            if not ack.get("ok"):
                return (K_ERROR, ack.get("channel", ""), 0, "", "refused", rid, 0)
            if "offset" in ack:
                return (K_ACK, "", ack["offset"], "", "", rid, 0)
            return (K_SUBSCRIBED, ack.get("channel", ""), 0, "", "", rid, 0)
        if payload[:2] == b"40":
            return (K_WELCOME, "", 0, "", "", -1, 0)
        return _OTHER


DIALECTS: dict[str, Callable[[], Dialect]] = {
    "chatserver": ChatDialect,
    "starlette": ChatDialect,
    "bare": ChatDialect,
    "socketio": SocketIODialect,
}


class Connection(asyncio.Protocol):
    """One client WebSocket. ``on_text(payload, now_ns)`` is called for every text frame."""

    def __init__(self, host: str, port: int, dialect: Dialect, token: str,
                 on_text: Callable[[bytes, int], None], clock: Callable[[], int]) -> None:  # fmt: skip
        self.host = host
        self.port = port
        self.dialect = dialect
        self.token = token
        self.on_text = on_text
        self.clock = clock
        self.key = new_key()
        self.transport: asyncio.Transport | None = None
        self.head = b""
        self.open = False
        self.parser = FrameParser(self._on_frame)
        loop = asyncio.get_running_loop()
        self.opened: asyncio.Future[None] = loop.create_future()
        self.closed: asyncio.Future[int] = loop.create_future()
        self.close_code = 1006
        self.now_ns = 0

    # asyncio.Protocol
    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self.transport = cast(asyncio.Transport, transport)  # uvloop's transports are not subclasses
        request = handshake_request(
            f"{self.host}:{self.port}", self.dialect.path(), self.key, self.dialect.headers(self.token)
        )
        self.transport.write(request)

    def data_received(self, data: bytes) -> None:
        self.now_ns = self.clock()
        if not self.open:
            self.head += data
            end = self.head.find(b"\r\n\r\n")
            if end < 0:
                if len(self.head) > MAX_HEAD_BYTES:
                    self._fail(WireError("handshake head too large"))
                return
            rest = self.head[end + 4 :]
            try:
                parse_handshake_response(self.head[: end + 4], self.key)
            except WireError as exc:
                self._fail(exc)
                return
            self.head = b""
            self.open = True
            for frame in self.dialect.opening():
                self.send(frame)
            if not self.opened.done():
                self.opened.set_result(None)
            if not rest:
                return
            data = rest
        try:
            self.parser.feed(data)
        except WireError as exc:
            self._fail(exc)

    def connection_lost(self, exc: Exception | None) -> None:
        self.open = False
        self.transport = None
        if not self.opened.done():
            self.opened.set_exception(ConnectionError(f"closed during handshake: {exc}"))
        if not self.closed.done():
            self.closed.set_result(self.close_code)

    # frames
    def _on_frame(self, opcode: int, payload: bytes) -> None:
        if opcode in (OP_TEXT, OP_BINARY):
            reply = self.dialect.answer(payload)
            if reply is not None:
                self.send(reply)
            self.on_text(payload, self.now_ns)
        elif opcode == OP_PING:
            self._write(encode_client_frame(OP_PONG, payload))
        elif opcode == OP_CLOSE:
            self.close_code = int.from_bytes(payload[:2], "big") if len(payload) >= 2 else 1005
            self._write(encode_close(1000))
            if self.transport is not None:
                self.transport.close()

    def _fail(self, exc: Exception) -> None:
        if not self.opened.done():
            self.opened.set_exception(exc)
        if self.transport is not None:
            self.transport.abort()

    def _write(self, data: bytes) -> None:
        if self.transport is not None and not self.transport.is_closing():
            self.transport.write(data)

    def send(self, payload: bytes) -> None:
        self._write(encode_client_frame(OP_TEXT, payload))

    def close(self) -> None:
        if self.transport is not None and self.open:
            self._write(encode_close(1000))
            self.transport.close()

    def abort(self) -> None:
        """Drop the TCP connection without a close handshake (a lost network)."""
        if self.transport is not None:
            self.transport.abort()


async def connect(host: str, port: int, dialect: Dialect, token: str,
                  on_text: Callable[[bytes, int], None], clock: Callable[[], int],
                  timeout_s: float = 10.0, bind: Callable[[Connection], None] | None = None) -> Connection:  # fmt: skip
    """Open a connection; ``bind`` sees it before the first frame arrives (frames can come with the handshake)."""
    loop = asyncio.get_running_loop()

    def factory() -> Connection:
        conn = Connection(host, port, dialect, token, on_text, clock)
        if bind is not None:
            bind(conn)
        return conn

    async with asyncio.timeout(timeout_s):
        _, protocol = await loop.create_connection(factory, host, port)
        await protocol.opened
    return protocol
