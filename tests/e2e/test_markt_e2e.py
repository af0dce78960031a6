"""In a real browser: a visitor finds a tool in a flavour's market with the keyboard-usable filters; a member writes
a test report that appears after a moderator approves it. axe finds no serious or critical violation, and the pages
fit at 320 px."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from pathlib import Path

import pytest
from playwright.async_api import Page, expect

from ..conftest import RunningServer
from ..integration.content_helpers import member, staff
from ..integration.markt_helpers import decide_report
from .conftest import OpenPage

pytestmark = pytest.mark.e2e

MARKT = "/f/psychosenet/markt"


async def test_visitor_finds_a_tool_with_filters_region_and_questionnaire(
    server: RunningServer,
    open_page: OpenPage,
    screenshot: Callable[[Page, str], Awaitable[Path]],
    assert_accessible: Callable[[Page], Awaitable[None]],
) -> None:
    await server.services.markt.seed_demo()
    visitor = await open_page()
    await visitor.goto(f"{MARKT}/")
    await expect(visitor.get_by_role("heading", level=1)).to_have_text("VitaliteitsMarkt")
    await screenshot(visitor, "markt-index")
    await assert_accessible(visitor)
    # The filters by keyboard: a label for every control, submitted with Enter.
    await visitor.get_by_label("Waarbij").select_option("slaap")
    await visitor.get_by_label("Zoekwoorden").fill("ademhaling")
    await visitor.get_by_label("Zoekwoorden").press("Enter")
    await expect(visitor.get_by_role("status").first).to_contain_text("gevonden")
    link = visitor.get_by_role("link", name="Rustpunt (fictief voorbeeld)")
    await expect(link).to_be_visible()
    await link.click()
    await expect(visitor.get_by_role("heading", level=1)).to_have_text("Rustpunt (fictief voorbeeld)")
    await expect(visitor.locator("#editorial-title")).to_be_visible()
    await expect(visitor.locator("#reports-title")).to_be_visible()
    await expect(visitor.get_by_text("Gebaseerd op 2 ervaringen.")).to_be_visible()
    await screenshot(visitor, "markt-entry")
    await assert_accessible(visitor)

    await visitor.goto(f"{MARKT}/regio")
    await visitor.get_by_label("Regio").select_option("gm:GM0363")
    await visitor.get_by_role("button", name="Regio opslaan").click()
    await expect(visitor.locator("#near-title")).to_have_text("Bij jou in de buurt")
    await expect(visitor.get_by_role("link", name="Koffie & Kletsen Oost (fictief voorbeeld)").first).to_be_visible()
    await screenshot(visitor, "markt-near-you")

    await visitor.goto(f"{MARKT}/vragenlijst")
    await assert_accessible(visitor)
    await visitor.get_by_label("Slapen").check()
    await visitor.get_by_label("Zelf aan de slag, op mijn eigen tempo").check()
    await visitor.get_by_role("button", name="Toon suggesties").click()
    await expect(visitor.get_by_role("heading", name="Dit past misschien bij je")).to_be_visible()
    await screenshot(visitor, "markt-shortlist")
    await assert_accessible(visitor)


async def test_member_report_appears_after_approval(
    server: RunningServer,
    open_page: OpenPage,
    screenshot: Callable[[Page, str], Awaitable[Path]],
    assert_accessible: Callable[[Page], Awaitable[None]],
) -> None:
    await server.services.markt.seed_demo()
    author = await open_page(member("Lid_Fenna"))
    await author.goto(f"{MARKT}/slaapwijzer-website")
    await author.get_by_role("link", name="Deel je ervaring").click()
    await author.get_by_label("Waarbij hielp het je (of niet)?").fill(
        "De zelftest liet zien dat ik te laat koffie dronk."
    )
    await author.get_by_label("4 – makkelijk").check()
    await author.get_by_label("Ja", exact=True).check()
    await author.get_by_label("Een paar weken").check()
    await screenshot(author, "markt-report-form")
    await assert_accessible(author)
    await author.get_by_role("button", name="Ervaring insturen").click()
    await expect(author.get_by_role("status")).to_contain_text("Een moderator leest je ervaring eerst")
    await expect(author.get_by_text("Je ervaring wacht op een moderator.")).to_be_visible()

    reader = await open_page()
    await reader.goto(f"{MARKT}/slaapwijzer-website")
    await expect(reader.get_by_text("te laat koffie")).to_have_count(0)
    doc = await server.services.db["markt_reports"].find_one({"author_pseudonym": "Lid_Fenna"})
    assert doc is not None
    await decide_report(server, staff("volunteer", "psychosenet"), doc["_id"])
    await reader.reload()
    await expect(reader.get_by_text("De zelftest liet zien dat ik te laat koffie dronk.")).to_be_visible()
    await expect(reader.get_by_text("Gebaseerd op 1 ervaring.")).to_be_visible()
    await screenshot(reader, "markt-entry-with-report")
    await assert_accessible(reader)


async def test_market_pages_fit_at_320_px_and_have_the_quick_exit(
    server: RunningServer,
    open_page: OpenPage,
    screenshot: Callable[[Page, str], Awaitable[Path]],
    assert_accessible: Callable[[Page], Awaitable[None]],
) -> None:
    await server.services.markt.seed_demo()
    narrow = await open_page(viewport={"width": 320, "height": 640})
    for path in (f"{MARKT}/", f"{MARKT}/rustpunt-app", f"{MARKT}/koffie-kletsen-oost", f"{MARKT}/regio",
                 f"{MARKT}/vragenlijst"):  # fmt: skip
        response = await narrow.goto(path.replace("koffie-kletsen-oost", "samen-koffie-amsterdam"))
        assert response is not None and response.status == 200, path
        width = await narrow.evaluate("document.documentElement.scrollWidth")
        assert width <= 320, f"{path} scrolls sideways at 320 px ({width})"
        await expect(narrow.locator("[data-quick-exit]")).to_be_visible()
        await assert_accessible(narrow)
    await narrow.goto(f"{MARKT}/")
    await screenshot(narrow, "markt-index-320")
    phone = await open_page(viewport={"width": 390, "height": 844})
    for name, path in (("index", f"{MARKT}/"), ("entry", f"{MARKT}/rustpunt-app"),
                       ("local", f"{MARKT}/samen-koffie-amsterdam")):  # fmt: skip
        await phone.goto(path)
        await screenshot(phone, f"markt-{name}-390")
    editor = await open_page(staff("editor", "psychosenet"))
    await editor.goto("/backoffice/markt/nieuw")
    await assert_accessible(editor)
    await screenshot(editor, "backoffice-markt-new")
