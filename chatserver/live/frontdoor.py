"""One port for pages and live traffic.

uvicorn accepts every connection and builds this protocol for it. It reads the
request head; a WebSocket upgrade to ``/ws`` goes to the live gateway (a
``websockets`` sans-I/O connection that writes pre-encoded frames straight to
the transport), everything else to uvicorn's own HTTP protocol, which serves the
Starlette app. See docs/decisions/0002-live-gateway.md for the measurements.

Slow clients: the first request head must be complete within the header
timeout of the connection opening (a deadline, not reset by each byte), and
:class:`TimedHttpProtocol` holds every later head and every body to the same
kind of deadline (docs/operations.md, "Timeouts and connection caps").
"""

from __future__ import annotations

import asyncio
import logging
from dataclasses import dataclass
from typing import Any, Protocol, cast

from uvicorn.config import Config
from uvicorn.protocols.http.httptools_impl import HttpToolsProtocol, RequestResponseCycle
from uvicorn.server import ServerState

from chatserver.config import BODY_TIMEOUT_S, HEADER_TIMEOUT_S

log = logging.getLogger("chatserver.frontdoor")

MAX_HEAD_BYTES = 16 * 1024
LIVE_PATH = b"/ws"
GATEWAY_STATE_KEY = "live_gateway"
TIMEOUTS_STATE_KEY = "request_timeouts"
_TIMEOUT_BODY = b"De aanvraag kwam te traag binnen."
REQUEST_TIMEOUT_RESPONSE = (
    b"HTTP/1.1 408 Request Timeout\r\nContent-Type: text/plain; charset=utf-8\r\nContent-Length: %d\r\n"
    b"Connection: close\r\n\r\n%s" % (len(_TIMEOUT_BODY), _TIMEOUT_BODY)
)


@dataclass(frozen=True, slots=True)
class RequestTimeouts:
    """Deadlines for slow clients, in seconds: a whole request head, a whole body after its head."""

    header_s: float = HEADER_TIMEOUT_S
    body_s: float = BODY_TIMEOUT_S


def request_timeouts(app_state: dict[str, Any]) -> RequestTimeouts:
    """The timeouts the app put in the lifespan state (from the settings), else the defaults."""
    timeouts = app_state.get(TIMEOUTS_STATE_KEY)
    return timeouts if isinstance(timeouts, RequestTimeouts) else RequestTimeouts()


class LiveGateway(Protocol):
    """What the front door needs of the live gateway."""

    def upgrade(
        self, transport: asyncio.Transport, head: bytes, server_state: ServerState
    ) -> asyncio.Protocol | None: ...


class TimedHttpProtocol(HttpToolsProtocol):
    """uvicorn's HTTP protocol with a deadline for each request head and each request body.

    uvicorn itself only times out idle keep-alive connections: a client that sends one header
    line every few seconds, or a body byte by byte, would hold the connection (and a handler
    awaiting the body) forever. Each head must be complete within ``header_s`` of its first byte,
    each body within ``body_s`` of its head; otherwise 408 (when no response has started) and close.
    """

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.timeouts = request_timeouts(self.app_state)
        self._deadline: asyncio.TimerHandle | None = None
        self._waiting_for_body = False

    def _arm(self, seconds: float, body: bool) -> None:
        self._disarm()
        self._waiting_for_body = body
        self._deadline = self.loop.call_later(seconds, self._expired)

    def _disarm(self) -> None:
        if self._deadline is not None:
            self._deadline.cancel()
            self._deadline = None

    def _expired(self) -> None:
        self._deadline = None
        if self.transport.is_closing():
            return
        log.info("http request too slow; connection closed")
        cycle: RequestResponseCycle | None = self.cycle  # None before the first request (typed otherwise)
        # A late head follows a finished response (or none); a late body belongs to a request whose
        # response may have started or even ended (a handler that does not read the body): then just close.
        answered = cycle is not None and (
            cycle.response_started if self._waiting_for_body else not cycle.response_complete
        )
        if not answered:
            self.transport.write(REQUEST_TIMEOUT_RESPONSE)
        if cycle is not None and not cycle.response_complete:
            cycle.disconnected = True  # the handler awaiting the body sees a disconnect
            cycle.message_event.set()
        self.transport.close()

    def on_message_begin(self) -> None:
        super().on_message_begin()
        self._arm(self.timeouts.header_s, body=False)

    def on_headers_complete(self) -> None:
        self._arm(self.timeouts.body_s, body=True)
        super().on_headers_complete()

    def on_message_complete(self) -> None:
        self._disarm()
        super().on_message_complete()

    def connection_lost(self, exc: Exception | None) -> None:
        self._disarm()
        super().connection_lost(exc)


HTTP_PROTOCOL: type[asyncio.Protocol] = TimedHttpProtocol


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
        self._deadline: asyncio.TimerHandle | None = None

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        # uvloop's transports are not asyncio.Transport subclasses; both have the same API.
        self.transport = cast(asyncio.Transport, transport)
        loop = self.loop or asyncio.get_running_loop()
        self._deadline = loop.call_later(request_timeouts(self.app_state).header_s, self._too_slow)

    def _too_slow(self) -> None:
        """The first request head did not arrive in time (one header line every few seconds)."""
        self._deadline = None
        if self.transport is not None and not self.transport.is_closing():
            log.info("request head too slow; connection closed")
            self.transport.write(REQUEST_TIMEOUT_RESPONSE)
            self.transport.close()

    def _disarm(self) -> None:
        if self._deadline is not None:
            self._deadline.cancel()
            self._deadline = None

    def data_received(self, data: bytes) -> None:
        assert self.transport is not None
        self.buffer += data
        end = self.buffer.find(b"\r\n\r\n")
        if end < 0:
            if len(self.buffer) > MAX_HEAD_BYTES:
                self._disarm()
                self.transport.write(b"HTTP/1.1 431 Request Header Fields Too Large\r\nConnection: close\r\n\r\n")
                self.transport.close()
            return
        self._disarm()
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
        self._disarm()
        self.transport = None
        self.buffer = bytearray()

    def eof_received(self) -> bool | None:
        return None
