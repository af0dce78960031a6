"""In a real browser: a crisis sentence in a room reaches a professional's console within a second; a report is
claimed and acted on, vanishes from a colleague's console at once, and shows in the audit log."""

from __future__ import annotations

import time
from collections.abc import Awaitable, Callable
from pathlib import Path

import pytest
from playwright.async_api import Page, expect

from ..conftest import RunningServer
from ..integration.moderation_helpers import member, published, put_on_shift, service_of, staff
from .conftest import OpenPage

pytestmark = pytest.mark.e2e

FLAVOUR = "psychosenet"
ROOM_URL = f"/f/{FLAVOUR}/chat/stemmen-horen/"
CRISIS = "Ik wil niet meer leven, ik ga vannacht een einde aan mijn leven maken"


# The shared `server` fixture (tests/conftest.py) starts on a port known before start-up,
# so the browser's Origin is one of the server's own.


async def open_console(page: Page) -> None:
    await page.goto("/backoffice/moderatie")
    await expect(page.locator("#mod-console[data-live='1']")).to_have_count(1)


async def test_crisis_sentence_in_a_room_is_held_and_reaches_a_professional(
    server: RunningServer,
    open_page: OpenPage,
    screenshot: Callable[[Page, str], Awaitable[Path]],
    assert_accessible: Callable[[Page], Awaitable[None]],
) -> None:
    professional = staff("professional", FLAVOUR, name="Prof_E2E")
    await put_on_shift(server, professional)
    console = await open_page(professional)
    await open_console(console)

    visitor = await open_page(member("Bezoeker_E2E"))
    other = await open_page(member("Meelezer_E2E"))
    await visitor.goto(ROOM_URL)
    await other.goto(ROOM_URL)
    await visitor.locator("#bericht").fill(CRISIS)
    started = time.monotonic()
    await visitor.get_by_role("button", name="Versturen").click()

    # The backoffice layout's alert area announces it (on this page too; console.js leaves it to that area).
    await expect(console.locator("#crisis-alerts-list")).to_contain_text("Crisis", timeout=1000)
    elapsed = time.monotonic() - started
    assert elapsed < 1.0, f"the crisis alert took {elapsed:.2f} s to reach the console"
    crisis_row = console.locator("li.mod-item--crisis")
    await expect(crisis_row).to_have_count(1)
    await expect(crisis_row).to_contain_text(CRISIS)
    await expect(visitor.locator("[data-notice]")).to_contain_text("113")
    await expect(visitor.locator("[data-notice]")).to_contain_text("0800-0113")
    await screenshot(console, "console-crisis-alert")
    await screenshot(visitor, "room-crisis-notice")
    await assert_accessible(console)
    # The other visitor never sees it.
    await other.wait_for_timeout(300)
    assert CRISIS not in await other.locator("main").inner_text()


async def test_report_is_claimed_acted_on_and_audited(
    server: RunningServer,
    open_page: OpenPage,
    screenshot: Callable[[Page, str], Awaitable[Path]],
    assert_accessible: Callable[[Page], Awaitable[None]],
) -> None:
    author, reporter = member("Schrijver_E2E"), member("Melder_E2E")
    offset = await published(server, author, "Jullie zijn allemaal sukkels")
    channel = f"room:{FLAVOUR}:stemmen-horen"
    await service_of(server).report(reporter, "room_message", f"{channel}#{offset}", channel, "Scheldt anderen uit")

    colleague = await open_page(staff("volunteer", FLAVOUR, name="Vrijwilliger_E2E"))
    await open_console(colleague)
    await expect(colleague.locator("li.mod-item")).to_have_count(1)

    moderator = await open_page(staff("peer_expert", FLAVOUR, name="Moderator_E2E"))
    await open_console(moderator)
    await expect(moderator.locator("li.mod-item")).to_contain_text("Jullie zijn allemaal sukkels")
    await screenshot(moderator, "console-queue")
    await moderator.get_by_role("link", name="Bekijk en beslis").click()
    await moderator.get_by_role("button", name="Claim dit item").click()
    await expect(moderator.get_by_role("status")).to_contain_text("Je behandelt dit item nu")
    await expect(colleague.locator("li.mod-item")).to_contain_text("In behandeling door Moderator_E2E")
    await assert_accessible(moderator)
    await moderator.get_by_label("Verbergen", exact=True).check()
    await moderator.get_by_label("Reden", exact=True).fill("Schelden past niet bij de huisregels")
    await screenshot(moderator, "item-decision")
    await moderator.get_by_role("button", name="Voer beslissing uit").click()
    await expect(moderator.get_by_role("status")).to_contain_text("vastgelegd in het auditlog")

    # The colleague's console drops the item without a reload.
    await expect(colleague.locator("li.mod-item")).to_have_count(0, timeout=1000)

    await moderator.goto("/backoffice/audit")
    await expect(moderator.locator(".audit-chain--ok")).to_contain_text("Keten intact")
    row = moderator.locator("table.audit-table tbody tr").first
    await expect(row).to_contain_text("Verborgen")
    await expect(row).to_contain_text("Schelden past niet bij de huisregels")
    await expect(row).to_contain_text("Ervaringsdeskundige")
    await screenshot(moderator, "audit-log")
    await assert_accessible(moderator)


async def test_a_sent_report_closes_its_dialog_and_confirms_outside_it(
    server: RunningServer,
    open_page: OpenPage,
    screenshot: Callable[[Page, str], Awaitable[Path]],
    assert_accessible: Callable[[Page], Awaitable[None]],
) -> None:
    await published(server, member("Schrijver_Dialoog"), "Jij bent echt een sukkel")
    reporter = await open_page(member("Melder_Dialoog"))
    await reporter.goto(ROOM_URL)
    await expect(reporter.locator("#chat-room")).to_have_attribute("data-state", "connected")
    await reporter.locator("[data-report]").first.click()
    dialog = reporter.locator("[data-report-dialog]")
    await expect(dialog).to_be_visible()
    await dialog.get_by_label("Waarom meld je dit bericht?").fill("Scheldt mij uit")
    await dialog.get_by_role("button", name="Melden").click()
    await expect(dialog).to_be_hidden()
    await expect(reporter.locator("[data-confirmation]")).to_contain_text("Een moderator bekijkt het bericht")
    assert await reporter.evaluate("document.activeElement.hasAttribute('data-report')")  # focus back on the link
    await screenshot(reporter, "report-confirmed")
    await assert_accessible(reporter)


async def test_a_muted_visitor_sees_the_reason_and_the_dutch_end_time_live_and_after_a_reload(
    server: RunningServer,
    open_page: OpenPage,
    screenshot: Callable[[Page, str], Awaitable[Path]],
    assert_accessible: Callable[[Page], Awaitable[None]],
) -> None:
    from datetime import timedelta

    from chatserver.services.moderation import StaffDecision, nl_until

    author = member("Gedempt_E2E")
    offset = await published(server, author, "Jullie zijn echt sukkels")
    channel = f"room:{FLAVOUR}:stemmen-horen"
    item_id = await service_of(server).report(
        member("Melder2_E2E"), "room_message", f"{channel}#{offset}", channel, "Scheldt"
    )
    visitor = await open_page(author)
    await visitor.goto(ROOM_URL)
    await expect(visitor.locator("#chat-room")).to_have_attribute("data-state", "connected")
    await expect(visitor.locator(f"#bericht-{offset}")).to_contain_text("Jullie zijn echt sukkels")

    moderator = staff("peer_expert", FLAVOUR, name="Dempert_E2E")
    await service_of(server).claim(moderator, item_id)
    reason = "Schelden hoort hier niet"
    await service_of(server).decide(
        moderator, item_id, StaffDecision("mute", reason=reason, mute_minutes=45, also_hide=True)
    )
    end = nl_until(service_of(server).clock() + timedelta(minutes=45))

    notice = visitor.locator("[data-notice]")
    await expect(notice).to_contain_text(reason, timeout=2000)
    await expect(notice).to_contain_text(end)
    await expect(visitor.locator("[data-composer]")).to_be_hidden()
    await expect(visitor.locator(f"#bericht-{offset}")).not_to_contain_text("sukkels")  # hidden in the same action
    await screenshot(visitor, "muted-live")
    await assert_accessible(visitor)

    await visitor.reload()
    muted = visitor.locator("[data-muted]")
    await expect(muted).to_contain_text(reason)
    await expect(muted).to_contain_text(end)
    assert "UTC" not in await muted.inner_text()
