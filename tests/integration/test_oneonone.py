"""1-on-1 chat: queue positions, routing fairness and priority, capacity, transfer, escalation with consent,
reply time-out, wait alert, transcripts, retention and the safeguarding hold."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

import httpx
import msgspec
import pytest

from chatserver.adapters.oneonone_repo import OneOnOneRepo
from chatserver.domain.identity import Tier
from chatserver.protocol.events import ChatAccepted, ChatAssigned, QueueChange, StaffChatNotice, SystemLine
from chatserver.services.oneonone import OneOnOneError
from tests.conftest import MOMENTS
from tests.events_capture import CapturedEvents

from .test_oneonone_support import FLAVOUR, eventually, login, post_form, staff, system_lines, visitor

# Opening hours, the roster, wait alerts and retention read the injected clock: every test runs at each moment.
pytestmark = pytest.mark.parametrize("clock", list(MOMENTS), indirect=True)


def svc(server: Any) -> Any:
    return server.services.oneonone


def shifts(server: Any) -> Any:
    return server.services.shifts


async def test_positions_follow_fair_order_with_risk_first(server: Any) -> None:
    vol = staff("volunteer")
    await shifts(server).sign_on(vol, [FLAVOUR], 2)
    a, b, c = visitor("A"), visitor("B"), visitor("C")
    chat_a = await svc(server).request(a, FLAVOUR, "")
    chat_b = await svc(server).request(b, FLAVOUR, "")
    chat_c = await svc(server).request(c, FLAVOUR, "", risk=True)
    positions = [(await svc(server).position_view(d))["position"] for d in (chat_a, chat_b, chat_c)]
    assert positions == [2, 3, 1]
    # asking again returns the same request, not a second one
    assert (await svc(server).request(a, FLAVOUR, ""))["_id"] == chat_a["_id"]
    first = await svc(server).accept(vol)
    assert first["_id"] == chat_c["_id"]
    second = await svc(server).accept(vol)
    assert second["_id"] == chat_a["_id"]
    # capacity 2: a third accept is refused
    with pytest.raises(OneOnOneError) as err:
        await svc(server).accept(vol)
    assert err.value.status == 409
    view = await svc(server).position_view(await OneOnOneRepo(server.services.db).chat(chat_b["_id"]))
    assert view["position"] == 1 and view["staff_on_shift"] == 1
    assert view["estimated_wait_min"] is not None and view["estimated_wait_min"] >= 1


async def test_no_estimate_when_nobody_is_on_shift(server: Any) -> None:
    vol = staff("volunteer")
    await shifts(server).sign_on(vol, [FLAVOUR], 1)
    chat = await svc(server).request(visitor(), FLAVOUR, "")
    await shifts(server).sign_off(vol.account_id, "")
    view = await svc(server).position_view(chat)
    assert view["staff_on_shift"] == 0
    assert view["estimated_wait_min"] is None


async def test_transfer_and_escalation_travel_with_the_note(server: Any) -> None:
    vol, peer, pro = staff("volunteer"), staff("peer_expert"), staff("professional", name="Anna")
    pro2 = staff("professional", name="Bram")
    for member in (vol, peer, pro, pro2):
        await shifts(server).sign_on(member, [FLAVOUR], 3)
    person = visitor()
    chat = await svc(server).request(person, FLAVOUR, "slapen")
    await svc(server).accept(vol, chat["_id"])
    with pytest.raises(OneOnOneError):
        await svc(server).escalate(vol, chat["_id"], "volunteer", "")
    # a volunteer cannot take a chat that waits for a professional
    escalated = await svc(server).escalate(vol, chat["_id"], "professional", "somber, vraagt naar medicatie")
    assert escalated["status"] == "waiting" and escalated["handoff_from"] == vol.account_id
    with pytest.raises(OneOnOneError):
        await svc(server).accept(peer, chat["_id"])
    taken = await svc(server).accept(pro)
    assert taken["_id"] == chat["_id"] and taken["staff_id"] == pro.account_id
    lines = await system_lines(server, chat["channel"])
    assert any(line.startswith("Je wordt doorverbonden met een professional (Anna)") for line in lines)
    assert any("somber" in n["text"] for n in taken["notes"])
    # transfer to a colleague: not below the tier the chat needs
    with pytest.raises(OneOnOneError):
        await svc(server).transfer(pro, chat["_id"], peer.account_id, "")
    moved = await svc(server).transfer(pro, chat["_id"], pro2.account_id, "neemt het over")
    assert moved["staff_id"] == pro2.account_id
    assert any("Bram" in line for line in await system_lines(server, chat["channel"]))


async def test_escalation_waits_for_consent_where_the_flavour_asks_it(server: Any) -> None:
    flavour = next(f for f in server.services.catalog if f.chat.escalation_needs_consent)
    vol, pro = staff("volunteer", (flavour.slug,)), staff("professional", (flavour.slug,), name="Pim")
    await shifts(server).sign_on(vol, [flavour.slug], 2)
    await shifts(server).sign_on(pro, [flavour.slug], 2)
    person = visitor()
    chat = await svc(server).request(person, flavour.slug, "")
    await svc(server).accept(vol, chat["_id"])
    pending = await svc(server).escalate(vol, chat["_id"], "professional", "", pro.account_id)
    assert pending["staff_id"] == vol.account_id and pending["pending_escalation"]
    with pytest.raises(OneOnOneError):
        await svc(server).consent(visitor(), flavour.slug, chat["_id"], True)
    done = await svc(server).consent(person, flavour.slug, chat["_id"], True)
    assert done["staff_id"] == pro.account_id
    assert any("(Pim)" in line for line in await system_lines(server, chat["channel"]))


async def test_reply_timeout_reoffers_and_alerts(server: Any) -> None:
    vol = staff("volunteer")
    await shifts(server).sign_on(vol, [FLAVOUR], 2)
    chat = await svc(server).request(visitor(), FLAVOUR, "")
    accepted = await svc(server).accept(vol, chat["_id"])
    timeout = server.services.catalog.get(FLAVOUR).chat.reply_timeout_min
    await svc(server).tick(accepted["assigned_at"] + timedelta(minutes=timeout - 1))
    assert (await OneOnOneRepo(server.services.db).chat(chat["_id"]))["status"] == "active"
    await svc(server).tick(accepted["assigned_at"] + timedelta(minutes=timeout, seconds=1))
    doc = await OneOnOneRepo(server.services.db).chat(chat["_id"])
    assert doc["status"] == "waiting" and doc["staff_id"] is None
    alerts = await OneOnOneRepo(server.services.db).recent_alerts([FLAVOUR])
    assert [a["kind"] for a in alerts if a["kind"] != "coverage"] == ["reply_timeout"]


async def test_staff_reply_stops_the_timeout(server: Any) -> None:
    vol = staff("volunteer")
    await shifts(server).sign_on(vol, [FLAVOUR], 2)
    chat = await svc(server).request(visitor(), FLAVOUR, "")
    accepted = await svc(server).accept(vol, chat["_id"])
    await server.services.chat.do_publish(vol, chat["channel"], "m1", "Hoi, ik ben er.")
    timeout = server.services.catalog.get(FLAVOUR).chat.reply_timeout_min
    await svc(server).tick(server.services.clock() + timedelta(minutes=timeout + 1))
    assert (await OneOnOneRepo(server.services.db).chat(accepted["_id"]))["status"] == "active"


async def test_wait_alert_once_and_longest_wait_in_the_queue_view(server: Any) -> None:
    vol = staff("volunteer")
    await shifts(server).sign_on(vol, [FLAVOUR], 1)
    chat = await svc(server).request(visitor(), FLAVOUR, "")
    limit = server.services.catalog.get(FLAVOUR).chat.max_wait_alert_min
    later = chat["queued_at"] + timedelta(minutes=limit)
    await svc(server).tick(later)
    await svc(server).tick(later + timedelta(minutes=1))
    alerts = await OneOnOneRepo(server.services.db).recent_alerts([FLAVOUR])
    assert [a["kind"] for a in alerts if a["kind"] != "coverage"] == ["wait"]
    server.services.clock.move_to(later)
    view = await svc(server).queue_view(vol)
    assert view["longest_wait_min"] == limit and view["rows"][0]["id"] == chat["_id"]


async def test_retention_purge_skips_a_safeguarding_hold(server: Any) -> None:
    pro = staff("professional")
    await shifts(server).sign_on(pro, [FLAVOUR], 3)
    chats = []
    for _ in range(2):
        person = visitor()
        chat = await svc(server).request(person, FLAVOUR, "")
        await svc(server).accept(pro, chat["_id"])
        await server.services.chat.do_publish(person, chat["channel"], "x1", "Mijn verhaal")
        await svc(server).end(pro, chat["_id"], ["gehoord"])
        chats.append(chat)
    vol = staff("volunteer")
    with pytest.raises(OneOnOneError):
        await svc(server).set_hold(vol, chats[0]["_id"], True, "zorg")
    with pytest.raises(OneOnOneError):
        await svc(server).set_hold(pro, chats[0]["_id"], True, "")
    await svc(server).set_hold(pro, chats[0]["_id"], True, "Zorgmelding: veiligheidsplan")
    audit = await OneOnOneRepo(server.services.db).audit_of(chats[0]["_id"])
    assert [(a["action"], a["role"]) for a in audit] == [("hold_on", "professional")]
    retention = server.services.catalog.get(FLAVOUR).chat.transcript_retention_days
    assert await svc(server).purge(server.services.clock() + timedelta(days=retention - 1)) == 0
    assert await svc(server).purge(server.services.clock() + timedelta(days=retention, minutes=1)) == 1
    events = server.services.db["events"]
    assert await events.count_documents({"channel": chats[0]["channel"]}) > 0
    assert await events.count_documents({"channel": chats[1]["channel"]}) == 0
    assert (await OneOnOneRepo(server.services.db).chat(chats[1]["_id"]))["purged"] is True


async def test_guest_asks_over_http_and_downloads_only_their_own_transcript(
    server: Any, client: httpx.AsyncClient
) -> None:
    vol = staff("volunteer")
    await shifts(server).sign_on(vol, [FLAVOUR], 2)
    entry = f"/f/{FLAVOUR}/chat/gesprek/"
    page = await client.get(entry)
    assert page.status_code == 200 and "113" in page.text and "1 medewerker in dienst" in page.text
    answer = await post_form(client, entry, entry, {"topic": "Stemmen"})
    assert answer.status_code == 303 and "gem_session=" in answer.headers.get("set-cookie", "")
    chat_url = answer.headers["location"]
    chat_page = await client.get(chat_url)
    assert chat_page.status_code == 200 and "Plaats" in chat_page.text
    chat_id = chat_url.rstrip("/").rsplit("/", 1)[1]
    await svc(server).accept(vol, chat_id)
    transcript = await client.get(chat_url + "/transcript.txt")
    assert transcript.status_code == 200
    assert transcript.headers["cache-control"] == "no-store"
    assert "is er nu voor je" in transcript.text
    async with httpx.AsyncClient(base_url=server.url) as other:
        await login(server, other, visitor())
        assert (await other.get(chat_url + "/transcript.txt")).status_code == 404
        assert (await other.get(chat_url)).status_code == 404
    # the visitor leaves; feedback is stored
    left = await post_form(client, chat_url, chat_url + "/verlaten", {})
    assert left.status_code == 303
    fed = await post_form(client, chat_url, chat_url + "/feedback", {"score": "4", "comment": "fijn"})
    assert fed.status_code == 303
    doc = await OneOnOneRepo(server.services.db).chat(chat_id)
    assert doc["status"] == "ended" and doc["feedback"]["score"] == 4


async def test_restart_rederives_on_shift_sets_from_the_database(server: Any) -> None:
    pro = staff("professional")
    await shifts(server).sign_on(pro, [FLAVOUR], 2)
    key = server.services.key("onshift", FLAVOUR, "professional")
    await server.services.redis.delete(key)
    assert not await shifts(server).professional_on_shift(FLAVOUR)
    await svc(server).rederive()
    assert await shifts(server).professional_on_shift(FLAVOUR)
    assert await server.services.redis.smembers(key) == {pro.account_id.encode()}


async def test_queue_events_are_stored_on_the_queue_channel(server: Any) -> None:
    vol = staff("volunteer")
    await shifts(server).sign_on(vol, [FLAVOUR], 2)
    chat = await svc(server).request(visitor(), FLAVOUR, "")
    await svc(server).accept(vol, chat["_id"])
    events = await server.services.db["events"].find({"channel": f"queue:{FLAVOUR}", "kind": "queue"}).to_list(None)
    # Roster and coverage alerts share the queue channel; whether one is due depends on the moment (issue 18).
    events = [e for e in events if e["data"]["event"] != "alert"]
    assert [e["data"]["event"] for e in events] == ["joined", "accepted"]
    assert msgspec.json.encode(events[-1]["data"])  # plain JSON, no topic or pseudonym in it
    assert "topic" not in events[-1]["data"]
    assert Tier(int(chat["tier_needed"])) is Tier.VOLUNTEER


async def test_open_chat_page_for_staff_shows_notes_only_to_staff(server: Any, client: httpx.AsyncClient) -> None:
    vol = staff("volunteer")
    await shifts(server).sign_on(vol, [FLAVOUR], 2)
    person = visitor()
    chat = await svc(server).request(person, FLAVOUR, "")
    await svc(server).accept(vol, chat["_id"])
    await svc(server).add_note(vol, chat["_id"], "GEHEIME-NOTITIE")
    await login(server, client, vol)
    staff_page = await client.get(f"/backoffice/gesprekken/{chat['_id']}")
    assert staff_page.status_code == 200 and "GEHEIME-NOTITIE" in staff_page.text
    async with httpx.AsyncClient(base_url=server.url) as mine:
        await login(server, mine, person)
        own = await mine.get(f"/f/{FLAVOUR}/chat/gesprek/{chat['_id']}")
        assert own.status_code == 200 and "GEHEIME-NOTITIE" not in own.text
    await eventually(lambda: _true())


async def _true() -> bool:
    return True


async def test_closed_page_shows_next_opening_and_crisis_resources_and_refuses(
    server: Any, client: httpx.AsyncClient
) -> None:
    from chatserver.flavours import TIMEZONE

    monday_early = datetime(2030, 1, 7, 8, 0, tzinfo=TIMEZONE)  # PsychoseNet opens at 10:00
    server.services.clock.move_to(monday_early)
    entry = f"/f/{FLAVOUR}/chat/gesprek/"
    page = await client.get(entry)
    assert page.status_code == 200
    assert "Gesloten" in page.text and "vandaag om 10:00" in page.text
    assert "113" in page.text and "0800-0113" in page.text
    assert "Vraag een gesprek aan" not in page.text
    with pytest.raises(OneOnOneError) as err:
        await svc(server).request(visitor(), FLAVOUR, "")
    assert err.value.status == 409


async def test_chat_whose_visitor_left_ends_after_the_grace_period_and_tells_the_staff_member(
    server: Any, captured_events: CapturedEvents
) -> None:
    from chatserver.adapters.redis_broker import PresenceStore
    from chatserver.domain.oneonone import VISITOR_GONE_GRACE

    vol = staff("volunteer")
    await shifts(server).sign_on(vol, [FLAVOUR], 1)
    guest = visitor(name="Vertrekker")
    chat = await svc(server).request(guest, FLAVOUR, "")
    accepted = await svc(server).accept(vol, chat["_id"])
    settings = server.services.settings
    presence = PresenceStore(server.services.redis, settings.redis_key_prefix, settings.presence_expiry_s)
    captured_events.watch(server.services.chat)
    repo = OneOnOneRepo(server.services.db)
    start = accepted["assigned_at"]
    await presence.join(chat["channel"], "c0ffee01", "Vertrekker")
    await svc(server).tick(start + timedelta(seconds=15))  # seen connected
    await presence.leave(chat["channel"], "c0ffee01", "Vertrekker")  # the tab is closed
    await svc(server).tick(start + timedelta(seconds=30))  # gone from here on
    await svc(server).tick(start + timedelta(seconds=30) + VISITOR_GONE_GRACE - timedelta(seconds=1))
    assert (await repo.chat(chat["_id"]))["status"] == "active"
    assert captured_events.of(StaffChatNotice) == []
    await svc(server).tick(start + timedelta(seconds=30) + VISITOR_GONE_GRACE)
    doc = await repo.chat(chat["_id"])
    assert doc["status"] == "ended"
    assert await repo.count_active_of_staff(str(vol.account_id)) == 0  # the slot is free again
    gone = StaffChatNotice(event="visitor_gone", chat_id=chat["_id"])
    assert captured_events.of(StaffChatNotice) == [(f"user:{vol.account_id}", gone)]
    assert any("niet meer verbonden" in line for line in await system_lines(server, chat["channel"]))


async def test_a_reload_inside_the_grace_period_keeps_the_chat(server: Any) -> None:
    from chatserver.adapters.redis_broker import PresenceStore
    from chatserver.domain.oneonone import VISITOR_GONE_GRACE

    vol = staff("volunteer")
    await shifts(server).sign_on(vol, [FLAVOUR], 1)
    chat = await svc(server).request(visitor(name="Herlader"), FLAVOUR, "")
    accepted = await svc(server).accept(vol, chat["_id"])
    settings = server.services.settings
    presence = PresenceStore(server.services.redis, settings.redis_key_prefix, settings.presence_expiry_s)
    start = accepted["assigned_at"]
    await presence.join(chat["channel"], "c0ffee02", "Herlader")
    await svc(server).tick(start + timedelta(seconds=15))
    await presence.leave(chat["channel"], "c0ffee02", "Herlader")
    await svc(server).tick(start + timedelta(seconds=30))
    await presence.join(chat["channel"], "c0ffee03", "Herlader")  # back on a new connection
    await svc(server).tick(start + timedelta(seconds=45))
    await svc(server).tick(start + timedelta(seconds=45) + VISITOR_GONE_GRACE * 2)
    assert (await OneOnOneRepo(server.services.db).chat(chat["_id"]))["status"] == "active"


async def test_accepting_a_request_says_so_in_the_chat_to_the_visitor_and_on_the_queue(
    server: Any, captured_events: CapturedEvents
) -> None:
    vol = staff("volunteer", name="Vera")
    await shifts(server).sign_on(vol, [FLAVOUR], 2)
    person = visitor()
    chat = await svc(server).request(person, FLAVOUR, "")
    captured_events.watch(server.services.chat)
    await svc(server).accept(vol, chat["_id"])
    in_chat = [(c, e) for c, e in captured_events.stored() if c == chat["channel"]]
    assert in_chat == [
        (chat["channel"], SystemLine(text="Vera (Vrijwilliger) is er nu voor je.")),
        (chat["channel"], ChatAssigned(staff="Vera", role="Vrijwilliger")),
    ]
    accepted = QueueChange(event="accepted", chat_id=chat["_id"], waiting=0, longest_wait_s=0, staff_on_shift=1)
    assert captured_events.of(QueueChange) == [(f"queue:{FLAVOUR}", accepted)]
    assert captured_events.notices == [
        (f"user:{person.account_id}", ChatAccepted(chat_id=chat["_id"], staff="Vera", role="Vrijwilliger"))
    ]


async def test_a_long_chat_opens_on_its_newest_lines_and_goes_live_from_the_last_one(
    server: Any, client: httpx.AsyncClient
) -> None:
    vol = staff("volunteer")
    await shifts(server).sign_on(vol, [FLAVOUR], 2)
    person = visitor()
    chat = await svc(server).request(person, FLAVOUR, "")
    await svc(server).accept(vol, chat["_id"])
    await server.services.chat.do_publish(person, chat["channel"], "eerste", "hallo")
    events = server.services.db["events"]
    stored = await events.find({"channel": chat["channel"]}).sort("offset", -1).to_list(1)
    assert stored[0]["kind"] == "message"
    last = stored[0]
    lines = 620  # more than a page shows
    await events.insert_many(
        [
            {
                **{k: v for k, v in last.items() if k != "_id"},
                "offset": last["offset"] + i,
                "kind": "message",
                "data": {"text": f"regel-{i:04d}"},
                "client_msg_id": f"lang-{i}",
            }
            for i in range(1, lines + 1)
        ]
    )
    newest = last["offset"] + lines
    await login(server, client, vol)
    staff_page = await client.get(f"/backoffice/gesprekken/{chat['_id']}")
    async with httpx.AsyncClient(base_url=server.url) as mine:
        await login(server, mine, person)
        own = await mine.get(f"/f/{FLAVOUR}/chat/gesprek/{chat['_id']}")
    for page in (staff_page.text, own.text):
        assert f'data-last-offset="{newest}"' in page
        assert f"regel-{lines:04d}" in page and "regel-0001<" not in page and "regel-0001 " not in page
        assert page.count("regel-") == 500  # the newest 500, oldest first
        assert page.index(f"regel-{lines - 1:04d}") < page.index(f"regel-{lines:04d}")
    transcript = await svc(server).transcript(await OneOnOneRepo(server.services.db).chat(chat["_id"]))
    assert "regel-0001" in transcript and f"regel-{lines:04d}" in transcript  # the whole chat
