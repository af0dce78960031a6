"""Browser fixtures: Debian's chromium driven by async Playwright, in the test session's event loop.

``browser`` is launched once per session. ``open_page(actor=None)`` gives a
page in a fresh context (own cookies), logged in as ``actor`` when given, and
closes it after the test. ``screenshot(page, name)`` saves under
``test-output/screenshots/``; ``assert_accessible(page)`` runs axe-core and
fails on serious or critical WCAG 2.1 A/AA violations. Playwright never
downloads a browser here: chromium comes from the system (``make browser``).
"""

from __future__ import annotations

import re
from collections.abc import AsyncIterator, Awaitable, Callable
from pathlib import Path
from typing import Any

import pytest
from playwright.async_api import Browser, BrowserContext, Page, async_playwright

from chatserver.domain.identity import Actor

from ..conftest import RunningServer

CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
SCREENSHOT_DIR = Path(__file__).resolve().parents[2] / "test-output" / "screenshots"
WCAG_TAGS = ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa"]
BLOCKING_IMPACTS = frozenset({"serious", "critical"})
DEFAULT_TIMEOUT_MS = 10_000

OpenPage = Callable[..., Awaitable[Page]]


@pytest.fixture(scope="session")
async def browser() -> AsyncIterator[Browser]:
    if not CHROMIUM.exists():
        pytest.fail("chromium ontbreekt: run `make browser` (apt-get install chromium)")
    async with async_playwright() as playwright:
        launched = await playwright.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS, headless=True)
        try:
            yield launched
        finally:
            await launched.close()


@pytest.fixture
async def open_page(browser: Browser, server: RunningServer) -> AsyncIterator[OpenPage]:
    """A factory of pages on the test's server, each in its own browser context."""
    contexts: list[BrowserContext] = []

    async def factory(actor: Actor | None = None, **context_options: Any) -> Page:
        context = await browser.new_context(base_url=server.url, locale="nl-NL", **context_options)
        context.set_default_timeout(DEFAULT_TIMEOUT_MS)
        contexts.append(context)
        if actor is not None:
            token = await server.services.sessions.create(actor)
            await context.add_cookies(
                [{"name": "gem_session", "value": token, "url": server.url, "httpOnly": True, "sameSite": "Lax"}]
            )
        return await context.new_page()

    yield factory
    for context in contexts:
        await context.close()


@pytest.fixture
def screenshot(request: pytest.FixtureRequest) -> Callable[[Page, str], Awaitable[Path]]:
    """Save a full-page screenshot named after the test and ``name``."""
    SCREENSHOT_DIR.mkdir(parents=True, exist_ok=True)
    prefix = re.sub(r"[^A-Za-z0-9_-]+", "-", request.node.name)[:80]

    async def take(page: Page, name: str) -> Path:
        path = SCREENSHOT_DIR / f"{prefix}--{re.sub(r'[^A-Za-z0-9_-]+', '-', name)}.png"
        await page.screenshot(path=str(path), full_page=True)
        return path

    return take


async def axe_violations(page: Page) -> list[dict[str, Any]]:
    """Serious and critical WCAG 2.1 A/AA violations axe-core finds on the page as it is now."""
    from axe_playwright_python.async_playwright import Axe

    results = await Axe().run(page, options={"runOnly": {"type": "tag", "values": WCAG_TAGS}})
    violations: list[dict[str, Any]] = results.response.get("violations", [])
    return [v for v in violations if v.get("impact") in BLOCKING_IMPACTS]


@pytest.fixture
def assert_accessible() -> Callable[[Page], Awaitable[None]]:
    async def check(page: Page) -> None:
        found = await axe_violations(page)
        summary = [(v["id"], v["impact"], [n.get("target") for n in v.get("nodes", [])][:3]) for v in found]
        assert not found, f"axe-core on {page.url}: {summary}"

    return check
