"""One live connection: frames in, every write out through one method, and its close.

The front door hands the socket to the gateway, which builds a :class:`Connection` as the transport's
protocol. Frames are decoded with ``websockets``' sans-I/O protocol and the strict protocol codec, and
decided by the pure :class:`~chatserver.live.session.Session`; what needs awaiting runs as a task
(authentication in :mod:`~chatserver.live.handshake`, subscribing in :mod:`~chatserver.live.subscription`,
publishing and typing here).

Every byte to the socket goes through :meth:`Connection.write`: the handshake's answers, replies,
replays, pings, close frames, and the hub's broadcast frames (the hub holds the bound method). A write
that fails turns into a closed connection; nothing else writes to the transport.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import secrets
import time
from collections.abc import Callable
from http import HTTPStatus
from typing import TYPE_CHECKING

import msgspec
from uvicorn.server import ServerState
from websockets.frames import Frame, Opcode
from websockets.http11 import Response

from chatserver.domain.channels import check_channel
from chatserver.domain.identity import Actor
from chatserver.i18n import DEFAULT_LANG, translate
from chatserver.live import outbox
from chatserver.live.handshake import LiveServerProtocol, http_response, redeem_hello
from chatserver.live.session import Session, Step, Work, error_frame
from chatserver.live.subscription import subscribe
from chatserver.protocol import (
    CLOSE_REASONS,
    MAX_FRAME_BYTES,
    Ack,
    CloseCode,
    DecodeProblem,
    Error,
    ErrorCode,
    FrameError,
    Hello,
    Publish,
    ServerFrame,
    Subscribe,
    Typing,
    TypingNotice,
    Unsubscribe,
    Unsubscribed,
    decode_client_frame,
    encode_frame,
)
from chatserver.services.chat import ChatError, Turn

if TYPE_CHECKING:
    from chatserver.live.gateway import Gateway


def in_language(frame: ServerFrame, lang: str) -> ServerFrame:
    """An error or ack frame with its text for the person (written in Dutch) in ``lang``; other frames as they are."""
    if isinstance(frame, Error) and frame.reason:
        return msgspec.structs.replace(frame, reason=translate(lang, frame.reason))
    if isinstance(frame, Ack) and frame.notice:
        return msgspec.structs.replace(frame, notice=translate(lang, frame.notice))
    return frame


log = logging.getLogger("chatserver.live")

CLOSE_GRACE_S = 2.0
_CLOSING_PROBLEMS = frozenset({DecodeProblem.NOT_UTF8, DecodeProblem.MALFORMED, DecodeProblem.TOO_DEEP})


class Connection(asyncio.Protocol):
    """One WebSocket connection after the front door handed it over."""

    __slots__ = (
        "_abort_timer", "_send", "actor", "address", "closing", "gateway", "handshake_timer", "held", "id", "lang",
        "lost", "open", "over_cap", "present", "server_state", "session", "transport", "turns", "ws",
    )  # fmt: skip

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
        self.lang = DEFAULT_LANG  # the visitor's language (cookie gem_lang), for the texts of error and ack frames
        self.open = False
        self.closing = False
        self.lost = False
        self.present: set[str] = set()  # channels where this connection holds a presence entry
        self.held: set[str] = set()  # channels where this connection is counted for a leave hook
        self.address: bytes | None = None  # the keyed hash it is counted under, while it counts
        self.over_cap = False
        self.handshake_timer: asyncio.TimerHandle | None = None
        # The latest publish per channel: the next one is stored after it (per-connection, per-channel FIFO).
        self.turns: dict[str, Turn] = {}
        self._abort_timer: asyncio.TimerHandle | None = None

    # --- the one write -----------------------------------------------------------

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

    def flush(self) -> None:
        """Write what ``websockets`` has queued (the handshake answer, pongs, a close frame)."""
        for chunk in self.ws.data_to_send():
            if chunk:
                self.write(chunk)
            else:
                self.transport.close()

    def send(self, frame: ServerFrame) -> None:
        if not self.gone():
            if self.lang != DEFAULT_LANG:
                frame = in_language(frame, self.lang)
            self.write(outbox.text_frame(encode_frame(frame)))

    def answer_http(self, status: HTTPStatus, text: str) -> None:
        """Answer the upgrade with a plain HTTP error and end the connection."""
        self.closing = True
        self.write(http_response(status, text))
        self.transport.close()

    def accept(self, response: Response) -> None:
        """Send the 101 answer; from now on the connection counts as open (and is closed at shutdown)."""
        self.ws.send_response(response)
        self.flush()
        self.open = True
        self.server_state.connections.add(self)  # type: ignore[arg-type]
        self.gateway.connections.add(self)

    def gone(self) -> bool:
        return self.closing or self.lost

    # --- asyncio.Protocol --------------------------------------------------------

    def connection_made(self, transport: asyncio.BaseTransport) -> None:  # already attached by the front door
        return

    def data_received(self, data: bytes) -> None:
        self.ws.receive_data(data)
        for event in self.ws.events_received():
            if isinstance(event, Frame):
                self._on_frame(event)
        self.flush()

    def eof_received(self) -> bool | None:
        self.ws.receive_eof()
        self.flush()
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
            elif exc.problem in _CLOSING_PROBLEMS:
                self.close(CloseCode.PROTOCOL_ERROR)
            else:
                code = ErrorCode.UNKNOWN_TYPE if exc.problem is DecodeProblem.UNKNOWN_TYPE else ErrorCode.BAD_REQUEST
                self.step(self.session.error(error_frame(code, exc.request_id), now))
            return
        self.step(self.session.on_frame(frame, now))

    def step(self, step: Step) -> None:
        """Do what the session decided: reply, close, or start the work a frame asks for."""
        if step.reply is not None:
            self.send(step.reply)
        if step.close is not None:
            log.info("live connection closed: conn=%s code=%d", self.id, step.close)
            self.close(step.close)
            return
        if step.work is None:
            return
        frame = step.frame
        spawn = self.gateway.spawn
        if step.work is Work.SUBSCRIBE and isinstance(frame, Subscribe):
            self.session.channels.add(frame.channel)
            spawn(subscribe(self, frame))
        elif step.work is Work.UNSUBSCRIBE and isinstance(frame, Unsubscribe):
            self.leave(frame.channel)
            self.send(Unsubscribed(id=frame.id, channel=frame.channel))
        elif step.work is Work.PUBLISH and isinstance(frame, Publish):
            turn = self.turns[frame.channel] = Turn(self.turns.get(frame.channel))
            spawn(self._publish(frame, turn))
        elif step.work is Work.TYPING and isinstance(frame, Typing):
            spawn(self._typing(frame))
        elif step.work is Work.AUTHENTICATE and isinstance(frame, Hello):
            spawn(redeem_hello(self, frame))

    def refuse(self, code: ErrorCode, request_id: int | None, channel: str | None, retry_ms: int | None = None) -> None:
        """Answer a request with an error frame (the session closes a client that keeps causing them)."""
        self.step(self.session.error(error_frame(code, request_id, channel, retry_ms), time.monotonic()))

    def leave(self, name: str) -> None:
        """Leave channel ``name``: no more events from the hub, and the presence entry goes."""
        if name in self.session.channels:
            self.session.channels.discard(name)
            self.present.discard(name)
            self.gateway.hub.leave(name, self)
            self.gateway.spawn(self.gateway.channel_presence.leave(name, self))

    # --- publishing --------------------------------------------------------------

    async def _publish(self, frame: Publish, turn: Turn) -> None:
        actor = self.actor
        assert actor is not None
        chat = self.gateway.chat
        try:
            acked = await chat.do_publish(actor, frame.channel, frame.client_msg_id, frame.body.text, turn=turn)
        except ChatError as exc:
            if not self.gone():
                if exc.reason:
                    error = Error(code=int(exc.code), reason=exc.reason, id=frame.id, channel=frame.channel)
                    self.step(self.session.error(error, time.monotonic()))
                else:
                    refusal = error_frame(exc.code, frame.id, frame.channel, exc.retry_after_ms)
                    self.step(self.session.error(refusal, time.monotonic(), frame.client_msg_id))
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
        gateway = self.gateway
        allowed = await check_channel(actor, frame.channel, "publish", gateway.catalog, gateway.resolvers)
        if allowed:
            await gateway.hub.broadcast(frame.channel, TypingNotice(channel=frame.channel, pseudonym=actor.pseudonym))

    # --- closing -----------------------------------------------------------------

    def _slow(self) -> None:
        if self.gone():
            return
        log.info("live connection closed: conn=%s code=%d (outbox full)", self.id, CloseCode.SLOW_CONSUMER)
        self.close(CloseCode.SLOW_CONSUMER)

    def close(self, code: CloseCode) -> None:
        """Close with ``code``; the socket is aborted if the client does not answer in time."""
        if self.gone():
            return
        self.closing = True
        self.session.closed()
        self._cleanup()
        with contextlib.suppress(Exception):
            if self.ws.state.name == "OPEN":
                self.ws.send_close(int(code), CLOSE_REASONS[code])
            self.flush()
        loop = asyncio.get_running_loop()
        self._abort_timer = loop.call_later(CLOSE_GRACE_S, self.transport.abort)

    def shutdown(self) -> None:
        """uvicorn's graceful shutdown: clients move to another process and resume."""
        self.close(CloseCode.SERVICE_RESTART)

    def _cleanup(self) -> None:
        if self._abort_timer is not None and self.lost:
            self._abort_timer.cancel()
        if self.handshake_timer is not None and self.lost:
            self.handshake_timer.cancel()
        self.server_state.connections.discard(self)
        self.gateway.forget(self)
        for name in list(self.session.channels):
            self.leave(name)
