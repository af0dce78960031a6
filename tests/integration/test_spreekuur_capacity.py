"""E-spreekuur capacity: visitors take seats (asking, or joining while live), staff never; real Redis and MongoDB."""

from __future__ import annotations

import asyncio
import re
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from chatserver.adapters.redis_client import open_redis
from chatserver.adapters.spreekuur_seats import SpreekuurSeats
from chatserver.services.spreekuur import SEAT_RETENTION, Schedule, SpreekuurError

from ..conftest import RunningServer
from .content_helpers import csrf_of, login_as, member, new_client, staff
from .spreekuur_helpers import ask_over_http, host_account, scheduled, seat_key, service

LIVE = -timedelta(minutes=1)  # started a minute ago: live by the clock
FULL = "Dit spreekuur is vol"


async def seat_holders(server: RunningServer, sid: str) -> set[str]:
    members = await server.services.redis.smembers(seat_key(server, sid))
    return {m.decode() for m in members}


def has_ask_form(html: str) -> bool:
    return re.search(r'<textarea[^>]*name="text"', html) is not None


def shows_full(html: str) -> bool:
    """The "vol" message is shown in the status region (its text also sits in an attribute for the script)."""
    return re.search(r'<div id="vol" role="status"[^>]*>\s*<p class="notice">Dit spreekuur is vol', html) is not None


async def test_third_visitor_is_refused_and_sees_the_full_message(server: RunningServer) -> None:
    host = await host_account(server)
    doc = await scheduled(server, host, starts_in=LIVE, capacity=2)
    sid = doc["_id"]
    url = f"/f/psychosenet/spreekuur/{sid}/"
    async with (
        await new_client(server) as first,
        await new_client(server) as second,
        await new_client(server) as third,
    ):
        # The third visitor opened the page while seats were free (no session yet: reading takes no seat) ...
        early = await third.get(url)
        assert early.status_code == 200 and has_ask_form(early.text)
        assert "Nog 2 plaatsen vrij" in early.text
        # ... then two guests ask and take both seats ...
        for client, text in ((first, "Hoe lang duurt een psychose meestal?"), (second, "Helpt sporten bij stemmen?")):
            sent = await ask_over_http(client, "psychosenet", sid, text)
            assert sent.status_code == 303, sent.text[:300]
        assert len(await seat_holders(server, sid)) == 2
        # ... so the third visitor's question is refused with a reason, and not stored.
        refused = await third.post(f"{url}vragen", data={"csrf_token": csrf_of(early.text), "text": "Mag ik ook?"})
        assert refused.status_code == 409
        assert shows_full(refused.text) and 'href="#vol"' in refused.text
        assert "je vraag is niet verstuurd" in refused.text  # the refusal's own reason, in the error summary
        assert not has_ask_form(refused.text)
        page = await third.get(url)
        assert page.status_code == 200
        assert shows_full(page.text) and "<strong>Vol</strong>" in page.text
        assert not has_ask_form(page.text)
        assert 'data-live="off"' in page.text  # no live stream without a seat
        # The two seat holders still see the form and may ask again.
        for client in (first, second):
            again = await client.get(url)
            assert has_ask_form(again.text) and not shows_full(again.text)
            sent = await ask_over_http(client, "psychosenet", sid, "Nog een vraag over slapen")
            assert sent.status_code == 303
    questions = await service(server).repo.questions_of(sid, ["pending"])
    assert len(questions) == 4
    assert "Mag ik ook?" not in {q["text"] for q in questions}
    assert len(await seat_holders(server, sid)) == 2


async def test_staff_are_never_counted_or_refused(server: RunningServer) -> None:
    host = await host_account(server)
    doc = await scheduled(server, host, starts_in=LIVE, capacity=1)
    sid = doc["_id"]
    svc = service(server)
    visitor = member()
    assert (await svc.ask(visitor, doc, "Wat doet een ervaringsdeskundige?", False)).status == "pending"
    for actor in (host, staff("volunteer", "psychosenet"), staff("editor", "psychosenet"), staff("admin")):
        asked = await svc.ask(actor, doc, "Een vraag van de staf om het gesprek te openen", False)
        assert asked.status == "pending", actor.role
        async with await new_client(server) as client:
            await login_as(server, client, actor)
            page = await client.get(f"/f/psychosenet/spreekuur/{sid}/")
            assert page.status_code == 200 and has_ask_form(page.text) and not shows_full(page.text), actor.role
    assert await seat_holders(server, sid) == {visitor.account_id}
    async with await new_client(server) as client:
        await login_as(server, client, host)
        console = await client.get(f"/backoffice/spreekuren/{sid}")
        assert console.status_code == 200
        assert "Bezoekers: 1 van 1 plaats bezet" in console.text and "<strong>Vol</strong>" in console.text


async def test_opening_the_live_page_takes_a_seat_and_a_holder_keeps_it(server: RunningServer) -> None:
    host = await host_account(server)
    waiting = await scheduled(server, host, capacity=1)
    live = await scheduled(server, host, starts_in=LIVE, capacity=1)
    holder, latecomer = member(), member()
    async with await new_client(server) as a, await new_client(server) as b:
        await login_as(server, a, holder)
        await login_as(server, b, latecomer)
        # Before the start, opening the page only counts.
        before = await a.get(f"/f/psychosenet/spreekuur/{waiting['_id']}/")
        assert "Nog 1 plaats vrij" in before.text and has_ask_form(before.text)
        assert await seat_holders(server, waiting["_id"]) == set()
        # While live, opening it takes the seat.
        url = f"/f/psychosenet/spreekuur/{live['_id']}/"
        joined = await a.get(url)
        assert has_ask_form(joined.text) and not shows_full(joined.text) and 'data-live="ws"' in joined.text
        assert await seat_holders(server, live["_id"]) == {holder.account_id}
        full = await b.get(url)
        assert shows_full(full.text) and not has_ask_form(full.text)
        again = await a.get(url)
        assert has_ask_form(again.text) and not shows_full(again.text)
        sent = await ask_over_http(a, "psychosenet", live["_id"], "Ik heb een plaats, dus mag ik vragen?")
        assert sent.status_code == 303
    assert await seat_holders(server, live["_id"]) == {holder.account_id}


async def test_an_earlier_asker_keeps_their_seat_even_when_the_seats_were_lost(server: RunningServer) -> None:
    host = await host_account(server)
    doc = await scheduled(server, host, capacity=1)
    svc = service(server)
    early, other = member(), member()
    await svc.ask(early, doc, "Een vraag vooraf over medicatie", False)
    await server.services.redis.delete(seat_key(server, doc["_id"]))  # as after a Redis restart without data
    await svc.ask(other, doc, "Een vraag die de vrije plaats neemt", False)
    asked = await svc.ask(early, doc, "Nog een vraag van wie er al eerder was", False)
    assert asked.status == "pending"
    assert await seat_holders(server, doc["_id"]) == {early.account_id, other.account_id}
    seats = await svc.seats(doc, member())
    assert seats.full and seats.remaining == 0


async def test_a_crisis_question_is_never_refused_for_capacity(server: RunningServer) -> None:
    host = await host_account(server)
    doc = await scheduled(server, host, starts_in=LIVE, capacity=1)
    svc = service(server)
    await svc.ask(member(), doc, "Wat helpt tegen onrust?", False)
    newcomer = member()
    with pytest.raises(SpreekuurError) as refused:
        await svc.ask(newcomer, doc, "Een gewone vraag van iemand zonder plaats", False)
    exc = refused.value
    assert exc.code == "full" and exc.status == 409 and exc.field == "text" and FULL in exc.detail
    held = await svc.ask(newcomer, doc, "Ik wil niet meer leven, ik wil er vannacht een eind aan maken.", False)
    assert held.status == "held"
    assert newcomer.account_id in await seat_holders(server, doc["_id"])


async def test_concurrent_askers_get_exactly_the_capacity(server: RunningServer) -> None:
    host = await host_account(server)
    doc = await scheduled(server, host, starts_in=LIVE, capacity=3)
    svc = service(server)
    visitors = [member() for _ in range(10)]
    results = await asyncio.gather(
        *(svc.ask(v, doc, f"Vraag nummer {n} over herstel", False) for n, v in enumerate(visitors)),
        return_exceptions=True,
    )
    asked = [r for r in results if not isinstance(r, BaseException)]
    refused = [r for r in results if isinstance(r, SpreekuurError)]
    assert len(asked) == 3 and len(refused) == 7, results
    assert all(r.code == "full" for r in refused)
    holders = await seat_holders(server, doc["_id"])
    assert len(holders) == 3 and holders <= {v.account_id for v in visitors}
    assert len(await svc.repo.questions_of(doc["_id"], ["pending"])) == 3


async def test_seats_are_counted_atomically_across_processes(server: RunningServer) -> None:
    """Two Redis clients (as two server processes have) race for three seats: exactly three are given."""
    url = server.services.settings.redis_url
    assert url is not None
    prefix = server.services.key("spreekuur", "seats", "")
    clients = [open_redis(url), open_redis(url)]
    try:
        stores = [SpreekuurSeats(c, prefix) for c in clients]
        until = datetime.now(UTC) + timedelta(hours=1)
        results = await asyncio.gather(
            *(stores[n % 2].take("race", f"acc-{n}", 3, until) for n in range(20)),
        )
        assert sum(1 for seated, _, _ in results if seated) == 3
        assert max(taken for _, taken, _ in results) == 3
        assert sum(1 for _, _, new in results if new) == 3  # each seat given once, as a new one
        assert await clients[0].scard(prefix + "race") == 3
    finally:
        for c in clients:
            await c.aclose()


async def test_seats_do_not_outlive_the_spreekuur(server: RunningServer) -> None:
    host = await host_account(server)
    doc = await scheduled(server, host, starts_in=LIVE, capacity=5)
    svc = service(server)
    key = seat_key(server, doc["_id"])
    redis = server.services.redis
    await svc.ask(member(), doc, "Een vraag die een plaats neemt", False)
    ends_at = doc["ends_at"].replace(tzinfo=UTC) if doc["ends_at"].tzinfo is None else doc["ends_at"]
    expected = (ends_at + SEAT_RETENTION).timestamp()
    expire_time = await redis.execute_command("PEXPIRETIME", key)
    assert abs(expire_time / 1000 - expected) < 2, "seats expire shortly after the planned end"
    # Moving the end moves the expiry.
    editor = staff("editor", "psychosenet")
    later = ends_at + timedelta(minutes=30)
    await svc.update(editor, doc["_id"], Schedule("psychosenet", host.account_id, doc["title"], doc["description"],
                                                  doc["starts_at"], later, 5))  # fmt: skip
    moved = await redis.execute_command("PEXPIRETIME", key)
    assert abs(moved / 1000 - (later + SEAT_RETENTION).timestamp()) < 2
    # Closing the session drops the seats at once; cancelling another does too.
    await svc.close_now(host, doc["_id"])
    assert await redis.exists(key) == 0
    other = await scheduled(server, host, capacity=5)
    await svc.ask(member(), other, "Een vraag vooraf", False)
    assert await redis.exists(seat_key(server, other["_id"])) == 1
    await svc.cancel(editor, other["_id"])
    assert await redis.exists(seat_key(server, other["_id"])) == 0


async def test_a_visitor_who_leaves_and_comes_back_is_counted_once_as_attending(
    server: RunningServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Coming back (a reload that freed the seat, a second visit) takes a seat again but is the same visitor."""
    from chatserver.domain.channels import parse_channel

    host = await host_account(server)
    doc = await scheduled(server, host, starts_in=LIVE, capacity=5)
    svc = service(server)
    counter = server.services.counter
    counted: list[str] = []
    count = counter.count

    def recording(metric: str, flavour: str, **kw: Any) -> None:
        counted.append(metric)
        count(metric, flavour, **kw)

    monkeypatch.setattr(counter, "count", recording)
    visitor, other = member(), member()
    ref = parse_channel(f"spreekuur:psychosenet:{doc['_id']}")
    assert ref is not None
    for _ in range(3):
        assert (await svc.take_seat(visitor, doc)).seated
        await svc.on_last_leave(visitor, ref)
        assert visitor.account_id not in await seat_holders(server, doc["_id"])
    assert (await svc.take_seat(other, doc)).seated
    assert counted.count("spreekuur.attendance") == 2  # two people, however often they came and went
    await svc.close_now(host, doc["_id"])
    assert await server.services.redis.exists(f"{{{seat_key(server, doc['_id'])}}}:seen") == 0
