"""In a real browser: an admin's Reflectietafel (charts with their tables, period comparison), the monthly release
and the public figures; axe finds no serious or critical violation, and the pages fit at 320 px."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from datetime import datetime, timedelta
from pathlib import Path
from typing import TYPE_CHECKING

import pytest
from playwright.async_api import Page, expect

from chatserver.flavours import TIMEZONE

from ..conftest import RunningServer
from ..integration.content_helpers import staff
from .conftest import OpenPage

if TYPE_CHECKING:
    from ..conftest import TestClock

pytestmark = pytest.mark.e2e

DAY = datetime(2030, 1, 9, 12, tzinfo=TIMEZONE)


async def fill(server: RunningServer, clock: TestClock) -> None:
    counter = server.services.counter
    for hour, requests in ((10, 4), (14, 6), (20, 2)):
        clock.move_to(DAY.replace(hour=hour))
        for _ in range(requests):
            counter.count("oneonone.requested", "psychosenet")
    clock.move_to(DAY)
    for seconds in (40, 90, 150, 200, 400, 700, 80, 60, 30, 1000, 95, 120):
        counter.count("oneonone.answered", "psychosenet")
        counter.count("oneonone.wait", "psychosenet", value=seconds)
    for _ in range(25):
        counter.count("visit", "psychosenet", variant="forum", region="gm:GM0363")
    for _ in range(4):
        counter.count("visit", "trauma", variant="start")
    await counter.flush()
    await server.services.reflectie.rollup.run_once()
    clock.move_to(DAY + timedelta(days=25))


async def test_an_admin_reads_the_dashboard_and_the_public_figures_are_suppressed(
    server: RunningServer,
    clock: TestClock,
    open_page: OpenPage,
    screenshot: Callable[[Page, str], Awaitable[Path]],
    assert_accessible: Callable[[Page], Awaitable[None]],
) -> None:
    await fill(server, clock)
    admin = await open_page(staff("admin", name="beheerderE2E"))
    await admin.goto("/backoffice/reflectie/?tot=2030-W02&weken=4")
    await expect(admin.get_by_role("heading", level=1)).to_have_text("Digitale Reflectietafel")
    await expect(admin.get_by_role("img", name="Bezoeken per week")).to_be_visible()
    await screenshot(admin, "dashboard-1280")
    await assert_accessible(admin)
    # The table beside a chart opens by keyboard.
    summary = admin.locator("#bereik summary").first
    await summary.focus()
    await summary.press("Enter")
    await expect(admin.locator("#bereik table").nth(1)).to_be_visible()
    await assert_accessible(admin)
    await admin.set_viewport_size({"width": 320, "height": 800})
    await screenshot(admin, "dashboard-320")
    assert await admin.evaluate("document.documentElement.scrollWidth") <= 320
    await admin.goto("/backoffice/reflectie/maand?metriek=visit&maand=2030-01")
    await expect(admin.get_by_role("heading", level=1)).to_have_text("Maandcijfers")
    await assert_accessible(admin)
    assert await admin.evaluate("document.documentElement.scrollWidth") <= 320
    await admin.set_viewport_size({"width": 390, "height": 844})
    await screenshot(admin, "release-390")

    visitor = await open_page()
    await visitor.goto("/f/trauma/cijfers/")
    await expect(visitor.get_by_role("heading", level=1)).to_contain_text("in cijfers")
    await expect(visitor.get_by_role("table")).to_contain_text("< 10")
    await screenshot(visitor, "public-1280")
    await assert_accessible(visitor)


async def test_an_english_admin_reads_the_charts_and_the_staff_page_in_english(
    server: RunningServer,
    clock: TestClock,
    open_page: OpenPage,
    screenshot: Callable[[Page, str], Awaitable[Path]],
    assert_accessible: Callable[[Page], Awaitable[None]],
) -> None:
    await fill(server, clock)
    admin = await open_page(staff("admin", name="beheerderEN"), viewport={"width": 390, "height": 844})
    await admin.context.add_cookies([{"name": "gem_lang", "value": "en", "url": server.url}])
    await admin.goto("/backoffice/reflectie/?smaak=psychosenet&tot=2030-W02&weken=4")
    await expect(admin.get_by_role("heading", level=1)).to_have_text("Digital Reflection Table")
    chart = admin.get_by_role("img", name="Visits per week")
    await expect(chart).to_be_visible()
    hours = admin.locator("#vraag svg text")
    await expect(hours.filter(has_text="Mon 00")).to_have_count(1)  # an axis label of the hours of the week
    assert "hoogste" not in (await admin.locator("#vraag svg desc").first.text_content() or "")
    await screenshot(admin, "dashboard-en-390")
    await assert_accessible(admin)
    assert await admin.evaluate("document.documentElement.scrollWidth") <= 390
    await server.services.identity.create_staff(None, "vrijwilligerEN", "volunteer", ["psychosenet"], verified=True)
    await admin.goto("/backoffice/staff")
    await expect(admin.get_by_role("button", name="New second factor").first).to_be_visible()
    await screenshot(admin, "staff-en-390")
    await assert_accessible(admin)
