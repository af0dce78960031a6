"""One pub/sub connection of the broker: to the server, or to one cluster primary, and the channels it holds.

A link opens its connection before it subscribes anything, subscribes every
channel it holds again after a reconnect, and reports the reconnect so that the
hub can refill what pub/sub (at most once) lost. It pings in subscribed mode and
drops a connection that stays silent. The broker (:mod:`chatserver.adapters.redis_broker`)
decides which link holds which channel.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import math
import time
from collections.abc import Callable
from typing import Protocol

from redis.asyncio.connection import AbstractConnection
from redis.exceptions import ResponseError

from chatserver.adapters.redis_client import REDIS_ERRORS

log = logging.getLogger("chatserver.broker")

PING_INTERVAL_S = 3.0
DEAD_AFTER_S = 10.0
RECONNECT_MIN_S = 0.1
RECONNECT_MAX_S = 1.0

BrokerError = REDIS_ERRORS

MessageHandler = Callable[[bytes, bytes], None]
ReconnectHandler = Callable[[set[bytes]], None]  # the channels whose messages may have been lost


class LinkOwner(Protocol):
    """What a link asks of the broker that owns it."""

    sharded: bool
    sub_command: str
    unsub_command: str

    def confirmed(self, name: bytes) -> None:
        """Redis confirmed the subscription of ``name``."""
        ...

    def orphaned(self, link: PubSubLink, name: bytes) -> None:
        """The cluster took ``name`` away from ``link`` (a slot move)."""
        ...

    def topology_suspect(self) -> None:
        """Something suggests that the cluster's slot map changed."""
        ...


class PubSubLink:
    """One pub/sub connection, to the server or to one cluster primary, and the channels it holds."""

    def __init__(self, broker: LinkOwner, name: str, factory: Callable[[], AbstractConnection]) -> None:
        self.broker = broker
        self.name = name
        self.factory = factory
        self.wanted: set[bytes] = set()
        self.active: set[bytes] = set()
        self.conn: AbstractConnection | None = None
        self.connected = asyncio.Event()
        self.last_seen = 0.0
        self.ever_connected = False
        # After a reconnect or a move: the channels to refill, once every one in ``expect`` is confirmed.
        self.expect: set[bytes] = set()
        self.refill: set[bytes] = set()

    async def send_subscribe(self, names: list[bytes]) -> None:
        conn = self.conn
        if conn is None or not self.connected.is_set() or not names:
            return
        sub = self.broker.sub_command
        if self.broker.sharded:  # one slot per SSUBSCRIBE; one write for all of them
            await conn.send_packed_command(conn.pack_commands([(sub, name) for name in names]))
        else:
            await conn.send_command(sub, *names)

    def forget(self, name: bytes) -> None:
        self.wanted.discard(name)
        self.active.discard(name)
        self.expect.discard(name)
        self.refill.discard(name)

    async def drop(self, name: bytes) -> None:
        """Forget a channel and unsubscribe it."""
        self.forget(name)
        conn = self.conn
        if conn is not None and self.connected.is_set():
            with contextlib.suppress(*BrokerError):
                await conn.send_command(self.broker.unsub_command, name)

    async def run(self, on_message: MessageHandler, on_reconnect: ReconnectHandler) -> None:
        """Read until cancelled, reconnecting with back-off."""
        backoff = RECONNECT_MIN_S
        while True:
            conn = self.factory()
            try:
                await conn.connect()  # type: ignore[no-untyped-call]
                self.conn = conn
                self.last_seen = time.monotonic()
                wanted = sorted(self.wanted)
                self.connected.set()
                await self.send_subscribe(wanted)
                if self.ever_connected:  # also when the broker's reader was restarted
                    log.info("pub/sub %s reconnected; resubscribed %d channels", self.name, len(wanted))
                    self.expect = set(wanted)
                    self.refill |= self.expect
                    self._maybe_resync(on_reconnect)
                self.ever_connected = True
                backoff = RECONNECT_MIN_S
                await self._read(conn, on_message, on_reconnect)
            except asyncio.CancelledError:
                raise
            except BrokerError as exc:
                log.warning("pub/sub %s connection lost (%s); reconnecting", self.name, type(exc).__name__)
                self.broker.topology_suspect()
            finally:
                self.connected.clear()
                self.active.clear()
                self.conn = None
                with contextlib.suppress(Exception):
                    await conn.disconnect()
            await asyncio.sleep(backoff)
            backoff = min(backoff * 2, RECONNECT_MAX_S)

    def _maybe_resync(self, on_reconnect: ReconnectHandler) -> None:
        if self.refill and not self.expect:
            names, self.refill = self.refill, set()
            on_reconnect(names)

    async def _read(self, conn: AbstractConnection, on_message: MessageHandler, on_reconnect: ReconnectHandler) -> None:
        watchdog = asyncio.create_task(self._watchdog(conn))
        message_kinds = (b"message", b"smessage")
        confirm_kinds = (b"subscribe", b"ssubscribe")
        try:
            while True:
                try:
                    reply = await conn.read_response(timeout=math.inf)
                except ResponseError as exc:  # e.g. MOVED: this node no longer owns a channel's slot
                    self.last_seen = time.monotonic()
                    log.info("pub/sub %s refused a subscription (%s)", self.name, str(exc).split(" ", 1)[0])
                    self.broker.topology_suspect()
                    continue
                self.last_seen = time.monotonic()
                if not isinstance(reply, list) or len(reply) < 2:
                    continue
                kind = reply[0]
                if kind in message_kinds:
                    try:
                        on_message(reply[1], reply[2])
                    except Exception:
                        log.exception("pub/sub message handler failed")
                elif kind in confirm_kinds:
                    name = reply[1]
                    if name in self.wanted:
                        self.active.add(name)
                        self.broker.confirmed(name)
                    if name in self.expect:
                        self.expect.discard(name)
                        self._maybe_resync(on_reconnect)
                elif kind == b"sunsubscribe" and reply[1] in self.wanted:
                    # Not asked for: the cluster moved this channel's slot to another node.
                    self.broker.orphaned(self, reply[1])
        finally:
            watchdog.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await watchdog

    async def _watchdog(self, conn: AbstractConnection) -> None:
        """Ping in subscribed mode; a connection silent for too long is dropped."""
        while True:
            await asyncio.sleep(PING_INTERVAL_S)
            if time.monotonic() - self.last_seen > DEAD_AFTER_S:
                log.warning("pub/sub %s silent for %.0f s; dropping it", self.name, DEAD_AFTER_S)
                await conn.disconnect()
                return
            with contextlib.suppress(*BrokerError):
                await conn.send_command("PING")
