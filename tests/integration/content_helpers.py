"""Shared helpers for the content and VraagBaak tests: sessions as staff or member, CSRF from a form page."""

from __future__ import annotations

import re
import secrets
from typing import Any

import httpx

from chatserver.domain.identity import AccountId, Actor, StaffRole

from ..conftest import RunningServer

CSRF_RE = re.compile(r'name="csrf_token" value="([^"]+)"')


def csrf_of(html: str) -> str:
    match = CSRF_RE.search(html)
    assert match, "page has no CSRF field"
    return match.group(1)


async def login_as(server: RunningServer, client: httpx.AsyncClient, actor: Actor) -> None:
    token = await server.services.sessions.create(actor)
    client.cookies.set("gem_session", token)


def staff(role: StaffRole, *flavours: str, name: str = "") -> Actor:
    return Actor(
        account_id=AccountId("acc-" + secrets.token_hex(6)),
        pseudonym=name or f"mw{secrets.token_hex(3)}",
        kind="staff",
        role=role,
        flavours=frozenset(flavours),
        validated=True,
        verified=True,
    )


def member(name: str = "") -> Actor:
    return Actor(
        account_id=AccountId("acc-" + secrets.token_hex(6)),
        pseudonym=name or f"lid{secrets.token_hex(3)}",
        kind="member",
        validated=True,
    )


async def post_form(client: httpx.AsyncClient, form_url: str, action: str, data: dict[str, Any]) -> httpx.Response:
    """Load ``form_url`` for its CSRF token, then post ``data`` to ``action``."""
    page = await client.get(form_url)
    assert page.status_code == 200, page.text[:500]
    return await client.post(action, data={"csrf_token": csrf_of(page.text), **data})


async def new_client(server: RunningServer) -> httpx.AsyncClient:
    return httpx.AsyncClient(base_url=server.url, timeout=10.0, follow_redirects=False)
