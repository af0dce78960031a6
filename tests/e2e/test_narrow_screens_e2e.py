"""At 320 × 640 (the narrowest phone we support) every main page fits: no sideways scrolling, the whole flavour
navigation visible (it wraps instead of being clipped), and axe finds no serious or critical violation."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from pathlib import Path

import pytest
from playwright.async_api import Page

from chatserver.domain.identity import AccountId, Actor

from ..conftest import RunningServer
from ..integration.content_helpers import member
from .conftest import OpenPage

pytestmark = pytest.mark.e2e

NARROW = {"width": 320, "height": 640}
FLAVOUR = "psychosenet"
PUBLIC_PAGES = (
    "/",
    "/hulp",
    "/privacy",
    "/inloggen",
    "/vraagbaak",
    f"/f/{FLAVOUR}/",
    f"/f/{FLAVOUR}/hulp",
    f"/f/{FLAVOUR}/privacy",
    f"/f/{FLAVOUR}/chat/",
    f"/f/{FLAVOUR}/chat/gesprek/",
    f"/f/{FLAVOUR}/artikelen/",
    f"/f/{FLAVOUR}/spreekuur/",
    f"/f/{FLAVOUR}/vraagbaak/",
)
MEMBER_PAGES = ("/account", f"/f/{FLAVOUR}/artikelen/mijn-verhalen")
STAFF_PAGES = ("/backoffice/", "/backoffice/gesprekken", "/backoffice/spreekuren", "/backoffice/vraagbaak")


async def _nav_links(page: Page) -> list[str]:
    hrefs: list[str] = await page.eval_on_selector_all(
        ".site-nav a[href^='/']", "links => links.map(a => a.getAttribute('href'))"
    )
    return hrefs


async def _check(page: Page, path: str, assert_accessible: Callable[[Page], Awaitable[None]]) -> None:
    response = await page.goto(path)
    assert response is not None and response.status < 400, f"{path}: {response and response.status}"
    width = await page.evaluate("document.documentElement.scrollWidth")
    assert width <= NARROW["width"], f"{path} scrolls sideways at 320 px (scrollWidth {width})"
    # Every navigation link lies inside the viewport: nothing clipped to "S…".
    outside = await page.eval_on_selector_all(
        ".site-nav a",
        "links => links.filter(a => { const r = a.getBoundingClientRect();"
        " return r.left < 0 || r.right > document.documentElement.clientWidth + 0.5; }).map(a => a.textContent)",
    )
    assert not outside, f"{path}: navigation clipped at 320 px: {outside}"
    await assert_accessible(page)


async def test_every_main_page_fits_320_px_without_sideways_scroll_or_serious_axe_findings(
    server: RunningServer,
    open_page: OpenPage,
    screenshot: Callable[[Page, str], Awaitable[Path]],
    assert_accessible: Callable[[Page], Awaitable[None]],
) -> None:
    visitor = await open_page(viewport=NARROW)
    await visitor.goto(f"/f/{FLAVOUR}/")
    pages = list(dict.fromkeys([*PUBLIC_PAGES, *await _nav_links(visitor)]))
    for path in pages:
        await _check(visitor, path, assert_accessible)
    await visitor.goto(f"/f/{FLAVOUR}/")
    await screenshot(visitor, "flavour-home-320")

    signed_in = await open_page(member(name="Smalscherm"), viewport=NARROW)
    for path in MEMBER_PAGES:
        await _check(signed_in, path, assert_accessible)

    admin = Actor(
        AccountId("e2e-narrow-admin"), "Smalbeheer", "staff", role="admin",
        flavours=frozenset({FLAVOUR}), validated=True, verified=True,
    )  # fmt: skip
    staff = await open_page(admin, viewport=NARROW)
    for path in STAFF_PAGES:
        await _check(staff, path, assert_accessible)
