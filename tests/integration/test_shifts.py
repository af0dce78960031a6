"""Shifts: signing on and off, the handover at sign-off, roster switching at block boundaries, coverage alerts."""

from __future__ import annotations

from datetime import date, datetime, time, timedelta
from typing import Any

import httpx
import pytest

from chatserver.adapters.oneonone_repo import OneOnOneRepo
from chatserver.flavours import TIMEZONE
from chatserver.protocol.events import StaffOnShift
from chatserver.services.shifts import ShiftError
from tests.conftest import MOMENTS
from tests.events_capture import CapturedEvents

from .test_oneonone_support import FLAVOUR, login, post_form, staff, system_lines, visitor

# The roster and coverage alerts read the injected clock: every test runs at each moment.
pytestmark = pytest.mark.parametrize("clock", list(MOMENTS), indirect=True)


def shifts(server: Any) -> Any:
    return server.services.shifts


def svc(server: Any) -> Any:
    return server.services.oneonone


async def test_sign_on_publishes_the_on_shift_set_and_professional_state(server: Any) -> None:
    pro = staff("professional", (FLAVOUR, "proud2bme"))
    assert not await shifts(server).professional_on_shift(FLAVOUR)
    await shifts(server).sign_on(pro, [FLAVOUR, "proud2bme", "dwang"], 2)  # dwang is not in their scope
    assert await shifts(server).professional_on_shift(FLAVOUR)
    assert await shifts(server).professional_on_shift("proud2bme")
    assert not await shifts(server).professional_on_shift("dwang")
    key = server.services.key("onshift", FLAVOUR, "professional")
    assert await server.services.redis.smembers(key) == {pro.account_id.encode()}
    await shifts(server).sign_off(pro.account_id, "", ["proud2bme"])
    assert not await shifts(server).professional_on_shift("proud2bme")
    assert await shifts(server).professional_on_shift(FLAVOUR)


async def test_sign_off_offers_open_chats_to_the_next_shift_with_the_note(server: Any) -> None:
    leaving, next_one = staff("volunteer"), staff("volunteer")
    await shifts(server).sign_on(leaving, [FLAVOUR], 2)
    chat = await svc(server).request(visitor(), FLAVOUR, "")
    await svc(server).accept(leaving, chat["_id"])
    await shifts(server).sign_off(leaving.account_id, "Bezoeker slaapt slecht; vraag naar het weekend.")
    doc = await OneOnOneRepo(server.services.db).chat(chat["_id"])
    assert doc["status"] == "waiting" and doc["staff_id"] is None
    assert any("slaapt slecht" in note["text"] for note in doc["notes"])
    assert any("volgende dienst" in line for line in await system_lines(server, chat["channel"]))
    await shifts(server).sign_on(next_one, [FLAVOUR], 2)
    taken = await svc(server).accept(next_one)
    assert taken["_id"] == chat["_id"]


async def test_roster_switches_status_at_block_start_and_end(server: Any) -> None:
    admin = staff("admin", ())
    peer = staff("peer_expert")
    # Tomorrow night by the injected clock: the roster job, running at "now" beside the test, must not
    # reach the block's start or end before the test's own ticks do.
    day = server.services.clock().astimezone(TIMEZONE).date() + timedelta(days=1)
    block = await shifts(server).add_block(
        admin, FLAVOUR, peer.account_id, peer.pseudonym, "peer_expert", day, "23:00", "03:00", [FLAVOUR]
    )
    start = datetime.combine(day, time(23, 0), tzinfo=TIMEZONE)
    assert block["end_at"] == start + timedelta(hours=4)
    assert await shifts(server).roster_tick(start - timedelta(seconds=1)) == 0
    assert not await shifts(server).is_on_shift(peer.account_id, FLAVOUR)
    assert await shifts(server).roster_tick(start) == 1
    assert await shifts(server).is_on_shift(peer.account_id, FLAVOUR)
    assert await shifts(server).staff_count(FLAVOUR) == 1
    assert await shifts(server).roster_tick(start + timedelta(hours=1)) == 0
    assert await shifts(server).roster_tick(start + timedelta(hours=4)) == 1
    assert not await shifts(server).is_on_shift(peer.account_id, FLAVOUR)
    assert await shifts(server).staff_count(FLAVOUR) == 0


async def test_nobody_is_rostered_into_a_community_they_do_not_serve(server: Any) -> None:
    admin = staff("admin", ())
    peer = staff("peer_expert")
    other = next(f.slug for f in server.services.catalog if f.slug != FLAVOUR)
    with pytest.raises(ShiftError) as refused:
        await shifts(server).add_block(
            admin, other, peer.account_id, peer.pseudonym, "peer_expert", date(2030, 1, 4), "09:00", "12:00", [FLAVOUR]
        )
    assert refused.value.status == 422 and "hoort niet bij" in refused.value.detail


async def test_coverage_alert_when_no_professional_in_the_next_two_hours(server: Any) -> None:
    # Friday 19:00 in Amsterdam: PsychoseNet is open (19:00-23:00)
    now = datetime(2030, 1, 4, 19, 0, tzinfo=TIMEZONE)
    raised = await shifts(server).coverage_alerts(now)
    assert raised >= 1
    assert [a["kind"] for a in await _alerts_about(server, now)] == ["coverage"]
    # once an hour, not on every tick
    await shifts(server).coverage_alerts(now + timedelta(minutes=1))
    assert len(await _alerts_about(server, now)) == 1


async def test_roster_covered_tier_raises_no_alert(server: Any) -> None:
    admin = staff("admin", ())
    pro = staff("professional")
    now = datetime(2030, 1, 4, 19, 0, tzinfo=TIMEZONE)
    await shifts(server).add_block(
        admin, FLAVOUR, pro.account_id, pro.pseudonym, "professional", now.date(), "18:00", "23:00", [FLAVOUR]
    )
    await shifts(server).coverage_alerts(now)
    assert await _alerts_about(server, now) == []
    assert await _alerts_about(server, now + timedelta(hours=4)) == []


async def test_coverage_alert_clears_when_a_professional_signs_on_and_returns_when_the_last_signs_off(
    server: Any, clock: Any
) -> None:
    # Friday 19:00 in Amsterdam: PsychoseNet is open and nobody is rostered.
    clock.move_to(datetime(2030, 1, 4, 19, 0, tzinfo=TIMEZONE))
    pro, second = staff("professional"), staff("professional")

    async def shown() -> list[str]:
        """The kinds of alert the console shows (a reload, after a live event)."""
        return [a["kind"] for a in (await svc(server).queue_view(pro))["alerts"]]

    await shifts(server).coverage_alerts()
    assert "coverage" in await shown()
    live = server.services.db["events"]
    before = await live.count_documents({"channel": f"queue:{FLAVOUR}", "data.event": "alert_cleared"})
    await shifts(server).sign_on(pro, [FLAVOUR], 2)
    assert "coverage" not in await shown()
    cleared = await live.count_documents({"channel": f"queue:{FLAVOUR}", "data.event": "alert_cleared"})
    assert cleared == before + 1
    await shifts(server).coverage_alerts()  # the next roster tick: someone is on shift, so no gap
    await shifts(server).sign_on(second, [FLAVOUR], 2)
    await shifts(server).sign_off(pro.account_id)
    assert "coverage" not in await shown()  # one professional still on shift
    await shifts(server).sign_off(second.account_id)
    assert "coverage" in await shown()  # the last one left: the gap is told again at once


async def _alerts_about(server: Any, start: datetime) -> list[Any]:
    """Coverage alerts about gaps from ``start`` on (the server's own job may alert about today as well)."""
    alerts = await OneOnOneRepo(server.services.db).recent_alerts([FLAVOUR])
    return [a for a in alerts if a.get("about") is not None and start <= a["about"] < start + timedelta(hours=3)]


async def test_shift_page_and_roster_page_over_http(server: Any, client: httpx.AsyncClient) -> None:
    vol = staff("volunteer")
    await login(server, client, vol)
    answer = await post_form(client, "/backoffice/dienst", "/backoffice/dienst", {"flavours": FLAVOUR, "capacity": "2"})
    assert answer.status_code == 303
    assert await shifts(server).is_on_shift(vol.account_id, FLAVOUR)
    assert (await client.get("/backoffice/rooster")).status_code == 404  # admins only
    answer = await post_form(client, "/backoffice/dienst", "/backoffice/dienst", {"op": "afmelden", "note": "rustig"})
    assert answer.status_code == 303
    assert not await shifts(server).is_on_shift(vol.account_id, FLAVOUR)
    async with httpx.AsyncClient(base_url=server.url) as admin_client:
        await login(server, admin_client, staff("admin", ()))
        await server.services.db["accounts"].insert_one(
            {"_id": vol.account_id, "kind": "staff", "role": "volunteer", "flavours": [FLAVOUR],
             "pseudonym": vol.pseudonym, "pseudonym_key": vol.pseudonym.lower()}
        )  # fmt: skip
        page = f"/backoffice/rooster?smaak={FLAVOUR}"
        today = server.services.clock().astimezone(TIMEZONE).date().isoformat()
        answer = await post_form(admin_client, page, "/backoffice/rooster",
                                 {"flavour": FLAVOUR, "account_id": vol.account_id, "day": today,
                                  "start": "22:00", "end": "02:00"})  # fmt: skip
        assert answer.status_code == 303
        listing = await admin_client.get(page)
        assert listing.status_code == 200 and "22:00–02:00" in listing.text and vol.pseudonym in listing.text
        bad = await post_form(admin_client, page, "/backoffice/rooster",
                              {"flavour": FLAVOUR, "account_id": vol.account_id, "day": "2030-01-04",
                               "start": "25:00", "end": "02:00"})  # fmt: skip
        assert bad.status_code == 422


async def test_demo_seeder_plans_the_coming_week_once(server: Any) -> None:
    from chatserver.demo import seed_demo_roster

    await server.services.db["accounts"].insert_one(
        {"_id": "demo-vol", "kind": "staff", "role": "volunteer", "flavours": [FLAVOUR], "pseudonym": "Demo",
         "pseudonym_key": "demo"}
    )  # fmt: skip
    await seed_demo_roster(server.services)
    await seed_demo_roster(server.services)
    roster = server.services.db["shift_roster"]
    assert await roster.count_documents({"flavour": FLAVOUR}) == 7 * 4
    assert await roster.count_documents({"flavour": "proud2bme"}) == 0  # nobody serves it
    assert "seed_demo_roster" in {getattr(s, "__name__", "") for s in server.services.demo_seeders}


async def test_signing_on_and_off_tells_the_consoles_the_count(server: Any, captured_events: CapturedEvents) -> None:
    vol = staff("volunteer")
    captured_events.watch(server.services.chat)
    await shifts(server).sign_on(vol, [FLAVOUR], 2)
    await shifts(server).sign_off(vol.account_id, "")
    assert captured_events.notices == [
        (f"queue:{FLAVOUR}", StaffOnShift(staff_on_shift=1)),
        (f"queue:{FLAVOUR}", StaffOnShift(staff_on_shift=0)),
    ]
