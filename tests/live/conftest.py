"""Helpers for live tests: sessions, connected WebSocket clients, frame waits with timeouts."""

from __future__ import annotations

import asyncio
import contextlib
import secrets
from collections.abc import AsyncIterator, Callable
from typing import Any

import msgspec
from websockets.asyncio.client import ClientConnection, connect

from chatserver.domain.identity import AccountId, Actor
from chatserver.protocol import decode_server_frame

ORIGIN = "https://chat.psychosenet.nl"
WAIT_S = 5.0


def member(name: str = "", **kw: Any) -> Actor:
    return Actor(
        account_id=AccountId(secrets.token_hex(6)), pseudonym=name or f"lid-{secrets.token_hex(2)}", kind="member", **kw
    )


def staff(flavour: str = "psychosenet", name: str = "") -> Actor:
    return Actor(
        account_id=AccountId(secrets.token_hex(6)),
        pseudonym=name or f"team-{secrets.token_hex(2)}",
        kind="staff",
        role="professional",
        flavours=frozenset({flavour}),
        validated=True,
        verified=True,
    )


async def session_for(server: Any, actor: Actor) -> str:
    token: str = await server.services.sessions.create(actor)
    return token


@contextlib.asynccontextmanager
async def ws(server: Any, token: str | None = None, origin: str | None = ORIGIN, **kw: Any) -> AsyncIterator[Client]:
    headers: dict[str, str] = {}
    if token is not None:
        headers["Cookie"] = f"gem_session={token}"
    async with connect(
        server.ws_url, origin=origin, additional_headers=headers, open_timeout=WAIT_S, close_timeout=1, **kw
    ) as conn:  # type: ignore[arg-type]
        yield Client(conn)


class Client:
    """A WebSocket client that decodes server frames and waits with timeouts."""

    def __init__(self, conn: ClientConnection) -> None:
        self.conn = conn
        self.seen: list[Any] = []
        self.next_id = 1

    async def send(self, **frame: Any) -> None:
        await self.conn.send(msgspec.json.encode(frame).decode())

    async def recv(self, timeout: float = WAIT_S) -> Any:
        raw = await asyncio.wait_for(self.conn.recv(), timeout)
        frame = decode_server_frame(raw)
        self.seen.append(frame)
        return frame

    async def expect(self, kind: type, timeout: float = WAIT_S, where: Callable[[Any], bool] | None = None) -> Any:
        """The next frame of type ``kind`` (others are kept in ``seen``)."""
        async with asyncio.timeout(timeout):
            while True:
                frame = await self.recv(timeout)
                if isinstance(frame, kind) and (where is None or where(frame)):
                    return frame

    async def subscribe(self, channel: str, since: dict[str, Any] | None = None) -> Any:
        from chatserver.protocol import Error, Subscribed

        rid = self.next_id
        self.next_id += 1
        frame: dict[str, Any] = {"type": "subscribe", "id": rid, "channel": channel}
        if since is not None:
            frame["since"] = since
        await self.send(**frame)
        return await self.expect((Subscribed, Error), where=lambda f: getattr(f, "id", None) == rid)  # type: ignore[arg-type]

    async def publish(self, channel: str, text: str, client_msg_id: str | None = None) -> Any:
        from chatserver.protocol import Ack, Error

        rid = self.next_id
        self.next_id += 1
        await self.send(
            type="publish",
            id=rid,
            channel=channel,
            client_msg_id=client_msg_id or secrets.token_hex(8),
            body={"text": text},
        )
        return await self.expect((Ack, Error), where=lambda f: getattr(f, "id", None) == rid)  # type: ignore[arg-type]

    async def closed_code(self, timeout: float = WAIT_S) -> int | None:
        """Read until the server closes; the close code it sent."""
        from websockets.exceptions import ConnectionClosed

        with contextlib.suppress(ConnectionClosed):
            async with asyncio.timeout(timeout):
                while True:
                    self.seen.append(decode_server_frame(await self.conn.recv()))
        rcvd = self.conn.protocol.close_rcvd
        return rcvd.code if rcvd else None
