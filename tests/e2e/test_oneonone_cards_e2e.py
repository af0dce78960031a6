"""In two browsers at 390 px: a volunteer in a 1-on-1 chat searches the VitaliteitsMarkt in the console by keyboard
and sends an entry as a card; the visitor sees the card at once and its link opens the entry. axe finds no serious
or critical violation on the console or the visitor's page. And on an entry's page the link to share is copied."""

from __future__ import annotations

import re
from collections.abc import Awaitable, Callable
from pathlib import Path

import pytest
from playwright.async_api import Page, expect

from chatserver.live.frontdoor import GATEWAY_STATE_KEY

from ..conftest import RunningServer
from ..integration.test_oneonone_support import FLAVOUR, staff
from .conftest import OpenPage

pytestmark = pytest.mark.e2e

PHONE = {"viewport": {"width": 390, "height": 844}}
ENTRY = f"/f/{FLAVOUR}/markt/rustpunt-app"


async def test_a_volunteer_sends_a_tool_card_and_the_visitor_opens_it(
    server: RunningServer,
    open_page: OpenPage,
    screenshot: Callable[[Page, str], Awaitable[Path]],
    assert_accessible: Callable[[Page], Awaitable[None]],
) -> None:
    services = server.services
    gateway = services.lifespan_state[GATEWAY_STATE_KEY]
    gateway.allowed_origins = gateway.allowed_origins | {server.url}
    await services.markt.seed_demo()
    vera = staff("volunteer", name="Vera")
    await services.shifts.sign_on(vera, [FLAVOUR], 2)

    guest = await open_page(**PHONE)
    await guest.goto(f"/f/{FLAVOUR}/chat/gesprek/")
    await guest.locator("#topic").fill("Ik slaap slecht")
    await guest.locator("#topic").press("Enter")
    await guest.wait_for_url(re.compile(r"/chat/gesprek/[A-Za-z0-9_-]+$"))
    chat_id = guest.url.rsplit("/", 1)[1]
    await services.oneonone.accept(vera, chat_id)
    await expect(guest.get_by_text("Je praat met Vera")).to_be_visible(timeout=15000)

    console = await open_page(vera, **PHONE)
    await console.goto(f"/backoffice/gesprekken/{chat_id}")
    await expect(console.locator("#card-entry option")).to_have_count(10)  # "Kies aanbod" and nine entries
    # Search by keyboard: the list narrows in place, and says how many it found.
    await console.locator("#card-q").focus()
    await console.keyboard.type("ademhaling")
    await console.keyboard.press("Enter")
    await expect(console.locator("#card-count")).to_have_text("1 resultaat")
    await expect(console.locator("#card-entry option")).to_have_count(2)
    assert console.url.endswith(f"/backoffice/gesprekken/{chat_id}")  # no reload: a half-written line would stay
    await console.locator("#card-entry").focus()
    await console.keyboard.press("ArrowDown")
    await expect(console.locator("#card-entry")).to_have_value("rustpunt-app")
    await console.keyboard.press("Tab")
    await expect(console.get_by_role("button", name="Stuur als kaart")).to_be_focused()
    await console.keyboard.press("Enter")
    await console.wait_for_url(f"**/backoffice/gesprekken/{chat_id}")

    # The visitor's page shows the card live, with the link to the entry.
    card = guest.locator("#gesprek-log .gesprek-card")
    await expect(card).to_contain_text("Rustpunt (fictief voorbeeld)", timeout=15000)
    await expect(card).to_contain_text("Vera (Vrijwilliger) raadt aan:")
    await expect(card).to_contain_text("Korte ademhalings- en ontspanningsoefeningen")
    link = card.get_by_role("link", name=re.compile("Rustpunt"))
    await expect(link).to_have_attribute("href", ENTRY)
    await expect(console.locator("#gesprek-log .gesprek-card")).to_contain_text("Rustpunt (fictief voorbeeld)")
    await screenshot(console, "console-card-390")
    await assert_accessible(console)
    await screenshot(guest, "visitor-card-390")
    await assert_accessible(guest)
    async with guest.context.expect_page() as opened:
        await link.click()
    entry = await opened.value
    await entry.wait_for_load_state()
    assert entry.url == f"{server.url}{ENTRY}"
    await expect(entry.get_by_role("heading", level=1)).to_have_text("Rustpunt (fictief voorbeeld)")
    # Nothing is wider than the phone.
    for page in (console, guest):
        assert await page.evaluate("() => document.documentElement.scrollWidth") <= 390


async def test_the_entry_page_copies_its_link_to_share(
    server: RunningServer, open_page: OpenPage, assert_accessible: Callable[[Page], Awaitable[None]]
) -> None:
    await server.services.markt.seed_demo()
    visitor = await open_page(permissions=["clipboard-read", "clipboard-write"], **PHONE)
    await visitor.goto(ENTRY)
    field = visitor.get_by_label("Link naar Rustpunt (fictief voorbeeld)")
    await expect(field).to_have_value(f"{server.url}{ENTRY}")
    await visitor.get_by_role("button", name="Kopieer link").click()
    await expect(visitor.locator("[data-share-status]")).to_have_text("De link is gekopieerd.")
    assert await visitor.evaluate("() => navigator.clipboard.readText()") == f"{server.url}{ENTRY}"
    await assert_accessible(visitor)
