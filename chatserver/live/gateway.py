"""The live gateway: the only module that touches a WebSocket.

The front door hands over a connection whose request head asks for ``/ws``.
The handshake runs through ``websockets``' sans-I/O ``ServerProtocol`` (exact
Origin allow-list, session cookie, Bearer header or a ``hello`` token); frames
are decoded here and decided by :class:`~chatserver.live.session.Session`.
Every byte to a socket (answers, replays, pings, close frames, and the hub's
ready broadcast bytes) goes through :meth:`Connection.write`, which turns a
failed write into a closed connection. See docs/architecture.md.
"""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import hmac
import ipaddress
import logging
import secrets
import socket
import time
from collections.abc import Callable, Coroutine
from dataclasses import dataclass, field
from http import HTTPStatus
from typing import Any
from urllib.parse import parse_qsl, urlsplit

import msgspec
from uvicorn.server import ServerState
from websockets.datastructures import Headers
from websockets.frames import Frame, Opcode
from websockets.http11 import Request
from websockets.server import ServerProtocol

from chatserver.adapters.redis_broker import PresenceStore
from chatserver.adapters.session_store import RedisSessionStore
from chatserver.config import (
    CONNECTION_CAP_EXEMPT,
    HANDSHAKE_TIMEOUT_S,
    MAX_CONNECTIONS_PER_ACCOUNT,
    MAX_CONNECTIONS_PER_ADDRESS,
)
from chatserver.domain.channels import ChannelRef, ChannelResolvers, LeaveHook, check_channel, parse_channel
from chatserver.domain.identity import Actor
from chatserver.flavours import FlavourCatalog
from chatserver.live import outbox
from chatserver.live.hub import Channel, Hub, HubUnavailable
from chatserver.live.session import MAX_SUBSCRIPTIONS, PUBLISH_BURST, PUBLISH_PER_S, Session, Step, Work, error_frame
from chatserver.protocol import (
    CLOSE_REASONS,
    MAX_FRAME_BYTES,
    MAX_REPLAY_EVENTS,
    MAX_TEXT_CHARS,
    PROTOCOL_VERSION,
    Ack,
    CloseCode,
    DecodeProblem,
    Error,
    ErrorCode,
    FrameError,
    Hello,
    Limits,
    Position,
    Presence,
    PresenceSnapshot,
    Publish,
    Reload,
    ServerFrame,
    Subscribe,
    Subscribed,
    Typing,
    TypingNotice,
    Unsubscribe,
    Unsubscribed,
    Welcome,
    decode_client_frame,
    encode_frame,
)
from chatserver.services.chat import ChatError, ChatService, Turn

log = logging.getLogger("chatserver.live")

SESSION_COOKIE = "gem_session"
HEARTBEAT_S = 20.0
IDLE_TIMEOUT_S = 60.0
AUTH_TIMEOUT_S = 10.0
SWEEP_S = 2.0
CLOSE_GRACE_S = 2.0
PRESENCE_LIST_MAX = 50
_URL_SECRETS = frozenset({"token", "access_token", "session", "gem_session", "auth", "bearer"})
_FAIL_CODES = {
    1009: int(CloseCode.MESSAGE_TOO_BIG),
    1007: int(CloseCode.PROTOCOL_ERROR),
    1002: int(CloseCode.PROTOCOL_ERROR),
}

LIMITS = Limits(
    max_frame_bytes=MAX_FRAME_BYTES,
    max_text_chars=MAX_TEXT_CHARS,
    max_subscriptions=MAX_SUBSCRIPTIONS,
    publish_per_s=PUBLISH_PER_S,
    publish_burst=PUBLISH_BURST,
    heartbeat_s=HEARTBEAT_S,
    idle_timeout_s=IDLE_TIMEOUT_S,
)


Network = ipaddress.IPv4Network | ipaddress.IPv6Network


@dataclass(frozen=True, slots=True)
class ConnectionCaps:
    """Slow and greedy clients: the upgrade's deadline and the live connections one account or address may hold.

    Addresses are counted by a keyed hash (a key of this process, never stored): the count lives in
    memory while the connections do, and no address is kept in clear. 0 means no cap.
    """

    handshake_timeout_s: float = HANDSHAKE_TIMEOUT_S
    per_account: int = MAX_CONNECTIONS_PER_ACCOUNT
    per_address: int = MAX_CONNECTIONS_PER_ADDRESS
    exempt: tuple[Network, ...] = tuple(ipaddress.ip_network(n) for n in CONNECTION_CAP_EXEMPT)
    key: bytes = field(default_factory=lambda: secrets.token_bytes(32), repr=False)

    def address_key(self, peer: str) -> bytes | None:
        """The keyed hash to count ``peer`` under, or None when it is not capped (exempt, not an IP)."""
        try:
            address = ipaddress.ip_address(peer)
        except ValueError:
            return None
        if any(address in network for network in self.exempt):
            return None
        return hmac.new(self.key, address.packed, hashlib.sha256).digest()[:16]


class LiveServerProtocol(ServerProtocol):
    """``websockets``' server protocol with our close codes for oversized and malformed frames."""

    def fail(self, code: int, reason: str = "") -> None:
        super().fail(_FAIL_CODES.get(int(code), int(code)), reason)


def _cookie(headers: Headers, name: str) -> str | None:
    for raw in headers.get_all("Cookie"):
        for part in raw.split(";"):
            key, sep, value = part.strip().partition("=")
            if sep and key == name:
                return value.strip().strip('"')
    return None


def _http_response(status: HTTPStatus, text: str) -> bytes:
    body = text.encode()
    return (
        b"HTTP/1.1 %d %s\r\nContent-Type: text/plain; charset=utf-8\r\nContent-Length: %d\r\nConnection: close\r\n\r\n"
        % (status.value, status.phrase.encode(), len(body))
    ) + body


class Connection(asyncio.Protocol):
    """One WebSocket connection after the front door handed it over."""

    transport_attached = True

    def __init__(self, gateway: Gateway, transport: asyncio.Transport, server_state: ServerState) -> None:
        self.gateway = gateway
        self.transport = transport
        self.server_state = server_state
        self._send: Callable[[bytes], None] = transport.write
        self.id = secrets.token_hex(8)
        self.ws = LiveServerProtocol(max_size=MAX_FRAME_BYTES)
        self.session = Session(self.id, time.monotonic())
        self.actor: Actor | None = None
        self.open = False
        self.closing = False
        self.lost = False
        self.allow_cookie = False
        self.present: set[str] = set()  # channels where this connection holds a presence entry
        self.held: set[str] = set()  # channels where this connection is counted for a leave hook
        self.address: bytes | None = None  # the keyed hash it is counted under, while it counts
        self.over_cap = False
        self._handshake_timer: asyncio.TimerHandle | None = None
        # The latest publish per channel: the next one is stored after it (per-connection, per-channel FIFO).
        self.turns: dict[str, Turn] = {}
        self._abort_timer: asyncio.TimerHandle | None = None

    # --- handshake ---------------------------------------------------------------

    def start(self, head: bytes) -> bool:
        """Parse the request head; False when it was refused (response already written)."""
        self.ws.receive_data(head)
        events = self.ws.events_received()
        request = events[0] if events else None
        if not isinstance(request, Request):
            self._refuse(HTTPStatus.BAD_REQUEST, "Ongeldig WebSocket-verzoek.", "malformed-handshake")
            return False
        query = urlsplit(request.path).query
        if any(name.lower() in _URL_SECRETS for name, _ in parse_qsl(query, keep_blank_values=True)):
            text = "Geen tokens in de URL; gebruik de cookie of een hello-frame."
            self._refuse(HTTPStatus.BAD_REQUEST, text, "url-token")
            return False
        origin = request.headers.get("Origin")
        authorization = request.headers.get("Authorization", "")
        bearer = authorization[7:].strip() if authorization.lower().startswith("bearer ") else None
        if origin is not None and origin not in self.gateway.allowed_origins:
            self._refuse(HTTPStatus.FORBIDDEN, "Verbinding vanaf deze website is niet toegestaan.", "foreign-origin")
            return False
        self.allow_cookie = origin is not None
        token = bearer if bearer is not None else (_cookie(request.headers, SESSION_COOKIE) if origin else None)
        response = self.ws.accept(request)
        if response.status_code != HTTPStatus.SWITCHING_PROTOCOLS:
            self.ws.send_response(response)
            self._flush()
            self.transport.close()
            return False
        if self.over_cap:  # opened only to say why, with a close code a browser can read
            self.ws.send_response(response)
            self._flush()
            self._opened()
            log.info("live connection closed: conn=%s code=%d (address cap)", self.id, CloseCode.TOO_MANY_CONNECTIONS)
            self.close(CloseCode.TOO_MANY_CONNECTIONS)
            return True
        self.transport.pause_reading()
        loop = asyncio.get_running_loop()
        self._handshake_timer = loop.call_later(self.gateway.caps.handshake_timeout_s, self._handshake_expired)
        self.gateway.spawn(self._authenticate_upgrade(response, token))
        return True

    def _opened(self) -> None:
        self.open = True
        self.server_state.connections.add(self)  # type: ignore[arg-type]
        self.gateway.connections.add(self)

    def _handshake_expired(self) -> None:
        """The upgrade was not answered in time (the session store hangs): give up on it."""
        self._handshake_timer = None
        if self.open or self._gone():
            return
        log.warning("live upgrade not answered within %.0f s; refused", self.gateway.caps.handshake_timeout_s)
        self._answer_http(HTTPStatus.SERVICE_UNAVAILABLE, "Tijdelijk niet beschikbaar.")

    def _refuse(self, status: HTTPStatus, text: str, why: str) -> None:
        log.info("live upgrade refused: %s", why)
        self._answer_http(status, text)

    def _answer_http(self, status: HTTPStatus, text: str) -> None:
        self.closing = True
        self.write(_http_response(status, text))
        self.transport.close()

    async def _authenticate_upgrade(self, response: Any, token: str | None) -> None:
        actor: Actor | None = None
        failed = False
        if token:
            try:
                actor = await self.gateway.sessions.get(token)
            except Exception as exc:
                log.warning("session lookup at upgrade failed (%s)", type(exc).__name__)
                if not self._gone():
                    self._answer_http(HTTPStatus.SERVICE_UNAVAILABLE, "Tijdelijk niet beschikbaar.")
                return
            failed = actor is None
        if self._gone():
            return
        if self._handshake_timer is not None:
            self._handshake_timer.cancel()
            self._handshake_timer = None
        self.ws.send_response(response)
        self._flush()
        self._opened()
        self.transport.resume_reading()
        if failed:
            log.info("live session refused: unknown or ended session")
            self.close(CloseCode.SESSION_ENDED)
        elif actor is not None:
            self._authenticated(actor)

    def _authenticated(self, actor: Actor) -> None:
        if not self.gateway.admits(actor):
            log.info("live connection closed: conn=%s code=%d (account cap)", self.id, CloseCode.TOO_MANY_CONNECTIONS)
            self.close(CloseCode.TOO_MANY_CONNECTIONS)
            return
        self.actor = actor
        self.session.authenticated()
        self.gateway.index(self, actor)
        self.send(Welcome(v=PROTOCOL_VERSION, connection_id=self.id, pseudonym=actor.pseudonym, limits=LIMITS))

    # --- asyncio.Protocol --------------------------------------------------------

    def connection_made(self, transport: asyncio.BaseTransport) -> None:  # already attached by the front door
        return

    def data_received(self, data: bytes) -> None:
        self.ws.receive_data(data)
        for event in self.ws.events_received():
            if isinstance(event, Frame):
                self._on_frame(event)
        self._flush()

    def eof_received(self) -> bool | None:
        self.ws.receive_eof()
        self._flush()
        return None

    def pause_writing(self) -> None:
        # Called from inside transport.write(), possibly in the middle of a broadcast loop.
        asyncio.get_running_loop().call_soon(self._slow)

    def resume_writing(self) -> None:
        return

    def connection_lost(self, exc: Exception | None) -> None:
        self.lost = True
        self._cleanup()

    # --- frames ------------------------------------------------------------------

    def _flush(self) -> None:
        for chunk in self.ws.data_to_send():
            if chunk:
                self.write(chunk)
            else:
                self.transport.close()

    def write(self, data: bytes) -> None:
        """Write ``data`` to the socket: the only place that does. Never raises, never awaits.

        A write that fails (uvloop raises once the transport is closed, before ``connection_lost``
        arrives) closes this connection. Its bookkeeping (leaving the hub's channels, the registries)
        runs soon after, never inside the write: the hub may be looping over its members.
        """
        try:
            self._send(data)
        except Exception:
            self._write_failed()

    def _write_failed(self) -> None:
        if self.closing or self.lost:
            return
        self.closing = True
        self.session.closed()
        log.info("live connection closed: conn=%s (a write to its socket failed)", self.id)
        asyncio.get_running_loop().call_soon(self.write_failed)

    def write_failed(self) -> None:
        """A write failed: the transport is gone. Leave every channel now; connection_lost follows."""
        if self.lost:
            return
        self.closing = True
        self.session.closed()
        self._cleanup()
        self.transport.abort()

    def _on_frame(self, frame: Frame) -> None:
        self.session.last_seen = time.monotonic()
        if frame.opcode is Opcode.TEXT and frame.fin:
            self._on_text(bytes(frame.data))
        elif frame.opcode in (Opcode.BINARY, Opcode.CONT, Opcode.TEXT):
            log.info("live frame refused: conn=%s problem=binary-or-fragmented", self.id)
            self.close(CloseCode.PROTOCOL_ERROR)

    def _on_text(self, payload: bytes) -> None:
        if self.closing:
            return
        now = time.monotonic()
        try:
            frame = decode_client_frame(payload)
        except FrameError as exc:
            log.info("live frame refused: conn=%s problem=%s", self.id, exc.problem.value)
            if exc.problem is DecodeProblem.TOO_BIG:
                self.close(CloseCode.MESSAGE_TOO_BIG)
            elif exc.problem in (DecodeProblem.NOT_UTF8, DecodeProblem.MALFORMED, DecodeProblem.TOO_DEEP):
                self.close(CloseCode.PROTOCOL_ERROR)
            else:
                code = ErrorCode.UNKNOWN_TYPE if exc.problem is DecodeProblem.UNKNOWN_TYPE else ErrorCode.BAD_REQUEST
                self._step(self.session.error(error_frame(code, exc.request_id), now))
            return
        self._step(self.session.on_frame(frame, now))

    def _step(self, step: Step) -> None:
        if step.reply is not None:
            self.send(step.reply)
        if step.close is not None:
            log.info("live connection closed: conn=%s code=%d", self.id, step.close)
            self.close(step.close)
            return
        if step.work is None:
            return
        frame = step.frame
        if step.work is Work.SUBSCRIBE and isinstance(frame, Subscribe):
            self.session.channels.add(frame.channel)
            self.gateway.spawn(self._subscribe(frame))
        elif step.work is Work.UNSUBSCRIBE and isinstance(frame, Unsubscribe):
            self._leave(frame.channel)
            self.send(Unsubscribed(id=frame.id, channel=frame.channel))
        elif step.work is Work.PUBLISH and isinstance(frame, Publish):
            turn = self.turns[frame.channel] = Turn(self.turns.get(frame.channel))
            self.gateway.spawn(self._publish(frame, turn))
        elif step.work is Work.TYPING and isinstance(frame, Typing):
            self.gateway.spawn(self._typing(frame))
        elif step.work is Work.AUTHENTICATE and isinstance(frame, Hello):
            self.gateway.spawn(self._hello(frame))

    def _gone(self) -> bool:
        return self.closing or self.lost

    def send(self, frame: ServerFrame) -> None:
        if not self._gone():
            self.write(outbox.text_frame(encode_frame(frame)))

    def _error(self, code: ErrorCode, request_id: int | None, channel: str | None, retry_ms: int | None = None) -> None:
        self._step(self.session.error(error_frame(code, request_id, channel, retry_ms), time.monotonic()))

    # --- work --------------------------------------------------------------------

    async def _hello(self, frame: Hello) -> None:
        try:
            actor = await self.gateway.sessions.redeem_ws_token(frame.token or "")
        except Exception as exc:
            log.warning("ws token lookup failed (%s)", type(exc).__name__)
            self.session.authenticating = False
            self._error(ErrorCode.UNAVAILABLE, None, None, 1000)
            return
        if self._gone():
            return
        if actor is None:
            log.info("live hello refused: unknown or used token")
            self.close(CloseCode.SESSION_ENDED)
            return
        self._authenticated(actor)

    async def _subscribe(self, frame: Subscribe) -> None:
        actor = self.actor
        assert actor is not None
        gateway = self.gateway
        try:
            allowed = await check_channel(actor, frame.channel, "subscribe", gateway.catalog, gateway.resolvers)
        except Exception as exc:
            log.warning("channel check failed (%s)", type(exc).__name__)
            allowed = None
        if self._gone():
            return
        if allowed is None or not allowed:
            self.session.channels.discard(frame.channel)
            if allowed is not None:
                log.info("live subscribe refused: conn=%s rule=%s", self.id, allowed.rule)
            code = ErrorCode.UNAVAILABLE if allowed is None else ErrorCode.FORBIDDEN
            self._error(code, frame.id, frame.channel)
            return
        try:
            channel = await gateway.hub.join(frame.channel, self)
        except HubUnavailable:
            self.session.channels.discard(frame.channel)
            self._error(ErrorCode.UNAVAILABLE, frame.id, frame.channel, 1000)
            return
        if self._gone():
            gateway.hub.leave(frame.channel, self)
            return
        await self._start_channel(frame, channel)

    async def _start_channel(self, frame: Subscribe, channel: Channel) -> None:
        gateway = self.gateway
        presence = await gateway.presence_join(frame.channel, self)
        since = frame.since
        if since is None:
            position = channel.position
            self.send(Subscribed(id=frame.id, channel=frame.channel, position=position, presence=presence))
            gateway.hub.activate(channel, self, position.offset)
            return
        reason: str | None = None
        if since.epoch != channel.epoch:
            reason = "epoch_changed"
        elif channel.last - since.offset > MAX_REPLAY_EVENTS:
            reason = "too_old"
        frames: list[bytes] = []
        last = since.offset
        # What the client missed comes from this process's memory when the channel still holds all of it
        # (no store read: reconnect storms), else from the store.
        cached = channel.recent_after(since.offset) if reason is None and since.offset < channel.last else None
        if cached is not None:
            frames, last = cached, channel.last
        elif reason is None and since.offset < channel.last:
            try:
                rows = await gateway.chat.read_after(frame.channel, since.offset, MAX_REPLAY_EVENTS + 1)
            except Exception as exc:
                log.warning("replay read failed (%s)", type(exc).__name__)
                gateway.hub.leave(frame.channel, self)
                self.session.channels.discard(frame.channel)
                self._error(ErrorCode.UNAVAILABLE, frame.id, frame.channel, 1000)
                return
            if len(rows) > MAX_REPLAY_EVENTS:
                reason = "too_old"
            elif rows:
                frames, last = [outbox.text_frame(event) for _, event in rows], rows[-1][0]
        if self._gone():
            return
        if reason is not None:
            position = channel.position
            self.send(Subscribed(id=frame.id, channel=frame.channel, position=position, presence=presence))
            self.send(Reload(id=frame.id, channel=frame.channel, reason=reason, position=position))  # type: ignore[arg-type]
            gateway.hub.activate(channel, self, position.offset)
            return
        if cached is not None:
            gateway.replays_from_memory += 1
        position = Position(offset=last, epoch=channel.epoch)
        answer = Subscribed(
            id=frame.id, channel=frame.channel, position=position, presence=presence, replay=len(frames)
        )
        self.write(b"".join((outbox.text_frame(encode_frame(answer)), *frames)))
        gateway.hub.activate(channel, self, last)

    def _leave(self, name: str) -> None:
        if name in self.session.channels:
            self.session.channels.discard(name)
            self.present.discard(name)
            self.gateway.hub.leave(name, self)
            self.gateway.spawn(self.gateway.presence_leave(name, self))

    async def _publish(self, frame: Publish, turn: Turn) -> None:
        actor = self.actor
        assert actor is not None
        chat = self.gateway.chat
        try:
            acked = await chat.do_publish(actor, frame.channel, frame.client_msg_id, frame.body.text, turn=turn)
        except ChatError as exc:
            if not self._gone():
                if exc.reason:
                    error = Error(code=int(exc.code), reason=exc.reason, id=frame.id, channel=frame.channel)
                    self._step(self.session.error(error, time.monotonic()))
                else:
                    refusal = error_frame(exc.code, frame.id, frame.channel, exc.retry_after_ms)
                    self._step(self.session.error(refusal, time.monotonic(), frame.client_msg_id))
            return
        finally:
            if self.turns.get(frame.channel) is turn and turn.released:
                del self.turns[frame.channel]  # nothing in flight on this channel any more
        self.send(
            Ack(
                id=frame.id,
                client_msg_id=frame.client_msg_id,
                channel=acked.channel,
                offset=acked.offset,
                epoch=acked.epoch,
                duplicate=acked.duplicate,
                held=acked.held,
                notice=acked.notice,
            )
        )

    async def _typing(self, frame: Typing) -> None:
        actor = self.actor
        assert actor is not None
        allowed = await check_channel(actor, frame.channel, "publish", self.gateway.catalog, self.gateway.resolvers)
        if allowed:
            notice = TypingNotice(channel=frame.channel, pseudonym=actor.pseudonym)
            await self.gateway.broadcast(frame.channel, notice)

    # --- closing -----------------------------------------------------------------

    def _slow(self) -> None:
        if self._gone():
            return
        log.info("live connection closed: conn=%s code=%d (outbox full)", self.id, CloseCode.SLOW_CONSUMER)
        self.close(CloseCode.SLOW_CONSUMER)

    def close(self, code: CloseCode) -> None:
        """Close with ``code``; the socket is aborted if the client does not answer in time."""
        if self._gone():
            return
        self.closing = True
        self.session.closed()
        self._cleanup()
        with contextlib.suppress(Exception):
            if self.ws.state.name == "OPEN":
                self.ws.send_close(int(code), CLOSE_REASONS[code])
            self._flush()
        loop = asyncio.get_running_loop()
        self._abort_timer = loop.call_later(CLOSE_GRACE_S, self.transport.abort)

    def shutdown(self) -> None:
        """uvicorn's graceful shutdown: clients move to another process and resume."""
        self.close(CloseCode.SERVICE_RESTART)

    def _cleanup(self) -> None:
        if self._abort_timer is not None and self.lost:
            self._abort_timer.cancel()
        if self._handshake_timer is not None and self.lost:
            self._handshake_timer.cancel()
        self.server_state.connections.discard(self)
        self.gateway.forget(self)
        for name in list(self.session.channels):
            self._leave(name)


class Gateway:
    """Owns the live connections of this process; built by the live feature at start-up."""

    def __init__(
        self,
        *,
        catalog: FlavourCatalog,
        sessions: RedisSessionStore,
        resolvers: ChannelResolvers,
        hub: Hub,
        chat: ChatService,
        presence: PresenceStore,
        allowed_origins: frozenset[str],
        revoked_channel: str,
        caps: ConnectionCaps | None = None,
    ) -> None:
        self.catalog = catalog
        self.sessions = sessions
        self.resolvers = resolvers
        self.hub = hub
        self.replays_from_memory = 0
        self.chat = chat
        self.presence = presence
        self.allowed_origins = allowed_origins
        self.revoked_key = revoked_channel.encode()
        self.connections: set[Connection] = set()
        self.by_session: dict[str, set[Connection]] = {}
        self.by_account: dict[str, set[Connection]] = {}
        self.caps = caps if caps is not None else ConnectionCaps()
        self.by_address: dict[bytes, int] = {}  # keyed hash of a peer address -> its live connections
        self.pending: set[Connection] = set()
        self._tasks: set[asyncio.Task[None]] = set()
        self._sweeper: asyncio.TimerHandle | None = None
        self._refresher: asyncio.TimerHandle | None = None
        self._refreshing = False
        self.accepting = True

    # --- front door -----------------------------------------------------------------

    def upgrade(self, transport: asyncio.Transport, head: bytes, server_state: ServerState) -> asyncio.Protocol | None:
        if not self.accepting:
            return None
        connection = Connection(self, transport, server_state)
        self._count_address(connection, transport)
        outbox.bound(transport)
        sock = transport.get_extra_info("socket")
        if sock is not None:  # kernel memory per socket is bounded too
            with contextlib.suppress(OSError):
                sock.setsockopt(socket.SOL_SOCKET, socket.SO_SNDBUF, outbox.SOCKET_SNDBUF_BYTES)
        if not connection.start(head):
            return connection
        self.pending.add(connection)
        return connection

    def _count_address(self, connection: Connection, transport: asyncio.Transport) -> None:
        """Count the connection under its address's keyed hash; past the cap it is opened only to be closed."""
        cap = self.caps.per_address
        if cap <= 0:
            return
        peer = transport.get_extra_info("peername")
        key = self.caps.address_key(str(peer[0])) if isinstance(peer, tuple) and peer else None
        if key is None:
            return
        held = self.by_address.get(key, 0)
        if held >= cap:
            connection.over_cap = True
            return
        self.by_address[key] = held + 1
        connection.address = key

    def admits(self, actor: Actor) -> bool:
        """Whether one more live connection of this account is allowed here."""
        cap = self.caps.per_account
        return cap <= 0 or len(self.by_account.get(actor.account_id, ())) < cap

    def spawn(self, coro: Coroutine[Any, Any, None]) -> None:
        task = asyncio.get_running_loop().create_task(coro)
        self._tasks.add(task)
        task.add_done_callback(self._done)

    def _done(self, task: asyncio.Task[None]) -> None:
        self._tasks.discard(task)
        if not task.cancelled() and task.exception() is not None:
            log.error("live task failed: %s", type(task.exception()).__name__, exc_info=task.exception())

    # --- registry ------------------------------------------------------------------

    def index(self, connection: Connection, actor: Actor) -> None:
        self.pending.discard(connection)
        if actor.session_id:
            self.by_session.setdefault(actor.session_id, set()).add(connection)
        self.by_account.setdefault(actor.account_id, set()).add(connection)

    def forget(self, connection: Connection) -> None:
        self.connections.discard(connection)
        self.pending.discard(connection)
        address, connection.address = connection.address, None
        if address is not None:
            held = self.by_address.get(address, 0) - 1
            if held > 0:
                self.by_address[address] = held
            else:
                self.by_address.pop(address, None)
        actor = connection.actor
        if actor is None:
            return
        for registry, key in ((self.by_session, actor.session_id), (self.by_account, actor.account_id)):
            members = registry.get(key)
            if members is not None:
                members.discard(connection)
                if not members:
                    del registry[key]

    # --- presence and notices ------------------------------------------------------

    async def presence_join(self, channel: str, connection: Connection) -> PresenceSnapshot:
        actor = connection.actor
        assert actor is not None
        if channel in connection.session.channels:  # else it was left on the way here
            connection.present.add(channel)
            await self._hold(channel, connection)
        try:
            count = await self.presence.join(channel, connection.id, actor.pseudonym)
            if channel not in connection.present:  # left while the entry was written: take it out again
                await self.presence.remove([(channel, connection.id, actor.pseudonym)])
            listed = count <= PRESENCE_LIST_MAX
            await self.broadcast(
                channel,
                Presence(channel=channel, action="join", count=count, pseudonym=actor.pseudonym if listed else None),
            )
            count, members = await self.presence.snapshot(channel, PRESENCE_LIST_MAX)
        except Exception as exc:  # presence is best effort; chat goes on without it
            log.warning("presence join failed (%s)", type(exc).__name__)
            return PresenceSnapshot(count=0)
        return PresenceSnapshot(count=count, members=members)

    def _leave_hook(self, channel: str) -> tuple[ChannelRef, LeaveHook] | None:
        ref = parse_channel(channel)
        hook = self.resolvers.on_last_leave.get(ref.kind) if ref is not None else None
        return None if ref is None or hook is None else (ref, hook)

    async def _hold(self, channel: str, connection: Connection) -> None:
        """Count this connection under its account for a channel whose feature watches last leaves."""
        actor = connection.actor
        if actor is None or self._leave_hook(channel) is None:
            return
        try:
            await self.presence.hold(channel, str(actor.account_id))
            connection.held.add(channel)
        except Exception as exc:  # best effort: the feature's own expiry covers a lost count
            log.warning("holder count failed (%s)", type(exc).__name__)
        if channel not in connection.present:  # left while it was counted
            await self._release(channel, connection)

    async def _release(self, channel: str, connection: Connection) -> None:
        actor = connection.actor
        found = self._leave_hook(channel)
        if actor is None or found is None or channel not in connection.held:
            return
        connection.held.discard(channel)
        ref, hook = found
        try:
            if await self.presence.release(channel, str(actor.account_id)) == 0:
                await hook(actor, ref)
        except Exception as exc:
            log.warning("leave hook failed (%s)", type(exc).__name__)

    async def presence_leave(self, channel: str, connection: Connection) -> None:
        actor = connection.actor
        if actor is None:
            return
        await self._release(channel, connection)
        try:
            count = await self.presence.leave(channel, connection.id, actor.pseudonym)
            listed = count < PRESENCE_LIST_MAX
            await self.broadcast(
                channel,
                Presence(channel=channel, action="leave", count=count, pseudonym=actor.pseudonym if listed else None),
            )
        except Exception as exc:
            log.warning("presence leave failed (%s)", type(exc).__name__)

    async def broadcast(self, channel: str, frame: ServerFrame) -> None:
        """A notice without an offset (presence, typing) to every subscriber in every process."""
        await self.hub.broker.publish(self.hub.live_key(channel), b"P" + encode_frame(frame))

    # --- system messages ------------------------------------------------------------

    def on_system(self, key: bytes, payload: bytes) -> None:
        if key != self.revoked_key:
            return
        try:
            data = msgspec.json.decode(payload, type=dict[str, str])
        except msgspec.DecodeError:
            return
        targets: set[Connection] = set()
        if "session" in data:
            targets |= self.by_session.get(data["session"], set())
        if "account" in data:
            targets |= self.by_account.get(data["account"], set())
        for connection in list(targets):
            log.info("live connection closed: conn=%s code=%d (session ended)", connection.id, 4100)
            connection.close(CloseCode.SESSION_ENDED)

    # --- timers ---------------------------------------------------------------------

    def start(self) -> None:
        loop = asyncio.get_running_loop()
        self._sweeper = loop.call_later(SWEEP_S, self._sweep)
        self._refresher = loop.call_later(self.presence.refresh_s, self._refresh_presence)

    def _refresh_presence(self) -> None:
        if not self._refreshing:  # a refresh still on its way is not doubled
            self._refreshing = True
            self.spawn(self.refresh_presence())
        self._refresher = asyncio.get_running_loop().call_later(self.presence.refresh_s, self._refresh_presence)

    async def refresh_presence(self) -> None:
        """Renew the presence entries of every live connection of this process, in one pipeline.

        Entries of a process that stopped (killed, out of memory) are not renewed and expire.
        """
        held: list[tuple[Connection, str, str]] = []
        for connection in self.connections:
            actor = connection.actor
            if actor is not None:
                held += ((connection, channel, actor.pseudonym) for channel in connection.present)
        try:
            await self.presence.refresh([(channel, c.id, pseudonym) for c, channel, pseudonym in held])
            # A leave that reached Redis before this refresh was undone by it: take those out again.
            left = [(channel, c.id, pseudonym) for c, channel, pseudonym in held if channel not in c.present]
            await self.presence.remove(left)
        except Exception as exc:  # presence is best effort; the next refresh tries again
            log.warning("presence refresh failed (%s)", type(exc).__name__)
        finally:
            self._refreshing = False

    def _sweep(self) -> None:
        # Re-armed first: nothing one connection does can stop heartbeats and timeouts for the others.
        self._sweeper = asyncio.get_running_loop().call_later(SWEEP_S, self._sweep)
        now = time.monotonic()
        for connection in list(self.connections):
            idle = now - connection.session.last_seen
            if connection.actor is None and now - connection.session.opened_at > AUTH_TIMEOUT_S:
                connection.close(CloseCode.SESSION_ENDED)
            elif idle > IDLE_TIMEOUT_S:
                connection.close(CloseCode.IDLE_TIMEOUT)
            elif idle > HEARTBEAT_S and not connection.closing:
                connection.write(outbox.PING_FRAME)

    async def stop(self) -> None:
        self.accepting = False
        if self._sweeper is not None:
            self._sweeper.cancel()
        if self._refresher is not None:
            self._refresher.cancel()
        for connection in list(self.connections):
            connection.close(CloseCode.SERVICE_RESTART)
        for task in list(self._tasks):
            task.cancel()
        for task in list(self._tasks):
            with contextlib.suppress(BaseException):
                await task
