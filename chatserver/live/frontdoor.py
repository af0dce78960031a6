"""One port for pages and live traffic.

uvicorn accepts every connection and builds this protocol for it. It reads the
request head; a WebSocket upgrade to ``/ws`` goes to the live gateway (a
``websockets`` sans-I/O connection that writes pre-encoded frames straight to
the transport), everything else to uvicorn's own HTTP protocol, which serves the
Starlette app. See docs/decisions/0002-live-gateway.md for the measurements.
"""

from __future__ import annotations

import asyncio
import logging
from typing import Any, Protocol, cast

from uvicorn.config import Config
from uvicorn.server import ServerState

log = logging.getLogger("chatserver.frontdoor")

MAX_HEAD_BYTES = 16 * 1024
LIVE_PATH = b"/ws"
GATEWAY_STATE_KEY = "live_gateway"


class LiveGateway(Protocol):
    """What the front door needs of the live gateway."""

    def upgrade(
        self, transport: asyncio.Transport, head: bytes, server_state: ServerState
    ) -> asyncio.Protocol | None: ...


def _http_protocol_class() -> type[asyncio.Protocol]:
    try:
        from uvicorn.protocols.http.httptools_impl import HttpToolsProtocol

        return HttpToolsProtocol
    except ImportError:  # pragma: no cover - httptools comes with uvicorn[standard]
        from uvicorn.protocols.http.h11_impl import H11Protocol

        return H11Protocol


HTTP_PROTOCOL = _http_protocol_class()


def is_live_upgrade(head: bytes) -> bool:
    """Whether a complete request head asks for a WebSocket upgrade on /ws."""
    line_end = head.find(b"\r\n")
    request_line = head[:line_end] if line_end >= 0 else head
    parts = request_line.split(b" ")
    if len(parts) != 3 or parts[0] != b"GET":
        return False
    path = parts[1].split(b"?", 1)[0]
    if path != LIVE_PATH:
        return False
    for line in head[line_end + 2 :].split(b"\r\n"):
        name, sep, value = line.partition(b":")
        if sep and name.strip().lower() == b"upgrade" and value.strip().lower() == b"websocket":
            return True
    return False


class FrontDoor(asyncio.Protocol):
    """Sniffs the first request head, then hands the connection over for good."""

    def __init__(
        self,
        config: Config,
        server_state: ServerState,
        app_state: dict[str, Any],
        _loop: asyncio.AbstractEventLoop | None = None,
    ) -> None:
        self.config = config
        self.server_state = server_state
        self.app_state = app_state
        self.loop = _loop
        self.transport: asyncio.Transport | None = None
        self.buffer = bytearray()

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        # uvloop's transports are not asyncio.Transport subclasses; both have the same API.
        self.transport = cast(asyncio.Transport, transport)

    def data_received(self, data: bytes) -> None:
        assert self.transport is not None
        self.buffer += data
        end = self.buffer.find(b"\r\n\r\n")
        if end < 0:
            if len(self.buffer) > MAX_HEAD_BYTES:
                self.transport.write(b"HTTP/1.1 431 Request Header Fields Too Large\r\nConnection: close\r\n\r\n")
                self.transport.close()
            return
        head = bytes(self.buffer[: end + 4])
        if is_live_upgrade(head):
            gateway: LiveGateway | None = self.app_state.get(GATEWAY_STATE_KEY)
            protocol = gateway.upgrade(self.transport, bytes(self.buffer), self.server_state) if gateway else None
            if protocol is None:
                body = b"Live verbinding tijdelijk niet beschikbaar"
                self.transport.write(
                    b"HTTP/1.1 503 Service Unavailable\r\nContent-Type: text/plain; charset=utf-8\r\n"
                    b"Content-Length: %d\r\nConnection: close\r\n\r\n%s" % (len(body), body)
                )
                self.transport.close()
                return
            self._hand_over(protocol, b"")
            return
        http = HTTP_PROTOCOL(  # type: ignore[call-arg]
            config=self.config, server_state=self.server_state, app_state=self.app_state, _loop=self.loop
        )
        self._hand_over(http, bytes(self.buffer))

    def _hand_over(self, protocol: asyncio.Protocol, pending: bytes) -> None:
        assert self.transport is not None
        transport = self.transport
        self.buffer = bytearray()
        self.transport = None
        transport.set_protocol(protocol)
        if not getattr(protocol, "transport_attached", False):
            protocol.connection_made(transport)
        if pending:
            protocol.data_received(pending)

    def connection_lost(self, exc: Exception | None) -> None:
        self.transport = None
        self.buffer = bytearray()

    def eof_received(self) -> bool | None:
        return None
