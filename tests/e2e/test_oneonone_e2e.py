"""In two browsers: a visitor asks for a chat, a volunteer accepts, both write, the volunteer escalates to a
professional who takes over, and the chat ends with an outcome tag. The visitor side is used by keyboard only."""

from __future__ import annotations

import re
from collections.abc import Awaitable, Callable
from pathlib import Path

import pytest
from playwright.async_api import Page, expect

from chatserver.live.frontdoor import GATEWAY_STATE_KEY

from ..conftest import RunningServer
from ..integration.test_oneonone_support import FLAVOUR, staff, visitor
from .conftest import OpenPage

pytestmark = pytest.mark.e2e


async def test_visitor_volunteer_professional_warm_handoff(
    server: RunningServer,
    open_page: OpenPage,
    screenshot: Callable[[Page, str], Awaitable[Path]],
    assert_accessible: Callable[[Page], Awaitable[None]],
) -> None:
    services = server.services
    # The test server listens on a random port; its own origin is the one the browser sends at the upgrade.
    gateway = services.lifespan_state[GATEWAY_STATE_KEY]
    gateway.allowed_origins = gateway.allowed_origins | {server.url}
    oneonone, shifts = services.oneonone, services.shifts
    vol = staff("volunteer", name="Vera")
    pro = staff("professional", name="Anna")
    await shifts.sign_on(vol, [FLAVOUR], 3)
    await shifts.sign_on(pro, [FLAVOUR], 3)
    ahead = await oneonone.request(visitor(), FLAVOUR, "")  # someone is already waiting

    # the visitor asks, by keyboard, as a guest
    guest = await open_page()
    await guest.goto(f"/f/{FLAVOUR}/chat/gesprek/")
    await expect(guest.get_by_text("2 medewerkers in dienst")).to_be_visible()
    await assert_accessible(guest)
    await guest.locator("#topic").focus()
    await guest.keyboard.type("Ik hoor stemmen")
    await guest.keyboard.press("Enter")
    await guest.wait_for_url(re.compile(r"/chat/gesprek/[A-Za-z0-9_-]+$"))
    chat_id = guest.url.rsplit("/", 1)[1]
    position = guest.locator('[data-field="position"]')
    await expect(position).to_have_text("2")
    await screenshot(guest, "visitor-waiting")
    await assert_accessible(guest)

    # the one ahead is taken: the position updates without reloading
    marker = await guest.evaluate("() => { window.__same_page = true; return true; }")
    assert marker
    await oneonone.accept(pro, ahead["_id"])
    await expect(position).to_have_text("1")
    assert await guest.evaluate("() => window.__same_page === true")

    # the volunteer accepts in the console
    volunteer = await open_page(vol)
    await volunteer.goto("/backoffice/gesprekken")
    row = volunteer.locator(f'tr[data-chat-id="{chat_id}"]')
    await expect(row).to_contain_text("Ik hoor stemmen")
    await assert_accessible(volunteer)
    await screenshot(volunteer, "console-queue")
    await row.get_by_role("button").click()
    await volunteer.wait_for_url(f"**/backoffice/gesprekken/{chat_id}")
    await expect(guest.get_by_text("Je praat met Vera")).to_be_visible()

    # both write
    await guest.locator("#gesprek-text").focus()
    await guest.keyboard.type("Hoi, de stemmen zijn vandaag erg hard.")
    await guest.keyboard.press("Enter")
    await expect(volunteer.locator("#gesprek-log")).to_contain_text("de stemmen zijn vandaag erg hard")
    await volunteer.locator("#gesprek-text").fill("Wat vervelend. Ik ben er voor je.")
    await volunteer.locator("#gesprek-text").press("Enter")
    await expect(guest.locator("#gesprek-log")).to_contain_text("Ik ben er voor je.")
    await assert_accessible(volunteer)
    await screenshot(volunteer, "console-chat")

    # warm handoff to a professional
    await volunteer.locator("#esc-note").fill("Stemmen sterker sinds gisteren, slaapt slecht.")
    await volunteer.get_by_role("button", name="Doorverbinden").click()
    await volunteer.wait_for_url("**/backoffice/gesprekken")
    await expect(guest.locator("#gesprek-log")).to_contain_text("Je wordt doorverbonden met een professional")

    professional = await open_page(pro)
    await professional.goto("/backoffice/gesprekken")
    await professional.locator(f'tr[data-chat-id="{chat_id}"]').get_by_role("button").click()
    await professional.wait_for_url(f"**/backoffice/gesprekken/{chat_id}")
    await expect(professional.locator(".console-notes")).to_contain_text("slaapt slecht")
    await expect(professional.locator("#gesprek-log")).to_contain_text("de stemmen zijn vandaag erg hard")
    # The guest hears of the professional over the live connection; on a loaded machine (the whole suite beside
    # two browsers) that can take longer than the default five seconds.
    await expect(guest.locator("#gesprek-log")).to_contain_text(
        "Je wordt doorverbonden met een professional (Anna)", timeout=15000
    )
    await expect(guest.get_by_text("Je praat met Anna")).to_be_visible(timeout=15000)
    await professional.locator("#gesprek-text").fill("Hoi, ik ben Anna. Ik heb gelezen wat je vertelde.")
    await professional.locator("#gesprek-text").press("Enter")
    await expect(guest.locator("#gesprek-log")).to_contain_text("Ik heb gelezen wat je vertelde")
    await guest.locator("#gesprek-text").focus()
    await guest.keyboard.type("Dank je.")
    await guest.keyboard.press("Enter")
    await expect(professional.locator("#gesprek-log")).to_contain_text("Dank je.")
    await screenshot(guest, "visitor-after-handoff")
    await assert_accessible(guest)

    # the professional ends with an outcome tag
    await professional.get_by_label("Gehoord en gesteund").check()
    await professional.get_by_role("button", name="Gesprek afsluiten").click()
    await professional.wait_for_url("**/backoffice/gesprekken")
    await expect(guest.get_by_text("Dit gesprek is afgelopen.")).to_be_visible()
    await screenshot(guest, "visitor-ended")
    doc = await services.db["oneonone_chats"].find_one({"_id": chat_id})
    assert doc["status"] == "ended" and doc["outcome_tags"] == ["gehoord"]
    assert doc["staff_ids"] == [vol.account_id, pro.account_id]
