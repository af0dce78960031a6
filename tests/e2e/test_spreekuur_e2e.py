"""In real browsers: a visitor sends a spreekuur question, the host approves and answers it, and a second
visitor sees the status change, the question and the answer arrive live without reloading; axe finds nothing serious."""

from __future__ import annotations

import re
from collections.abc import Awaitable, Callable
from datetime import timedelta
from pathlib import Path

import pytest
from playwright.async_api import Page, expect

from ..conftest import RunningServer
from ..integration.content_helpers import member
from ..integration.spreekuur_helpers import host_account, scheduled
from .conftest import OpenPage

pytestmark = pytest.mark.e2e


# The shared `server` fixture (tests/conftest.py) starts on a port known before start-up,
# so the browser's Origin is one of the server's own.


QUESTION = "Hoe leg ik aan mijn werkgever uit dat ik stemmen hoor?"
ANSWER = "Je hoeft niet alles te vertellen. Begin met wat je nodig hebt om goed te kunnen werken."


async def test_question_is_approved_answered_and_seen_live(
    server: RunningServer,
    open_page: OpenPage,
    screenshot: Callable[[Page, str], Awaitable[Path]],
    assert_accessible: Callable[[Page], Awaitable[None]],
) -> None:
    host = await host_account(server)
    doc = await scheduled(server, host, starts_in=timedelta(minutes=30), title="Stemmen horen op het werk")
    public = f"/f/psychosenet/spreekuur/{doc['_id']}/"

    calendar = await open_page()
    await calendar.goto("/f/psychosenet/spreekuur/")
    await expect(calendar.get_by_role("link", name="Stemmen horen op het werk")).to_be_visible()
    await screenshot(calendar, "calendar")
    await assert_accessible(calendar)

    watcher = await open_page(member(name="Meelezer"))
    await watcher.goto(public)
    await expect(watcher.locator("[data-waiting]")).to_be_visible()
    await expect(watcher.locator("[data-countdown]")).to_contain_text("Nog 2")
    await expect(watcher.locator("[data-spreekuur]")).to_have_attribute("data-connection-state", "open")
    await watcher.evaluate("window.__notReloaded = true")
    await screenshot(watcher, "waiting-room")
    await assert_accessible(watcher)

    console = await open_page(host)
    await console.goto(f"/backoffice/spreekuren/{doc['_id']}")
    await expect(console.locator("[data-spreekuur-console]")).to_have_attribute("data-connection-state", "open")

    asker = await open_page()  # a guest without an account
    await asker.goto(public)
    await asker.locator("#text").fill(QUESTION)
    await asker.get_by_role("button", name="Vraag versturen").click()
    await expect(asker.locator("#jouw-vragen")).to_contain_text("Wacht op een moderator")
    await screenshot(asker, "question-sent")
    await assert_accessible(asker)

    pending = console.locator(".sq-pending")
    await expect(pending).to_contain_text(QUESTION)  # arrived live in the console
    await screenshot(console, "console-pending")
    await assert_accessible(console)
    await console.get_by_role("button", name=re.compile("^Goedkeuren")).click()
    await expect(console.get_by_role("status").first).to_contain_text("besluit")

    stream = watcher.locator("#sq-stream")
    await expect(stream).to_contain_text(QUESTION, timeout=5000)

    await console.get_by_role("button", name="Spreekuur nu openen").click()
    # The console reloads after opening: answer only on the reloaded page, or the form goes with the old one.
    await expect(console.get_by_role("status").first).to_contain_text("geopend")
    await expect(console.locator("[data-spreekuur-console]")).to_have_attribute("data-connection-state", "open")
    await expect(watcher.locator("[data-status-label]")).to_have_text("Nu live", timeout=5000)
    await expect(watcher.locator("[data-waiting]")).to_be_hidden()

    await console.get_by_label("Jouw antwoord").fill(ANSWER)
    await console.get_by_role("button", name="Antwoord plaatsen").click()
    await expect(console.get_by_role("status").first).to_contain_text("antwoord")

    await expect(stream.locator(".qa__answer")).to_contain_text(ANSWER, timeout=5000)
    assert await watcher.evaluate("window.__notReloaded === true")
    await screenshot(watcher, "live-answer")
    await assert_accessible(watcher)
    await expect(asker.locator("#sq-stream")).to_contain_text(ANSWER, timeout=5000)


async def test_a_full_spreekuur_shows_the_vol_message_instead_of_the_form(
    server: RunningServer,
    open_page: OpenPage,
    screenshot: Callable[[Page, str], Awaitable[Path]],
    assert_accessible: Callable[[Page], Awaitable[None]],
) -> None:
    host = await host_account(server)
    doc = await scheduled(server, host, starts_in=timedelta(minutes=30), title="Kleine groep", capacity=1)
    public = f"/f/psychosenet/spreekuur/{doc['_id']}/"
    svc = server.services.spreekuur

    # In the waiting room the one seat is still free: the form is there.
    waiter = await open_page(member(name="Wachter"))
    await waiter.goto(public)
    await expect(waiter.locator("[data-seats]")).to_contain_text("Nog 1 plaats vrij")
    await expect(waiter.locator("#text")).to_be_visible()
    await expect(waiter.locator("[data-spreekuur]")).to_have_attribute("data-connection-state", "open")

    # Someone else asks beforehand and takes the seat; when the session starts the waiting page asks again.
    await svc.ask(member(), doc, "Een vraag vooraf die de laatste plaats neemt", False)
    await svc.open_now(host, doc["_id"])
    await expect(waiter.locator("[data-status-label]")).to_have_text("Nu live", timeout=5000)
    full = waiter.get_by_role("status").filter(has_text="Dit spreekuur is vol")
    await expect(full).to_be_visible(timeout=5000)
    await expect(waiter.locator("#text")).to_be_hidden()

    # A newcomer gets the message straight away, with no form and no live stream.
    newcomer = await open_page(member(name="Nieuwkomer"))
    await newcomer.goto(public)
    await expect(newcomer.get_by_role("status").filter(has_text="Dit spreekuur is vol")).to_be_visible()
    await expect(newcomer.locator("[data-seats]")).to_have_text("Vol")
    await expect(newcomer.locator("#text")).to_have_count(0)
    await expect(newcomer.locator("[data-spreekuur]")).to_have_attribute("data-connection-state", "off")
    await screenshot(newcomer, "spreekuur-full")
    await assert_accessible(newcomer)
