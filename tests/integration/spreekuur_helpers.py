"""Shared helpers for the spreekuur tests: a real host account, a scheduled session, a question flow."""

from __future__ import annotations

import secrets
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx

from chatserver.domain.identity import Actor
from chatserver.services.spreekuur import Schedule, SpreekuurService

from ..conftest import RunningServer
from .content_helpers import csrf_of, staff


def service(server: RunningServer) -> SpreekuurService:
    svc: SpreekuurService = server.services.spreekuur
    return svc


def seat_key(server: RunningServer, sid: str) -> str:
    """The Redis key of a session's seat set (as the wiring names it)."""
    return server.services.key("spreekuur", "seats", sid)


async def host_account(server: RunningServer, flavour: str = "psychosenet", role: str = "professional") -> Actor:
    """A verified staff account stored in the database (hosts are chosen from stored accounts)."""
    identity = server.services.identity
    created = await identity.create_staff(None, f"host{secrets.token_hex(3)}", role, [flavour], "BIG-1", verified=True)
    actor: Actor = identity.actor_from_doc(created.doc)
    return actor


async def scheduled(
    server: RunningServer,
    host: Actor | None,
    flavour: str = "psychosenet",
    starts_in: timedelta = timedelta(hours=1),
    minutes: int = 60,
    title: str = "Spreekuur met de psychiater",
    capacity: int = 100,
) -> dict[str, Any]:
    starts = datetime.now(UTC) + starts_in
    editor = staff("editor", flavour)
    schedule = Schedule(flavour, host.account_id if host else "", title, "Stel je vraag.", starts,
                        starts + timedelta(minutes=minutes), capacity)  # fmt: skip
    return await service(server).schedule(editor, schedule)


async def ask_over_http(
    client: httpx.AsyncClient, flavour: str, sid: str, text: str, show_name: bool = False
) -> httpx.Response:
    page = await client.get(f"/f/{flavour}/spreekuur/{sid}/")
    assert page.status_code == 200, page.text[:300]
    data = {"csrf_token": csrf_of(page.text), "text": text}
    if show_name:
        data["show_name"] = "1"
    return await client.post(f"/f/{flavour}/spreekuur/{sid}/vragen", data=data)
