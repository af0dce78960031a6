"""In the browser: a pre-moderated forum post appears for another visitor only after a moderator approves it."""

from __future__ import annotations

import secrets
from collections.abc import Awaitable, Callable
from pathlib import Path

import pytest
from playwright.async_api import Page, expect

from chatserver.domain.identity import AccountId, Actor

from ..conftest import RunningServer
from .conftest import OpenPage

pytestmark = pytest.mark.e2e

FORUM = "/f/psychosenet/forum"


def person(name: str, kind: str = "member", role: str | None = None) -> Actor:
    return Actor(
        account_id=AccountId("acc-" + secrets.token_hex(6)),
        pseudonym=name,
        kind=kind,  # type: ignore[arg-type]
        role=role,  # type: ignore[arg-type]
        flavours=frozenset({"psychosenet"}) if role else frozenset(),
        validated=True,
        verified=bool(role),
    )


async def test_premoderated_reply_appears_live_after_approval(
    server: RunningServer,
    open_page: OpenPage,
    screenshot: Callable[[Page, str], Awaitable[Path]],
    assert_accessible: Callable[[Page], Awaitable[None]],
) -> None:
    from chatserver.services.moderation import StaffDecision

    services = server.services
    forum = services.forum
    flavour = services.catalog.get("psychosenet")
    starter = person("Starter")
    posted = await forum.create_thread(starter, flavour, "medicatie", "Afbouwen met hulp", "Wie heeft tips?", "")
    moderator = person("Moderator", "staff", "volunteer")
    item = (await services.db["forum_posts"].find_one({"_id": posted.post_id}))["moderation_item"]
    await services.moderation.claim(moderator, item)
    await services.moderation.decide(moderator, item, StaffDecision(kind="approve", reason="goed"))

    author = await open_page(person("Schrijfster"))
    await author.goto(f"{FORUM}/")
    await screenshot(author, "forum-index")
    await assert_accessible(author)
    await author.goto(f"{FORUM}/t/{posted.thread_id}")
    await author.get_by_label("Je reactie").fill("Mij hielp het om een schema te maken met mijn arts.")
    await author.get_by_role("button", name="Plaatsen").click()
    await expect(author.get_by_text("wacht op goedkeuring").first).to_be_visible()
    await screenshot(author, "forum-waiting")
    await assert_accessible(author)

    visitor = await open_page(person("Meelezer"))
    await visitor.goto(f"{FORUM}/t/{posted.thread_id}")
    await expect(visitor.get_by_role("heading", name="Afbouwen met hulp")).to_be_visible()
    await expect(visitor.get_by_text("een schema te maken")).to_have_count(0)
    await visitor.wait_for_timeout(300)  # let the live client subscribe

    held = await services.db["forum_posts"].find_one({"thread_id": posted.thread_id, "status": "held"})
    assert held is not None
    await services.moderation.claim(moderator, held["moderation_item"])
    await services.moderation.decide(moderator, held["moderation_item"], StaffDecision(kind="approve", reason="prima"))
    await expect(visitor.get_by_text("een schema te maken")).to_be_visible(timeout=5000)
    await screenshot(visitor, "forum-thread-live")
    await assert_accessible(visitor)
