"""In three browsers: a visitor's crisis line in a 1-on-1 chat is marked for the volunteer, the visitor sees the
crisis lines at once, and a professional on /backoffice/gesprekken gets the alert, claims it in one click and lands
on the line in its context."""

from __future__ import annotations

import re
import time
from collections.abc import Awaitable, Callable
from pathlib import Path

import pytest
from playwright.async_api import Page, expect

from chatserver.live.frontdoor import GATEWAY_STATE_KEY

from ..conftest import RunningServer
from ..integration.test_oneonone_support import FLAVOUR, staff, visitor
from .conftest import OpenPage

pytestmark = pytest.mark.e2e

CRISIS = "ik ga vanavond zelfmoord plegen"


async def test_crisis_line_is_marked_and_the_professional_is_alerted(
    server: RunningServer,
    open_page: OpenPage,
    screenshot: Callable[[Page, str], Awaitable[Path]],
    assert_accessible: Callable[[Page], Awaitable[None]],
) -> None:
    services = server.services
    gateway = services.lifespan_state[GATEWAY_STATE_KEY]
    gateway.allowed_origins = gateway.allowed_origins | {server.url}
    oneonone, shifts = services.oneonone, services.shifts
    vol = staff("volunteer", name="Vera")
    pro = staff("professional", name="Anna")
    await shifts.sign_on(vol, [FLAVOUR], 3)
    await shifts.sign_on(pro, [FLAVOUR], 3)
    guest_actor = visitor("Sterre", kind="guest")
    chat = await oneonone.request(guest_actor, FLAVOUR, "")
    await oneonone.accept(vol, chat["_id"])

    professional = await open_page(pro)
    await professional.goto("/backoffice/gesprekken")
    alerts = professional.locator("#crisis-alerts")
    await expect(alerts).to_have_attribute("data-live", "1")
    await expect(professional.get_by_role("button", name=re.compile("Geluid en knipperende titel"))).to_be_visible()

    volunteer = await open_page(vol)
    await volunteer.goto(f"/backoffice/gesprekken/{chat['_id']}")
    guest = await open_page(guest_actor)
    await guest.goto(f"/f/{FLAVOUR}/chat/gesprek/{chat['_id']}")
    await expect(guest.get_by_text("Je praat met Vera")).to_be_visible()
    await expect(guest.locator("#gesprek-crisis-now")).to_be_hidden()

    started = time.monotonic()
    await guest.locator("#gesprek-text").fill(CRISIS)
    await guest.locator("#gesprek-text").press("Enter")

    alert = professional.locator("#crisis-alerts-list .crisis-alert")
    await expect(alert).to_be_visible()
    alert_s = time.monotonic() - started
    await expect(alert).to_contain_text("Crisismelding")
    print(f"alert on /backoffice/gesprekken after {alert_s * 1000:.0f} ms")

    # the visitor: the crisis lines at once, in the page and in the live notice
    await expect(guest.locator("#gesprek-crisis-now")).to_be_visible()
    await expect(guest.locator("#gesprek-crisis-now")).to_contain_text("0800-0113")
    await expect(guest.locator("#gesprek-error")).to_contain_text("113")
    await screenshot(guest, "visitor-crisis-lines")
    await assert_accessible(guest)

    # the volunteer: the line is marked, live
    marked = volunteer.locator("#gesprek-log .gesprek-msg--crisis")
    await expect(marked).to_contain_text(CRISIS)
    await expect(marked).to_contain_text("Crisissignaal")
    await screenshot(volunteer, "volunteer-marked-line")
    await assert_accessible(volunteer)

    await screenshot(professional, "professional-alert")
    await assert_accessible(professional)
    # one click: claimed, and straight to the line in its context
    await alert.get_by_role("button", name="Oppakken").click()
    await professional.wait_for_url(re.compile(rf"/backoffice/gesprekken/{chat['_id']}#bericht-\d+$"))
    await expect(professional.locator("#gesprek-log .gesprek-msg--crisis")).to_contain_text(CRISIS)
    item = await services.db["moderation_items"].find_one({"crisis": True, "author_id": guest_actor.account_id})
    assert item is not None and item["claimed_by"] == pro.account_id and item["time_to_claim_ms"] >= 0
