"""The Reflectietafel on the real engines: a scripted day of activity, counted, flushed to Redis, rolled up into
MongoDB, gives exactly the counts and medians the script made; releases are suppressed; public figures with noise
are drawn once."""

from __future__ import annotations

import random
from collections.abc import AsyncIterator
from datetime import datetime, timedelta
from fractions import Fraction
from typing import TYPE_CHECKING

import httpx
import pytest

from chatserver.adapters.markt_uptake import RedisUptake
from chatserver.adapters.mongo_client import Database, open_mongo
from chatserver.adapters.oneonone_repo import OneOnOneRepo
from chatserver.adapters.redis_client import Redis, open_redis
from chatserver.adapters.reflectie_counters import COUNTER_TTL_S, RedisCounters
from chatserver.adapters.reflectie_store import MongoReflectieStore
from chatserver.config import Settings
from chatserver.data.regions import load_regions
from chatserver.domain import reflectie_privacy as privacy
from chatserver.domain.markt import RegionIndex
from chatserver.domain.reflectie import Cell
from chatserver.flavours import TIMEZONE
from chatserver.ports.markt import UptakeKey
from chatserver.services.reflectie import ReflectieService, ReflectieSettings

from ..conftest import RunningServer

if TYPE_CHECKING:
    from ..conftest import TestClock  # not imported at run time: pytest would collect it as a test class

FLAVOURS = {"psychosenet": "PsychoseNet", "trauma": "Trauma", "dwang": "Dwang"}
DAY = datetime(2030, 1, 9, tzinfo=TIMEZONE)  # a Wednesday
WEEK = "2030-W02"


@pytest.fixture(scope="module")
def regions() -> RegionIndex:
    return load_regions()


@pytest.fixture
async def engines(settings: Settings) -> AsyncIterator[tuple[Redis, Database]]:
    assert settings.redis_url and settings.mongodb_url
    redis, mongo = open_redis(settings.redis_url), open_mongo(settings.mongodb_url)
    try:
        yield redis, mongo[settings.mongodb_database]
    finally:
        await redis.aclose()
        await mongo.close()


def build(
    settings: Settings,
    engines: tuple[Redis, Database],
    clock: TestClock,
    regions: RegionIndex,
    epsilon: Fraction | None = None,
) -> tuple[RedisCounters, ReflectieService, RedisUptake]:
    redis, db = engines
    counters = RedisCounters(redis, settings.redis_key_prefix, FLAVOURS, regions, clock)
    uptake = RedisUptake(redis, settings.redis_key_prefix, FLAVOURS)
    service = ReflectieService(
        source=counters,
        store=MongoReflectieStore(db),
        roster=OneOnOneRepo(db),
        uptake=uptake,
        flavours=FLAVOURS,
        regions=regions,
        clock=clock,
        settings=ReflectieSettings(retention_days=30, epsilon=epsilon),
        rng=random.Random(42),
    )
    return counters, service, uptake


def at(clock: TestClock, hour: int, minute: int = 0) -> None:
    clock.move_to(DAY.replace(hour=hour, minute=minute))


async def scripted_day(counters: RedisCounters, clock: TestClock, db: Database) -> None:
    """What the script does, by the hour (the hooks in the features make these same calls)."""
    count = counters.count
    await OneOnOneRepo(db).add_block(
        {"_id": "b1", "flavour": "psychosenet", "account_id": "s1", "pseudonym": "p", "role": "professional",
         "start_at": DAY.replace(hour=9), "end_at": DAY.replace(hour=17), "started": True, "ended": True}
    )  # fmt: skip
    at(clock, 10, 5)
    for _ in range(3):
        count("oneonone.requested", "psychosenet")
    for _ in range(12):
        count("visit", "psychosenet", variant="forum", region="gm:GM0363")  # Amsterdam: counted as its GGD region
    for _ in range(20):
        count("message", "psychosenet", variant="room")
    at(clock, 14, 10)
    count("oneonone.requested", "psychosenet")
    count("oneonone.requested", "psychosenet")
    for seconds in (30, 90, 200, 400):
        count("oneonone.answered", "psychosenet")
        count("oneonone.wait", "psychosenet", value=seconds)
    for seconds in (600, 1200, 1500, 3000):
        count("oneonone.duration", "psychosenet", value=seconds)
    for score in (5, 4, 4):
        count("oneonone.feedback", "psychosenet", value=score)
    count("oneonone.handoff", "psychosenet")
    at(clock, 16, 0)
    count("moderation.item", "psychosenet", variant="melding")
    count("moderation.item", "psychosenet", variant="melding")
    count("moderation.item", "psychosenet", variant="crisis")
    for outcome, seconds in (("verwijderd", 600), ("goedgekeurd", 7200), ("goedgekeurd", 90000)):
        count("moderation.decision", "psychosenet", variant=outcome)
        count("moderation.decision_time", "psychosenet", value=seconds)
    count("crisis.held", "psychosenet", variant="v3")
    count("crisis.claim_time", "psychosenet", value=120)
    count("crisis.confirmed", "psychosenet", variant="v3")
    at(clock, 20, 30)
    count("oneonone.requested", "psychosenet")  # after the roster: a gap
    count("oneonone.abandoned", "psychosenet")
    count("oneonone.abandon_wait", "psychosenet", value=600)
    for _ in range(3):
        count("visit", "psychosenet", variant="chat")
    for _ in range(5):
        count("visit", "trauma", variant="start", region="pv:utrecht")
    count("visit", "nergens", variant="start")  # an unknown flavour is not counted
    count("bestaat.niet", "psychosenet")  # nor an unknown metric


async def test_a_scripted_day_rolls_up_to_exactly_what_happened(
    settings: Settings, engines: tuple[Redis, Database], clock: TestClock, regions: RegionIndex
) -> None:
    counters, service, uptake = build(settings, engines, clock, regions)
    redis, db = engines
    await scripted_day(counters, clock, db)
    await uptake.add({(UptakeKey("e1", "psychosenet", "", WEEK), "view"): 7})
    assert await counters.flush() > 0
    assert counters.pending == {}
    key = f"{settings.redis_key_prefix}refl:2030-01-09:psychosenet"
    assert 0 < await redis.ttl(key) <= COUNTER_TTL_S
    at(clock, 23, 0)
    written = await service.rollup.run_once()
    assert written == await service.rollup.run_once()  # idempotent

    rows = await service.store.rows(list(FLAVOURS), DAY.date(), DAY.date())
    by_cell = {row.cell: row.counts for row in rows}
    day = DAY.date()
    requested = by_cell[Cell("oneonone.requested", "psychosenet", day)]
    assert requested.count == 6 and requested.hours == {10: 3, 14: 2, 20: 1}
    assert by_cell[Cell("visit", "psychosenet", day, "forum", "ggd:GG3406")].count == 12
    assert by_cell[Cell("visit", "trauma", day, "start", "pv:utrecht")].count == 5
    assert {row.cell.flavour for row in rows} == {"psychosenet", "trauma"}
    assert not any(row.cell.metric == "bestaat.niet" for row in rows)

    sections = {s.key: s for s in await service.dashboard(["psychosenet"], [WEEK])}
    figures = {f.label: f.text for s in sections.values() for f in s.figures}
    assert figures["Aanvragen 1-op-1 gesprek"] == "6"
    assert figures["Gesprekken gevoerd"] == "4"
    assert figures["Wachtenden afgehaakt"] == "1"
    assert figures["Warme overdrachten"] == "1"
    assert figures["Wachttijd tot een gesprek (mediaan)"] == "1 min – 2 min"  # the true median is 90 s
    assert figures["Duur van een gesprek (mediaan)"] == "15 min – 30 min"  # 1200 s
    assert figures["Waardering (gemiddeld, 1-5)"] == "4,3"
    assert figures["Bezoeken"] == "15" and figures["Berichten"] == "20"
    assert figures["Crisisberichten vastgehouden"] == "1"
    assert figures["Binnen 5 minuten opgepakt"] == "100%"
    assert figures["Moderatie-items"] == "3"
    assert figures["Binnen 24 uur besloten"] == "67%"
    assert figures["Uren met vraag maar zonder rooster"] == "1"
    assert sections["vraag"].gap_hours == ["wo 20"]
    demand, capacity = sections["vraag"].charts[0].series
    assert demand[1][2 * 24 + 10] == 3 and capacity[1][2 * 24 + 10] == 1 and capacity[1][2 * 24 + 20] == 0
    market = next(c for c in sections["inhoud"].charts if c.key == "markt")
    assert market.series[0] == ("Bekeken", (7,))


async def test_a_release_is_suppressed_and_the_totals_give_nothing_away(
    settings: Settings, engines: tuple[Redis, Database], clock: TestClock, regions: RegionIndex
) -> None:
    counters, service, _ = build(settings, engines, clock, regions)
    await scripted_day(counters, clock, engines[1])
    await counters.flush()
    await service.rollup.run_once()
    release = await service.release("visit", "2030-01", "forum")
    psychosenet = release.flavour_row("psychosenet")
    assert psychosenet is not None and psychosenet.shown(10) == "12"
    visits = await service.release("visit", "2030-01", "start")
    trauma = visits.flavour_row("trauma")
    assert trauma is not None and trauma.shown(10) == "< 10"
    values = {row.key: row.value for _, row in visits.rows()}
    status = {row.key: row.status for _, row in visits.rows()}
    ggds = {f"ggd:{g.ggd_code}": f"pv:{p}" for g in regions.gemeenten.values() for p in [_pv(regions, g.province)]}
    _, equations = privacy.month_release(dict.fromkeys(FLAVOURS, 0), {}, ggds)
    assert not privacy.exposed(values, status, equations, 10)
    from chatserver.services.reflectie.release import release_csv, release_json

    text = release_csv(visits)
    assert "trauma,Trauma,1,< 10" in text and ",5\n" not in text
    assert all(cell["waarde"] != "5" for cell in release_json(visits)["cellen"])  # type: ignore[union-attr]


def _pv(regions: RegionIndex, name: str) -> str:
    from chatserver.domain.markt import province_key

    return province_key(name)


async def test_public_figures_with_noise_are_drawn_once(
    settings: Settings, engines: tuple[Redis, Database], clock: TestClock, regions: RegionIndex
) -> None:
    counters, service, _ = build(settings, engines, clock, regions, epsilon=Fraction(3))
    for _ in range(40):
        at(clock, 12)
        counters.count("oneonone.answered", "psychosenet")
        counters.count("oneonone.wait", "psychosenet", value=100)
    await counters.flush()
    await service.rollup.run_once()
    clock.move_to(DAY + timedelta(days=30))
    month = service.last_complete_month()
    assert month == "2030-01"
    first = await service.headlines("psychosenet", month)
    again = await service.headlines("psychosenet", month)
    assert [h.text for h in first] == [h.text for h in again]
    answered = first[0]
    assert answered.noise == privacy.noise_bound(Fraction(1)) and answered.epsilon == Fraction(1)
    assert abs(int(answered.text) - 40) <= 10
    exact = build(settings, engines, clock, regions)[1]
    assert next(h.text for h in await exact.headlines("psychosenet", month)) == "40"
    assert [h.text for h in await exact.headlines("trauma", month)] == ["< 10", "< 10", "< 10"]


async def test_old_aggregates_go_after_the_retention(
    settings: Settings, engines: tuple[Redis, Database], clock: TestClock, regions: RegionIndex
) -> None:
    counters, service, _ = build(settings, engines, clock, regions)
    at(clock, 12)
    counters.count("forum.post", "dwang")
    await counters.flush()
    await service.rollup.run_once()
    clock.move_to(DAY + timedelta(days=29))
    assert await service.rollup.purge_once() == 0
    clock.move_to(DAY + timedelta(days=31))
    assert await service.rollup.purge_once() == 1


async def test_pages_show_exact_figures_to_admins_and_suppressed_ones_to_everyone_else(
    server: RunningServer, client: httpx.AsyncClient, clock: TestClock
) -> None:
    from .content_helpers import login_as, new_client, staff

    services = server.services
    at(clock, 12)
    for _ in range(14):
        services.counter.count("oneonone.answered", "psychosenet")
    for _ in range(3):
        services.counter.count("oneonone.answered", "trauma", region="pv:utrecht")
    await services.counter.flush()
    await services.reflectie.rollup.run_once()
    clock.move_to(DAY + timedelta(days=25))
    await login_as(server, client, staff("admin", name="beheerderR"))
    board = await client.get("/backoffice/reflectie/?tot=2030-W02&weken=4")
    assert board.status_code == 200 and "Digitale Reflectietafel" in board.text
    assert board.headers["cache-control"] == "no-store"
    assert "<svg" in board.text and "<title" in board.text and "Tabel met deze cijfers" in board.text
    month = await client.get("/backoffice/reflectie/maand?metriek=oneonone.answered&maand=2030-01")
    assert month.status_code == 200, month.text[-3000:]
    assert "&lt; 10" in month.text and ">17<" in month.text and ">14<" not in month.text
    csv_text = (await client.get("/backoffice/reflectie/export.csv?metriek=oneonone.answered&maand=2030-01")).text
    # 17 in all: 14 shown beside the total would give the 3 away, so the 14 is suppressed as well.
    assert "totaal,totaal,Alle smaken samen,0,17" in csv_text
    assert "psychosenet,PsychoseNet,1,×" in csv_text and "trauma,Trauma & Veerkracht,1,< 10" in csv_text
    assert ",3\n" not in csv_text  # the small number itself never leaves
    regional = await client.get("/backoffice/reflectie/regio?metriek=oneonone.answered&maand=2030-01")
    assert regional.status_code == 200 and "provincie Utrecht" in regional.text
    assert (await client.get("/backoffice/reflectie/export.csv?metriek=bestaat.niet")).status_code == 404
    async with await new_client(server) as other:
        await login_as(server, other, staff("volunteer", "psychosenet"))
        assert (await other.get("/backoffice/reflectie/")).status_code == 404
        assert (await other.get("/backoffice/reflectie/export.csv")).status_code == 404
    async with await new_client(server) as professional:
        await login_as(server, professional, staff("professional", "psychosenet"))
        view = await professional.get("/backoffice/reflectie/?maand=2030-01")
        assert view.status_code == 200 and "Maandcijfers" in view.text and "<svg" not in view.text
    async with await new_client(server) as public:
        figures = await public.get("/f/trauma/cijfers/")
        assert (
            figures.status_code == 200 and "&lt; 10" in figures.text and "Hoe we uw privacy beschermen" in figures.text
        )
