"""Helpers for the moderation tests: actors, logged-in clients, items submitted through the real service."""

from __future__ import annotations

import re
import secrets
from typing import Any

import httpx

from chatserver.domain.identity import AccountId, Actor, StaffRole
from chatserver.services.moderation import ItemRef, ModerationService

from ..conftest import RunningServer

CSRF_RE = re.compile(r'name="csrf_token" value="([^"]+)"')
FLAVOUR = "psychosenet"
OTHER = "dwang"
ROOM = f"room:{FLAVOUR}:stemmen-horen"


def staff(role: StaffRole, *flavours: str, name: str = "") -> Actor:
    return Actor(
        account_id=AccountId("st-" + secrets.token_hex(6)),
        pseudonym=name or f"mw{secrets.token_hex(3)}",
        kind="staff",
        role=role,
        flavours=frozenset(flavours),
        validated=True,
        verified=True,
    )


def member(name: str = "") -> Actor:
    return Actor(
        account_id=AccountId("lid-" + secrets.token_hex(6)),
        pseudonym=name or f"lid{secrets.token_hex(3)}",
        kind="member",
        validated=True,
    )


def service_of(server: RunningServer) -> ModerationService:
    found: ModerationService = server.services.moderation
    return found


async def client_for(server: RunningServer, actor: Actor | None) -> httpx.AsyncClient:
    client = httpx.AsyncClient(base_url=server.url, timeout=10.0, follow_redirects=False)
    if actor is not None:
        client.cookies.set("gem_session", await server.services.sessions.create(actor))
    return client


def csrf_of(html: str) -> str:
    match = CSRF_RE.search(html)
    assert match, "page has no CSRF field"
    return match.group(1)


async def post_form(client: httpx.AsyncClient, form_url: str, action: str, data: dict[str, Any]) -> httpx.Response:
    page = await client.get(form_url)
    assert page.status_code == 200, page.text[:300]
    return await client.post(action, data={"csrf_token": csrf_of(page.text), **data})


async def held_item(
    server: RunningServer, author: Actor, text: str, *, flavour: str = FLAVOUR, source: str = "rule"
) -> str:
    """A message held by the rules (or the crisis detector), as the chat screener would submit it."""
    service = service_of(server)
    channel = f"room:{flavour}:stemmen-horen" if flavour == FLAVOUR else f"room:{flavour}:welkom"
    client_msg_id = secrets.token_hex(6)
    verdict = service.screen(author, flavour, "room", text)
    return await service.submit(
        flavour=flavour,
        source=source,  # type: ignore[arg-type]
        ref=ItemRef(kind="room_message", id=f"{channel}#{client_msg_id}", channel=channel),
        text=text,
        author=author,
        verdict=verdict,
        held_payload={
            "channel": channel,
            "client_msg_id": client_msg_id,
            "text": text,
            "author": {"account_id": author.account_id, "pseudonym": author.pseudonym, "kind": author.kind,
                       "validated": True},
        },
    )  # fmt: skip


async def published(server: RunningServer, author: Actor, text: str, channel: str = ROOM) -> int:
    """Publish a message in a room as ``author``; its offset."""
    chat = server.services.chat
    acked = await chat.do_publish(author, channel, secrets.token_hex(6), text)
    assert not acked.held
    return int(acked.offset)


async def events(server: RunningServer, channel: str) -> list[dict[str, Any]]:
    """The stored events of a channel, as documents."""
    docs = await server.services.chat.store.read_after(channel, 0, 100)
    return list(docs)


async def put_on_shift(server: RunningServer, actor: Actor, flavour: str = FLAVOUR) -> None:
    """Sign a staff member on through the shifts service (or, without it, the documented Redis set)."""
    import asyncio

    # The start-up re-derivation of the on-shift sets (a one-off job) must not run over this sign-on.
    async with asyncio.timeout(5):
        while "oneonone-rederive" in server.services.supervisor.running():
            await asyncio.sleep(0.02)
    shifts = server.services.shifts
    if shifts is not None:
        await shifts.sign_on(actor, [flavour], 2)
    else:
        await server.services.redis.sadd(server.services.key("onshift", flavour, str(actor.role)), actor.account_id)
