"""The live gateway: owns this process's live connections.

The front door hands over a connection whose request head asks for ``/ws``; the gateway counts it
against the connection caps, bounds its outbox and lets the handshake answer it
(:mod:`~chatserver.live.handshake`). From then on the :class:`~chatserver.live.connection.Connection`
reads frames and writes through its one write method; subscribing is in
:mod:`~chatserver.live.subscription`, presence in :mod:`~chatserver.live.presence`, the local fan-out in
:mod:`~chatserver.live.hub`. Here: the registries (by session, account and address), revoked sessions,
heartbeats and timeouts, and shutdown. See docs/architecture.md.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import socket
import time
from collections.abc import Coroutine
from typing import Any

import msgspec
from uvicorn.server import ServerState

from chatserver.domain.channels import ChannelResolvers
from chatserver.domain.identity import Actor
from chatserver.flavours import FlavourCatalog
from chatserver.live import outbox
from chatserver.live.connection import Connection
from chatserver.live.handshake import AUTH_TIMEOUT_S, HEARTBEAT_S, IDLE_TIMEOUT_S, ConnectionCaps, begin
from chatserver.live.hub import Hub
from chatserver.live.presence import ChannelPresence
from chatserver.ports import LiveSessions, PresenceStore
from chatserver.protocol import CloseCode
from chatserver.services.chat import ChatService

log = logging.getLogger("chatserver.live")

SWEEP_S = 2.0


class Gateway:
    """Owns the live connections of this process; built by the live feature at start-up."""

    def __init__(
        self,
        *,
        catalog: FlavourCatalog,
        sessions: LiveSessions,
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
        self.channel_presence = ChannelPresence(presence, resolvers, hub)
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
        if not begin(connection, head):
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
        """Renew the presence entries of every live connection of this process, in one pipeline."""
        try:
            await self.channel_presence.refresh(self.connections)
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


__all__ = ["Connection", "ConnectionCaps", "Gateway"]
