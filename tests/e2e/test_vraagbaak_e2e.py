"""In a real browser: a VraagBaak asker who keeps the private page open sees the answer arrive without reloading
(htmx polls the page's answer part; the page's clock is moved, not waited for), announced politely; axe clean."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from pathlib import Path

import pytest
from playwright.async_api import Page, expect

from ..conftest import RunningServer
from ..integration.content_helpers import staff
from .conftest import OpenPage

pytestmark = pytest.mark.e2e

QUESTION = "Hoe vertel ik mijn vrienden dat ik stemmen hoor zonder dat ze schrikken?"
ANSWER = "Begin bij iemand die je vertrouwt, en vertel zoveel als goed voelt."


async def test_the_answer_appears_on_the_open_private_page(
    server: RunningServer,
    open_page: OpenPage,
    screenshot: Callable[[Page, str], Awaitable[Path]],
    assert_accessible: Callable[[Page], Awaitable[None]],
) -> None:
    asker = await open_page()
    await asker.clock.install()
    await asker.goto("/vraagbaak/")
    await asker.get_by_label("Je vraag").first.fill(QUESTION)
    await asker.locator("form button[type=submit]").last.click()
    await expect(asker.get_by_text("Bewaar deze link")).to_be_visible()
    await expect(asker.locator("[data-answer-status]")).to_have_attribute("data-answer-status", "open")
    await asker.evaluate("window.__notReloaded = true")

    desk = server.services.vraagbaak
    [doc] = await desk.repo.active(10)
    moderator = staff("peer_expert", "psychosenet", name="Antwoorder_E2E")
    await desk.claim(moderator, doc["_id"])
    await desk.answer(moderator, doc["_id"], ANSWER)

    await asker.clock.fast_forward(31_000)  # one polling interval
    await expect(asker.locator("#vb-answer")).to_contain_text(ANSWER)
    await expect(asker.locator("#vb-answer")).to_contain_text("Beantwoord door Antwoorder_E2E")
    assert await asker.evaluate("window.__notReloaded === true")
    assert not await asker.locator("[data-answer-status]").evaluate("el => el.hasAttribute('hx-get')")  # stopped
    await screenshot(asker, "answer-arrived")
    await assert_accessible(asker)
