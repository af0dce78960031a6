"""In a real browser: an editor publishes one article to two flavours; it appears on both; the pages pass axe."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from pathlib import Path

import pytest
from playwright.async_api import Page, expect

from ..conftest import RunningServer
from ..integration.content_helpers import staff
from .conftest import OpenPage

pytestmark = pytest.mark.e2e

TITLE = "Praten helpt: zo vind je steun"
FLAVOURS = ("psychosenet", "eenzaamheid")


async def test_editor_publishes_an_article_to_two_flavours_in_the_browser(
    server: RunningServer,
    open_page: OpenPage,
    screenshot: Callable[[Page, str], Awaitable[Path]],
    assert_accessible: Callable[[Page], Awaitable[None]],
) -> None:
    editor = await open_page(staff("editor", *FLAVOURS, name="Redacteur_E2E"))
    await editor.goto("/backoffice/inhoud/nieuw")
    await editor.get_by_label("Soort").select_option("article")
    await editor.get_by_label("Titel").fill(TITLE)
    await editor.get_by_label("Samenvatting").fill("Waar je terechtkunt, anoniem en zonder wachtlijst.")
    await editor.get_by_label("Tekst", exact=True).fill(
        "### Waar kun je terecht?\nIn de chat, op het **forum** en bij je huisarts."
    )
    for flavour in FLAVOURS:
        await editor.locator(f"#fl-{flavour}").check()
    await screenshot(editor, "backoffice-new-article")
    await assert_accessible(editor)
    await editor.get_by_role("button", name="Aanmaken als concept").click()
    await expect(editor.get_by_role("status")).to_contain_text("aangemaakt als concept")
    await editor.get_by_role("button", name="Publiceren", exact=True).click()
    await expect(editor.get_by_role("status")).to_contain_text("status is gewijzigd")
    await expect(editor.locator("main")).to_contain_text("Gepubliceerd")
    await screenshot(editor, "backoffice-published")

    for flavour in FLAVOURS:
        await editor.goto(f"/backoffice/uitgelicht?smaak={flavour}")
        await editor.get_by_label("Stuk toevoegen (onderaan de lijst)").select_option(label=TITLE)
        await editor.get_by_role("button", name="Uitlichten").click()
        await expect(editor.locator(".featured-list")).to_contain_text(TITLE)
    await screenshot(editor, "backoffice-featured")

    visitor = await open_page()
    for n, flavour in enumerate(FLAVOURS):
        check = n == 0  # the pages of both flavours come from the same templates: axe once
        await visitor.goto(f"/f/{flavour}/artikelen/")
        link = visitor.get_by_role("link", name=TITLE)
        await expect(link).to_be_visible()
        await screenshot(visitor, f"{flavour}-articles")
        if check:
            await assert_accessible(visitor)
        await link.click()
        await expect(visitor.get_by_role("heading", level=1)).to_have_text(TITLE)
        await expect(visitor.locator(".content-body strong")).to_have_text("forum")
        await screenshot(visitor, f"{flavour}-article")
        if check:
            await assert_accessible(visitor)
        await visitor.goto(f"/f/{flavour}/")
        await expect(visitor.locator("#featured-title")).to_be_visible()
        await expect(visitor.locator(".featured").get_by_role("link", name=TITLE)).to_be_visible()
        await screenshot(visitor, f"{flavour}-home")
        if check:
            await assert_accessible(visitor)
    await visitor.goto("/f/trauma/artikelen/")
    await expect(visitor.get_by_role("link", name=TITLE)).to_have_count(0)


async def test_vraagbaak_pages_are_accessible_and_show_the_private_link(
    server: RunningServer,
    open_page: OpenPage,
    screenshot: Callable[[Page, str], Awaitable[Path]],
    assert_accessible: Callable[[Page], Awaitable[None]],
) -> None:
    visitor = await open_page()
    await visitor.goto("/vraagbaak/")
    await assert_accessible(visitor)
    await visitor.get_by_label("Je vraag", exact=True).fill("Hoe kan ik mijn vriend steunen die veel piekert?")
    await visitor.get_by_role("button", name="Vraag versturen").click()
    await expect(visitor.get_by_role("heading", name="Bewaar deze link")).to_be_visible()
    link = await visitor.get_by_label("Je link").input_value()
    assert "/vraagbaak/v/" in link
    await screenshot(visitor, "vraagbaak-confirmation")
    await assert_accessible(visitor)
    desk = await open_page(staff("volunteer", "angst-en-depressie"))
    await desk.goto("/backoffice/vraagbaak")
    await desk.get_by_role("link", name="Open vraag").first.click()
    await desk.get_by_role("button", name="Ik pak deze vraag op").click()
    await desk.get_by_label("Antwoord", exact=True).fill("Luister vooral, en wijs op het forum over piekeren.")
    await desk.get_by_role("button", name="Antwoord versturen").click()
    await expect(desk.get_by_role("status")).to_contain_text("antwoord is opgeslagen")
    await visitor.goto(link)
    await expect(visitor.locator("main")).to_contain_text("Luister vooral")
    await screenshot(visitor, "vraagbaak-answered")
    await assert_accessible(visitor)
