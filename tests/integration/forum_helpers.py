"""Helpers for the forum tests: start threads, reply and approve held posts through the moderation service."""

from __future__ import annotations

import re

import httpx

from chatserver.domain.identity import Actor

from ..conftest import RunningServer
from .content_helpers import post_form

FLAVOUR = "psychosenet"
FORUM = f"/f/{FLAVOUR}/forum"
OPEN_CATEGORY = "ervaringen"
PREMODERATED_CATEGORY = "medicatie"
THREAD_RE = re.compile(r"/forum/t/([0-9a-f]{16})")


async def start_thread(
    client: httpx.AsyncClient, title: str, body: str, category: str = OPEN_CATEGORY
) -> tuple[httpx.Response, str]:
    response = await post_form(
        client, f"{FORUM}/c/{category}/nieuw", f"{FORUM}/c/{category}/nieuw", {"title": title, "body": body}
    )
    match = THREAD_RE.search(response.headers.get("location", ""))
    return response, match.group(1) if match else ""


async def reply(client: httpx.AsyncClient, thread_id: str, body: str) -> httpx.Response:
    return await post_form(client, f"{FORUM}/t/{thread_id}", f"{FORUM}/t/{thread_id}/reageren", {"body": body})


async def approve_post(server: RunningServer, moderator: Actor, post_id: str) -> None:
    from chatserver.services.moderation import StaffDecision

    services = server.services
    doc = await services.db["forum_posts"].find_one({"_id": post_id})
    assert doc is not None and doc["moderation_item"], "the held post has no moderation item"
    moderation = services.moderation
    await moderation.claim(moderator, doc["moderation_item"])
    await moderation.decide(moderator, doc["moderation_item"], StaffDecision(kind="approve", reason="prima"))
