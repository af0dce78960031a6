"""The Reflectietafel's counting hooks on the real server: a scripted morning through the features' own doors (page
visits over HTTP, room and 1-on-1 messages, a 1-on-1 conversation from request to feedback, a crisis hold claimed by
a professional, forum posts, a VraagBaak answer, an article and a market click), flushed and rolled up, gives exactly
the dashboard figures the script made; the same cells leave the backoffice only as "< 10"."""

from __future__ import annotations

import secrets
from datetime import datetime, timedelta
from typing import TYPE_CHECKING

import httpx

from chatserver.domain import reflectie_privacy as privacy
from chatserver.domain.oneonone import OUTCOME_TAGS
from chatserver.domain.reflectie import DURATION_EDGES_S, PAGE_KINDS, Cell, open_variant
from chatserver.flavours import TIMEZONE
from chatserver.services.content_demo import seed_demo_content
from chatserver.services.moderation import StaffDecision
from moderation.crisis import DETECTOR_VERSION

from ..conftest import RunningServer
from .moderation_helpers import client_for, member, put_on_shift
from .moderation_helpers import staff as moderator
from .test_oneonone_support import staff, visitor

if TYPE_CHECKING:
    from ..conftest import TestClock  # not imported at run time: pytest would collect it as a test class

FLAVOUR = "psychosenet"
ROOM = f"room:{FLAVOUR}:stemmen-horen"
CRISIS = "ik ga vanavond zelfmoord plegen"
DAY = datetime(2030, 1, 9, tzinfo=TIMEZONE)  # a Wednesday: the rooms and the 1-on-1 chat are open at 11:00
WEEK, MONTH = "2030-W02", "2030-01"
UTRECHT = "gm:GM0344"  # a municipality, counted as its GGD region
PROVINCE = "pv:utrecht"  # a province, counted as itself
SITE = f"/f/{FLAVOUR}"


def at(clock: TestClock, hour: int, minute: int, second: int = 0) -> None:
    clock.move_to(DAY.replace(hour=hour, minute=minute, second=second))


async def visits(server: RunningServer) -> None:
    """Eight page visits (three with a guest's region, one with a member's) and what is no visit: fragments,
    errors, redirects, posts, staff at work."""
    reader = member()
    await server.services.markt.choose_region(reader, PROVINCE)  # a member's region is their account setting
    async with await client_for(server, reader) as signed_in:
        assert (await signed_in.get(SITE + "/spreekuur/")).status_code == 200
    async with await client_for(server, moderator("editor", FLAVOUR)) as colleague:
        assert (await colleague.get(SITE + "/")).status_code == 200  # staff at work: no visit
    async with httpx.AsyncClient(base_url=server.url, timeout=10.0, follow_redirects=False) as guest:
        guest.cookies.set("gem_markt_regio", UTRECHT)
        for path in ("/", "/markt/rustpunt-app", "/forum/"):
            assert (await guest.get(SITE + path)).status_code == 200, path
    async with httpx.AsyncClient(base_url=server.url, timeout=10.0, follow_redirects=False) as guest:
        for path in ("/", "/chat/", "/artikelen/wat-is-een-psychose", "/hulp"):
            assert (await guest.get(SITE + path)).status_code == 200, path
        assert (await guest.get(SITE + "/", headers={"HX-Request": "true"})).status_code == 200
        assert (await guest.get(SITE + "/bestaat-niet")).status_code == 404
        assert (await guest.get(SITE + "/chat")).status_code == 308
        assert (await guest.get(SITE + "/markt/rustpunt-app/naar/1")).status_code == 303  # the market click
        assert (await guest.get(SITE + "/privacy")).status_code == 200  # not a page kind of the catalogue
        assert (await guest.post(SITE + "/vraagbaak/", data={})).status_code == 403  # a post (without its token)
        assert (await guest.get("/healthz")).status_code == 200


async def conversation(server: RunningServer, clock: TestClock) -> None:
    """Two requests: one answered after 150 s, written in, handed to a colleague, ended after 20 minutes and rated 4;
    the other left the queue after 6 minutes. (Every duration lies well inside its bucket: the clock runs on.)"""
    services = server.services
    oneonone, chat = services.oneonone, services.chat
    first, second = staff("volunteer", name="Ilse"), staff("volunteer", name="Joost")
    for member_of_staff in (first, second):
        await services.shifts.sign_on(member_of_staff, [FLAVOUR], 2)
    asker, leaver = visitor("Anouk"), visitor("Bas")
    at(clock, 11, 0)
    asked = await oneonone.request(asker, FLAVOUR, "")
    left = await oneonone.request(leaver, FLAVOUR, "")
    at(clock, 11, 2, 30)
    await oneonone.accept(first, asked["_id"])
    await chat.do_publish(asker, asked["channel"], secrets.token_hex(6), "Ik slaap zo slecht.")
    await chat.do_publish(first, asked["channel"], secrets.token_hex(6), "Wat vervelend, vertel eens.")
    await oneonone.transfer(first, asked["_id"], second.account_id, "slaapt slecht")
    at(clock, 11, 6)
    await oneonone.leave(leaver, FLAVOUR, left["_id"])
    at(clock, 11, 22, 30)
    await oneonone.end(second, asked["_id"], [sorted(OUTCOME_TAGS)[0]])
    await oneonone.feedback(asker, FLAVOUR, asked["_id"], 4, "")


async def crisis_hold(server: RunningServer, clock: TestClock) -> None:
    """A crisis line held in a room, claimed by the professional on shift after 90 s and confirmed (hidden)."""
    professional = moderator("professional", FLAVOUR, name="Dr. Vos")
    await put_on_shift(server, professional)
    at(clock, 11, 5)
    acked = await server.services.chat.do_publish(member(), ROOM, secrets.token_hex(6), CRISIS)
    assert acked.held
    item = await server.services.db["moderation_items"].find_one({"crisis": True})
    assert item is not None
    moderation = server.services.moderation
    at(clock, 11, 6, 30)
    await moderation.claim(professional, str(item["_id"]))
    at(clock, 11, 8)
    await moderation.decide(professional, str(item["_id"]), StaffDecision("hide", reason="crisis opgepakt"))


async def the_rest(server: RunningServer, clock: TestClock) -> None:
    """Six room messages, a forum thread with a reply, a VraagBaak question answered after twelve minutes."""
    services = server.services
    at(clock, 11, 1)
    for _ in range(3):
        author = member()
        for text in ("Goedemorgen allemaal", "Hoe gaat het hier?"):
            assert not (await services.chat.do_publish(author, ROOM, secrets.token_hex(6), text)).held
    flavour = services.catalog.get(FLAVOUR)
    writer = member()
    posted = await services.forum.create_thread(
        writer,
        flavour,
        "ervaringen",
        "Slapen na een drukke dag",
        "Wie herkent dit: na een drukke dag niet slapen?",
        "ip",
    )
    thread = await services.forum.access_thread(writer, flavour, posted.thread_id)
    await services.forum.reply(member(), flavour, thread, "Ja, ik herken het. Wandelen helpt mij.", "ip")
    at(clock, 11, 10)
    _, question = await services.vraagbaak.ask("Mag ik jullie iets vragen over slaap en medicatie?", FLAVOUR, "ip")
    at(clock, 11, 22)
    desk = moderator("professional", FLAVOUR)
    await services.vraagbaak.claim(desk, question["_id"])
    await services.vraagbaak.answer(desk, question["_id"], "Bespreek het met je huisarts; hier lees je meer.")


async def test_a_scripted_morning_counts_exactly_what_the_features_did(server: RunningServer, clock: TestClock) -> None:
    services = server.services
    at(clock, 10, 55)
    assert await services.markt.seed_demo() > 0
    await seed_demo_content(services.content, services.catalog)
    await the_rest(server, clock)
    await conversation(server, clock)
    await crisis_hold(server, clock)
    at(clock, 11, 30)
    await visits(server)
    assert await services.counter.flush() > 0
    await services.markt.uptake.flush()
    await services.reflectie.rollup.run_once()

    sections = {s.key: s for s in await services.reflectie.dashboard([FLAVOUR], [WEEK])}
    figures = {f.label: f.text for s in sections.values() for f in s.figures}
    assert {label: figures[label] for label in EXPECTED} == EXPECTED
    charts = {c.key: c for s in sections.values() for c in s.charts}
    assert dict(zip(PAGE_KINDS, charts["paginas"].series[0][1], strict=True)) == PAGES
    assert charts["bronnen"].series[0][1] == (0.0, 0.0, 1.0, 0.0)  # melding, filter, crisis, voormoderatie
    assert charts["uitkomsten"].series[0][1] == (0.0, 1.0, 0.0, 0.0)  # goedgekeurd, verwijderd, ...
    version = open_variant(DETECTOR_VERSION)
    assert charts["detector"].x_labels == (version,)
    assert charts["detector"].series == (("Vrijgegeven", (0.0,)), ("Bevestigd", (1.0,)))
    assert charts["markt"].series == (
        ("Bekeken", (1,)),
        ("Doorgeklikt", (1,)),
        ("Bewaard", (0,)),
        ("Gedeeld in een 1-op-1 gesprek", (0,)),
    )

    rows = {row.cell: row.counts for row in await services.reflectie.store.rows([FLAVOUR], DAY.date(), DAY.date())}
    day = DAY.date()
    assert rows[Cell("message", FLAVOUR, day, "room")].count == 6  # the held crisis line is no message
    assert rows[Cell("message", FLAVOUR, day, "chat")].count == 2
    utrecht = services.markt.regions.coarse(UTRECHT)
    assert utrecht.startswith("ggd:")
    assert sum(c.count for cell, c in rows.items() if cell.metric == "visit" and cell.region == utrecht) == 3
    assert sum(c.count for cell, c in rows.items() if cell.metric == "visit" and cell.region == "") == 4
    assert rows[Cell("visit", FLAVOUR, day, "spreekuur", PROVINCE)].count == 1
    assert rows[Cell("oneonone.requested", FLAVOUR, day)].hours == {11: 2}
    abandon = rows[Cell("oneonone.abandon_wait", FLAVOUR, day)]
    assert abandon.buckets == {DURATION_EDGES_S.index(300): 1}  # 6 minutes in the queue: 5-10 min
    assert rows[Cell("vraagbaak.routed", FLAVOUR, day, "beantwoord")].count == 1
    assert rows[Cell("crisis.held", FLAVOUR, day, version)].count == 1
    assert rows[Cell("crisis.confirmed", FLAVOUR, day, version)].count == 1
    assert rows[Cell("moderation.decision", FLAVOUR, day, "verwijderd")].count == 1
    assert not any(cell.metric == "spreekuur.question" for cell in rows)

    await _suppressed_everywhere_else(server, clock, version)


EXPECTED = {
    "Bezoeken": "8",
    "Berichten": "8",
    "Aanvragen 1-op-1 gesprek": "2",
    "Gesprekken gevoerd": "1",
    "Wachtenden afgehaakt": "1",
    "Warme overdrachten": "1",
    "Wachttijd tot een gesprek (mediaan)": "2 min – 5 min",  # 150 s
    "Duur van een gesprek (mediaan)": "15 min – 30 min",  # 1200 s, from the first answer to the end
    "Waardering (gemiddeld, 1-5)": "4,0",
    "Tijd tot een VraagBaak-antwoord (mediaan)": "10 min – 15 min",  # 720 s
    "Crisisberichten vastgehouden": "1",
    "Tijd tot oppakken (mediaan)": "1 min – 2 min",  # 90 s
    "Binnen 5 minuten opgepakt": "100%",
    "Moderatie-items": "1",
    "Tijd tot besluit (mediaan)": "2 min – 5 min",  # 180 s
    "Binnen 24 uur besloten": "100%",
    "Forumberichten": "2",
    "Artikelen gelezen": "1",
    "Vragen aan de VraagBaak": "1",
    "Vragen aan een spreekuur": "0",
}
PAGES = dict.fromkeys(PAGE_KINDS, 0.0) | {
    "start": 2.0,
    "chat": 1.0,
    "forum": 1.0,
    "artikelen": 1.0,
    "markt": 1.0,
    "hulp": 1.0,
    "spreekuur": 1.0,
}


async def _suppressed_everywhere_else(server: RunningServer, clock: TestClock, version: str) -> None:
    """The cells the admins saw exactly are "< 10" in the monthly release, its regional split and the public page."""
    reflectie = server.services.reflectie
    cells: list[tuple[str, str, int]] = [
        ("oneonone.answered", "", 1),
        ("oneonone.requested", "", 2),
        ("visit", "start", 2),
        ("message", "room", 6),
        ("forum.post", "", 2),
        ("crisis.held", version, 1),
    ]
    for metric, variant, exact in cells:
        release = await reflectie.release(metric, MONTH, variant)
        row = release.flavour_row(FLAVOUR)
        assert row is not None and row.value == exact, metric
        assert row.shown(10) == "< 10" and release.total.shown(10) == "< 10", metric
    visits = await reflectie.release("visit", MONTH, "markt")
    region = privacy.region_key(server.services.markt.regions.coarse(UTRECHT))
    [regional] = [row for _, row in visits.rows() if row.key == region]
    assert regional.value == 1 and regional.shown(10) == "< 10"
    clock.move_to(DAY + timedelta(days=30))
    assert [h.text for h in await reflectie.headlines(FLAVOUR, MONTH)] == ["< 10", "< 10", "< 10"]
    async with httpx.AsyncClient(base_url=server.url, timeout=10.0) as public:
        page = await public.get(f"{SITE}/cijfers/")
    assert page.status_code == 200 and "&lt; 10" in page.text
