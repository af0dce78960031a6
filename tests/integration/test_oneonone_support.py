"""Helpers shared by the 1-on-1 chat and shift tests (actors, sessions, form posts with CSRF, waits)."""

from __future__ import annotations

import asyncio
import re
import secrets
from collections.abc import Awaitable, Callable
from typing import Any

import httpx

from chatserver.domain.identity import AccountId, Actor, StaffRole

FLAVOUR = "psychosenet"
CSRF_RE = re.compile(r'name="csrf_token" value="([^"]+)"')


def visitor(name: str = "", kind: str = "member") -> Actor:
    return Actor(
        account_id=AccountId(secrets.token_hex(6)),
        pseudonym=name or f"bezoeker-{secrets.token_hex(2)}",
        kind=kind,  # type: ignore[arg-type]
    )


def staff(role: StaffRole = "volunteer", flavours: tuple[str, ...] = (FLAVOUR,), name: str = "") -> Actor:
    return Actor(
        account_id=AccountId(secrets.token_hex(6)),
        pseudonym=name or f"{role}-{secrets.token_hex(2)}",
        kind="staff",
        role=role,
        flavours=frozenset(flavours),
        validated=True,
        verified=True,
    )


def services_of(server: Any) -> Any:
    return server.services


async def login(server: Any, client: httpx.AsyncClient, actor: Actor) -> str:
    token: str = await server.services.sessions.create(actor)
    client.cookies.set("gem_session", token)
    return token


async def csrf(client: httpx.AsyncClient, path: str) -> str:
    page = await client.get(path)
    match = CSRF_RE.search(page.text)
    assert match, f"no csrf token on {path} ({page.status_code})"
    return match.group(1)


async def post_form(client: httpx.AsyncClient, page: str, action: str, data: dict[str, Any]) -> httpx.Response:
    token = await csrf(client, page)
    return await client.post(action, data={**data, "csrf_token": token})


async def eventually(check: Callable[[], Awaitable[bool]], timeout: float = 5.0) -> None:
    async with asyncio.timeout(timeout):
        while not await check():
            await asyncio.sleep(0.05)


async def system_lines(server: Any, channel: str) -> list[str]:
    docs = await server.services.db["events"].find({"channel": channel, "kind": "system"}).to_list(None)
    return [str(d["data"]["text"]) for d in docs]
