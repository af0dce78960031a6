"""The upgrade of a live connection: Origin, tokens, connection caps, authentication and the welcome.

The request head runs through ``websockets``' sans-I/O ``ServerProtocol``. What the head says is judged
by :func:`read_upgrade` without touching the socket (an exact Origin allow-list, no tokens in the URL,
the session cookie only from an allowed Origin, a Bearer header). The session store is asked once, with
the socket's reading paused and a deadline (:attr:`ConnectionCaps.handshake_timeout_s`); a client without
a token may still authenticate with a ``hello`` frame (:func:`redeem_hello`). Every answer is written
through the connection's one write method. See docs/protocol.md, "Connecting".
"""

from __future__ import annotations

import asyncio
import hashlib
import hmac
import ipaddress
import logging
import secrets
from dataclasses import dataclass, field
from http import HTTPStatus
from typing import TYPE_CHECKING
from urllib.parse import parse_qsl, urlsplit

from websockets.datastructures import Headers
from websockets.http11 import Request, Response
from websockets.server import ServerProtocol

from chatserver.config import (
    CONNECTION_CAP_EXEMPT,
    HANDSHAKE_TIMEOUT_S,
    MAX_CONNECTIONS_PER_ACCOUNT,
    MAX_CONNECTIONS_PER_ADDRESS,
)
from chatserver.domain.identity import Actor
from chatserver.i18n import DEFAULT_LANG, N_, pick_language
from chatserver.live.session import MAX_SUBSCRIPTIONS, PUBLISH_BURST, PUBLISH_PER_S
from chatserver.protocol import (
    MAX_FRAME_BYTES,
    MAX_TEXT_CHARS,
    PROTOCOL_VERSION,
    CloseCode,
    ErrorCode,
    Hello,
    Limits,
    Welcome,
)

if TYPE_CHECKING:
    from chatserver.live.connection import Connection

log = logging.getLogger("chatserver.live")

SESSION_COOKIE = "gem_session"
HEARTBEAT_S = 20.0
IDLE_TIMEOUT_S = 60.0
AUTH_TIMEOUT_S = 10.0
_URL_SECRETS = frozenset({"token", "access_token", "session", "gem_session", "auth", "bearer"})
_FAIL_CODES = {
    1009: int(CloseCode.MESSAGE_TOO_BIG),
    1007: int(CloseCode.PROTOCOL_ERROR),
    1002: int(CloseCode.PROTOCOL_ERROR),
}
_UNAVAILABLE = (HTTPStatus.SERVICE_UNAVAILABLE, N_("Tijdelijk niet beschikbaar."))

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


@dataclass(frozen=True, slots=True)
class Refused:
    """An upgrade answered with a plain HTTP error (``why`` is for the log)."""

    status: HTTPStatus
    text: str
    why: str


@dataclass(frozen=True, slots=True)
class Accepted:
    """An upgrade ``websockets`` answered (101, or its own 4xx); ``token`` is what authenticates it."""

    response: Response
    token: str | None
    lang: str = DEFAULT_LANG  # chosen with the gem_lang cookie, as for pages


def _cookie(headers: Headers, name: str) -> str | None:
    for raw in headers.get_all("Cookie"):
        for part in raw.split(";"):
            key, sep, value = part.strip().partition("=")
            if sep and key == name:
                return value.strip().strip('"')
    return None


def http_response(status: HTTPStatus, text: str) -> bytes:
    """A complete plain-text HTTP/1.1 answer that ends the connection."""
    body = text.encode()
    return (
        b"HTTP/1.1 %d %s\r\nContent-Type: text/plain; charset=utf-8\r\nContent-Length: %d\r\nConnection: close\r\n\r\n"
        % (status.value, status.phrase.encode(), len(body))
    ) + body


def read_upgrade(ws: ServerProtocol, head: bytes, allowed_origins: frozenset[str]) -> Accepted | Refused:
    """Judge the request ``head``: refused, or ``websockets``' answer and the token to authenticate with.

    A browser always sends Origin; only an allowed one may use the session cookie. Clients without
    Origin (apps, the load generator) authenticate with a Bearer header or a ``hello`` frame.
    """
    ws.receive_data(head)
    events = ws.events_received()
    request = events[0] if events else None
    if not isinstance(request, Request):
        return Refused(HTTPStatus.BAD_REQUEST, N_("Ongeldig WebSocket-verzoek."), "malformed-handshake")
    query = urlsplit(request.path).query
    if any(name.lower() in _URL_SECRETS for name, _ in parse_qsl(query, keep_blank_values=True)):
        text = N_("Geen tokens in de URL; gebruik de cookie of een hello-frame.")
        return Refused(HTTPStatus.BAD_REQUEST, text, "url-token")
    origin = request.headers.get("Origin")
    if origin is not None and origin not in allowed_origins:
        return Refused(HTTPStatus.FORBIDDEN, N_("Verbinding vanaf deze website is niet toegestaan."), "foreign-origin")
    authorization = request.headers.get("Authorization", "")
    bearer = authorization[7:].strip() if authorization.lower().startswith("bearer ") else None
    token = bearer if bearer is not None else (_cookie(request.headers, SESSION_COOKIE) if origin else None)
    lang = pick_language("; ".join(request.headers.get_all("Cookie")))
    return Accepted(ws.accept(request), token, lang)


def begin(connection: Connection, head: bytes) -> bool:
    """Answer the upgrade in ``head``; False when it was refused (the answer is written, the socket closing)."""
    verdict = read_upgrade(connection.ws, head, connection.gateway.allowed_origins)
    if isinstance(verdict, Refused):
        log.info("live upgrade refused: %s", verdict.why)
        connection.answer_http(verdict.status, verdict.text)
        return False
    response = verdict.response
    connection.lang = verdict.lang
    if response.status_code != HTTPStatus.SWITCHING_PROTOCOLS:
        connection.ws.send_response(response)  # websockets' own refusal, then the end of the connection
        connection.flush()
        connection.transport.close()
        return False
    if connection.over_cap:  # opened only to say why, with a close code a browser can read
        connection.accept(response)
        log.info("live connection closed: conn=%s code=%d (address cap)", connection.id, CloseCode.TOO_MANY_CONNECTIONS)
        connection.close(CloseCode.TOO_MANY_CONNECTIONS)
        return True
    connection.transport.pause_reading()
    loop = asyncio.get_running_loop()
    timeout_s = connection.gateway.caps.handshake_timeout_s
    connection.handshake_timer = loop.call_later(timeout_s, _expired, connection)
    connection.gateway.spawn(_authenticate_upgrade(connection, response, verdict.token))
    return True


def _expired(connection: Connection) -> None:
    """The upgrade was not answered in time (the session store hangs): give up on it."""
    connection.handshake_timer = None
    if connection.open or connection.gone():
        return
    log.warning("live upgrade not answered within %.0f s; refused", connection.gateway.caps.handshake_timeout_s)
    connection.answer_http(*_UNAVAILABLE)


async def _authenticate_upgrade(connection: Connection, response: Response, token: str | None) -> None:
    actor: Actor | None = None
    failed = False
    if token:
        try:
            actor = await connection.gateway.sessions.get(token)
        except Exception as exc:
            log.warning("session lookup at upgrade failed (%s)", type(exc).__name__)
            if not connection.gone():
                connection.answer_http(*_UNAVAILABLE)
            return
        failed = actor is None
    if connection.gone():
        return
    if connection.handshake_timer is not None:
        connection.handshake_timer.cancel()
        connection.handshake_timer = None
    connection.accept(response)
    connection.transport.resume_reading()
    if failed:
        log.info("live session refused: unknown or ended session")
        connection.close(CloseCode.SESSION_ENDED)
    elif actor is not None:
        admit(connection, actor)


async def redeem_hello(connection: Connection, frame: Hello) -> None:
    """Authenticate an open connection with the one-time token of a ``hello`` frame."""
    try:
        actor = await connection.gateway.sessions.redeem_ws_token(frame.token or "")
    except Exception as exc:
        log.warning("ws token lookup failed (%s)", type(exc).__name__)
        connection.session.authenticating = False
        connection.refuse(ErrorCode.UNAVAILABLE, None, None, 1000)
        return
    if connection.gone():
        return
    if actor is None:
        log.info("live hello refused: unknown or used token")
        connection.close(CloseCode.SESSION_ENDED)
        return
    admit(connection, actor)


def admit(connection: Connection, actor: Actor) -> None:
    """``actor`` is who the connection speaks for, unless the account holds its cap of connections here."""
    gateway = connection.gateway
    if not gateway.admits(actor):
        log.info("live connection closed: conn=%s code=%d (account cap)", connection.id, CloseCode.TOO_MANY_CONNECTIONS)
        connection.close(CloseCode.TOO_MANY_CONNECTIONS)
        return
    connection.actor = actor
    connection.session.authenticated()
    gateway.index(connection, actor)
    connection.send(Welcome(v=PROTOCOL_VERSION, connection_id=connection.id, pseudonym=actor.pseudonym, limits=LIMITS))
