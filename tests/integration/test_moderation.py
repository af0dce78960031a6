"""The moderation queue end to end on the real server: tiers, claims, every decision, audit chain, bulk, reports."""

from __future__ import annotations

import secrets
from dataclasses import replace
from datetime import timedelta

import msgspec
import pytest

from chatserver.domain.channels import ChannelRef, parse_channel, user_channel
from chatserver.protocol import ErrorCode
from chatserver.protocol.events import CrisisAlert, MessageDeleted, ModerationOutcome, ModerationUpdate, ReportOutcome
from chatserver.services.chat import ChatError
from chatserver.services.moderation import ModerationError, StaffDecision

from ..conftest import RunningServer
from ..events_capture import CapturedEvents
from .moderation_helpers import (
    FLAVOUR,
    OTHER,
    ROOM,
    client_for,
    events,
    held_item,
    member,
    post_form,
    published,
    put_on_shift,
    service_of,
    staff,
)

CRISIS = "ik wil niet meer leven, ik ga vannacht een einde aan mijn leven maken"


async def test_items_reach_the_right_tier_only(server: RunningServer) -> None:
    service = service_of(server)
    author = member()
    rule_id = await held_item(server, author, "kijk op www.voorbeeld.nl en www.ander.nl")
    crisis_unstaffed = await held_item(server, author, CRISIS, source="crisis")
    await put_on_shift(server, staff("professional", FLAVOUR))
    crisis_staffed = await held_item(server, author, CRISIS, source="crisis")

    unstaffed = (await service.get(staff("admin"), crisis_unstaffed)).item
    assert unstaffed.tier == "peer_expert" and unstaffed.no_professional_on_shift
    assert unstaffed.severity == "critical"
    staffed = (await service.get(staff("admin"), crisis_staffed)).item
    assert staffed.tier == "professional" and not staffed.no_professional_on_shift

    def ids(views: list) -> list[str]:  # type: ignore[type-arg]
        return [v.id for v in views]

    volunteer = await service.queue(staff("volunteer", FLAVOUR))
    assert ids(volunteer) == [rule_id]
    peer = await service.queue(staff("peer_expert", FLAVOUR))
    assert set(ids(peer)) == {rule_id, crisis_unstaffed}
    professional = await service.queue(staff("professional", FLAVOUR))
    # Critical items first, then oldest first.
    assert ids(professional) == [crisis_unstaffed, crisis_staffed, rule_id]
    assert await service.queue(staff("professional", OTHER)) == []
    assert len(await service.queue(staff("admin"))) == 3
    only_peer = await service.queue(staff("professional", FLAVOUR), tier="peer_expert")
    assert ids(only_peer) == [crisis_unstaffed]
    only_crisis = await service.queue(staff("professional", FLAVOUR), source="crisis")
    assert set(ids(only_crisis)) == {crisis_unstaffed, crisis_staffed}

    async with await client_for(server, staff("volunteer", FLAVOUR)) as client:
        page = await client.get("/backoffice/moderatie")
        assert page.status_code == 200
        assert rule_id in page.text and crisis_staffed not in page.text
        assert "doel 4 u 0 min" in page.text or "doel" in page.text


async def test_claim_is_a_lock_that_expires(server: RunningServer) -> None:
    service = service_of(server)
    item_id = await held_item(server, member(), "kijk op www.voorbeeld.nl en www.ander.nl")
    first, second = staff("volunteer", FLAVOUR), staff("peer_expert", FLAVOUR)
    view = await service.claim(first, item_id)
    assert view.item.claimed_by == first.account_id
    with pytest.raises(ModerationError) as taken:
        await service.claim(second, item_id)
    assert taken.value.status == 409
    with pytest.raises(ModerationError):
        await service.decide(second, item_id, StaffDecision("approve"))
    real_clock = service.clock
    service.clock = lambda: real_clock() + timedelta(minutes=11)
    try:
        view = await service.claim(second, item_id)
        assert view.item.claimed_by == second.account_id
        with pytest.raises(ModerationError):
            await service.decide(first, item_id, StaffDecision("approve"))
    finally:
        service.clock = real_clock


async def _decide(server: RunningServer, item_id: str, decision: StaffDecision, role: str = "professional") -> None:
    service = service_of(server)
    moderator = staff(role, FLAVOUR)  # type: ignore[arg-type]
    await service.claim(moderator, item_id)
    await service.decide(moderator, item_id, decision)


async def _notices(server: RunningServer, account_id: str) -> list[dict]:  # type: ignore[type-arg]
    return [e["data"] for e in await events(server, user_channel(account_id)) if e["kind"] == "notification"]


async def test_release_and_approve_publish_the_held_message(server: RunningServer) -> None:
    author = member()
    crisis_id = await held_item(server, author, CRISIS, source="crisis")
    await _decide(server, crisis_id, StaffDecision("release", reason="Songtekst, geen gevaar"), role="peer_expert")
    rule_id = await held_item(server, author, "kijk op www.voorbeeld.nl en www.ander.nl")
    await _decide(server, rule_id, StaffDecision("approve"), role="volunteer")
    texts = [e["data"]["text"] for e in await events(server, ROOM) if e["kind"] == "message"]
    assert CRISIS in texts and "kijk op www.voorbeeld.nl en www.ander.nl" in texts
    notes = await _notices(server, author.account_id)
    assert {n["decision"] for n in notes} == {"release", "approve"}


async def test_hiding_a_reported_message_sends_exactly_these_events(
    server: RunningServer, captured_events: CapturedEvents
) -> None:
    """New, claimed, the removal in the room, the author's and the reporter's notifications, decided: in order."""
    captured_events.watch(server.services.chat)
    service = service_of(server)
    author, reporter, moderator = member(), member(), staff("professional", FLAVOUR)
    offset = await published(server, author, "een gemeen bericht")
    item_id = await service.report(reporter, "room_message", f"{ROOM}#{offset}", ROOM, "Gemeen")
    await service.claim(moderator, item_id)
    await service.decide(moderator, item_id, StaffDecision("hide", reason="Kwetsend"))

    mod, to_author, to_reporter = f"mod:{FLAVOUR}", user_channel(author.account_id), user_channel(reporter.account_id)
    sent = [
        (channel, event)
        for channel, event in captured_events.stored()
        if channel in (mod, ROOM, to_author, to_reporter)
    ]
    assert [(channel, type(event).__name__) for channel, event in sent] == [
        (mod, "ModerationUpdate"),
        (mod, "ModerationUpdate"),
        (ROOM, "MessageDeleted"),
        (to_author, "ModerationOutcome"),
        (to_reporter, "ReportOutcome"),
        (mod, "ModerationUpdate"),
    ]
    updates = [event for _, event in captured_events.of(ModerationUpdate)]
    assert [(u.event, u.item.id, u.item.state) for u in updates] == [
        ("new", item_id, "open"),
        ("claimed", item_id, "claimed"),
        ("decided", item_id, "decided"),
    ]
    assert updates[1].item.claimed_by == moderator.account_id and updates[2].item.decision == "hide"
    assert sent[2][1] == MessageDeleted(offset=offset)
    outcome = sent[3][1]
    assert isinstance(outcome, ModerationOutcome)
    assert (outcome.decision, outcome.reason, outcome.item_id, outcome.flavour) == (
        "hide",
        "Kwetsend",
        item_id,
        FLAVOUR,
    )
    assert outcome.resources and outcome.until is msgspec.UNSET  # the crisis lines; no mute, so no end
    assert sent[4][1] == ReportOutcome(
        decision="hide", title="Bedankt voor je melding. Het bericht is verborgen.", flavour=FLAVOUR, item_id=item_id
    )
    assert captured_events.of(CrisisAlert) == []  # not a crisis: nobody on shift is alerted


async def test_reject_hide_redact_warn_on_reported_messages(server: RunningServer) -> None:
    service = service_of(server)
    author, reporter = member(), member()
    offsets = [await published(server, author, f"bericht nummer {n}") for n in range(4)]
    ids = [await service.report(reporter, "room_message", f"{ROOM}#{o}", ROOM, "Kwetsend") for o in offsets]
    await _decide(server, ids[0], StaffDecision("hide", reason="Kwetsend"))
    await _decide(server, ids[1], StaffDecision("redact", reason="Naam weggehaald", redacted_text="[aangepast]"))
    await _decide(server, ids[2], StaffDecision("warn", reason="Let op je toon"))
    await _decide(server, ids[3], StaffDecision("reject", reason="Past niet bij de huisregels"))
    stored = {e["offset"]: e for e in await events(server, ROOM)}
    assert stored[offsets[0]]["data"]["deleted"] is True and stored[offsets[0]]["data"]["text"] == ""
    assert stored[offsets[1]]["data"]["text"] == "[aangepast]" and stored[offsets[1]]["data"]["edited"] is True
    assert stored[offsets[2]]["data"]["text"] == "bericht nummer 2"
    assert stored[offsets[3]]["data"]["deleted"] is True
    kinds = [(e["kind"], e["data"].get("offset")) for e in stored.values() if e["kind"] != "message"]
    assert ("delete", offsets[0]) in kinds and ("edit", offsets[1]) in kinds and ("delete", offsets[3]) in kinds
    author_notes = {n["decision"]: n for n in await _notices(server, author.account_id)}
    assert author_notes["warn"]["reason"] == "Let op je toon"
    assert author_notes["reject"]["reason"] == "Past niet bij de huisregels"
    assert any(r["phone"] == "113" or "113" in r["phone"] for r in author_notes["hide"]["resources"])
    outcomes = [n for n in await _notices(server, reporter.account_id) if n["type"] == "report_outcome"]
    assert {n["decision"] for n in outcomes} == {"hide", "redact", "warn", "reject"}


# At night no roster job emits coverage alerts through the shared pipeline while the round trips are counted.
@pytest.mark.parametrize("clock", ["night"], indirect=True)
async def test_mute_ban_and_escalate(server: RunningServer) -> None:
    service = service_of(server)
    identity = server.services.identity
    guest = (await identity.create_guest("ip-" + secrets.token_hex(4))).actor
    mute_id = await held_item(server, guest, "kijk op www.voorbeeld.nl en www.ander.nl")
    await _decide(server, mute_id, StaffDecision("mute", reason="Spam", mute_minutes=30))
    until = await service.muted_until(guest.account_id, FLAVOUR)
    assert until is not None and timedelta(minutes=29) < until - service.clock() <= timedelta(minutes=30)
    assert await service.muted_until(guest.account_id, OTHER) is None
    screening = await service.chat_screener()(guest, _room_ref(), "x1", "hallo")
    assert screening.action == "refuse" and "tijdelijk" in (screening.reason or "")
    # Live, the mute is a gate beside the rate limit: both questions go to Redis in one round trip.
    batch = server.services.batch
    before = batch.round_trips
    with pytest.raises(ChatError) as refused:
        await server.services.chat.do_publish(replace(guest, validated=True), GUEST_ROOM, "x2", "hallo")
    assert refused.value.code is ErrorCode.REFUSED and "tijdelijk" in (refused.value.reason or "")
    assert batch.round_trips == before + 1
    assert batch.commands >= 2

    ban_id = await held_item(server, guest, "kijk op www.voorbeeld.nl en www.ander.nl")
    with pytest.raises(ModerationError) as volunteer_ban:
        await _decide(server, ban_id, StaffDecision("ban", reason="Herhaald"), role="volunteer")
    assert volunteer_ban.value.status == 403
    real_clock = service.clock
    service.clock = lambda: real_clock() + timedelta(minutes=11)
    try:
        await _decide(server, ban_id, StaffDecision("ban", reason="Herhaald", ban_days=7))
    finally:
        service.clock = real_clock
    bans = await server.services.db["bans"].find({"subject": guest.account_id}).to_list(10)
    assert len(bans) == 1 and bans[0]["reason"] == "Herhaald"

    esc_id = await held_item(server, guest, "kijk op www.voorbeeld.nl en www.ander.nl")
    volunteer = staff("volunteer", FLAVOUR)
    await service.claim(volunteer, esc_id)
    await service.decide(volunteer, esc_id, StaffDecision("escalate", reason="Twijfel"))
    item = (await service.get(staff("admin"), esc_id)).item
    assert item.tier == "peer_expert" and item.state == "open"
    with pytest.raises(ModerationError) as gone:
        await service.get(volunteer, esc_id)
    assert gone.value.status == 404


GUEST_ROOM = f"room:{FLAVOUR}:welkom"


def _room_ref() -> ChannelRef:
    ref = parse_channel(ROOM)
    assert ref is not None
    return ref


async def test_audit_chain_intact_and_tamper_detected(server: RunningServer) -> None:
    service = service_of(server)
    for _ in range(3):
        item_id = await held_item(server, member(), "kijk op www.voorbeeld.nl en www.ander.nl")
        await _decide(server, item_id, StaffDecision("reject", reason="Reclame"))
    assert await service.verify_chain() is None
    admin = staff("admin")
    async with await client_for(server, admin) as client:
        page = await client.get("/backoffice/audit")
        assert page.status_code == 200 and "Keten intact" in page.text
        assert page.text.count("Reclame") == 3
        await server.services.db["moderation_audit"].update_one({"_id": 2}, {"$set": {"reason": "Iets anders"}})
        assert await service.verify_chain() == 2
        page = await client.get("/backoffice/audit")
        assert "Keten verbroken bij regel 2" in page.text
    entry = [e for e in await service.store.audit_entries(0, 10) if e.action != "claim"][-1]
    assert entry.role == "professional" and entry.action == "reject" and entry.reason == "Reclame"


async def test_audit_log_names_staff_by_pseudonym_and_role_and_erased_ones_as_removed(server: RunningServer) -> None:
    service = service_of(server)
    named = staff("peer_expert", FLAVOUR, name="Wegwijzer")
    erased = staff("professional", FLAVOUR, name="Vertrokken")
    accounts = server.services.db["accounts"]
    await accounts.insert_one({"_id": named.account_id, "kind": "staff", "pseudonym": "Wegwijzer"})
    # Erasure leaves only a tombstone: the audit entry keeps the id, the page finds no name behind it.
    await accounts.insert_one({"_id": erased.account_id, "kind": "deleted"})
    for moderator in (named, erased):
        item_id = await held_item(server, member(), "kijk op www.voorbeeld.nl en www.ander.nl")
        await service.claim(moderator, item_id)
        await service.decide(moderator, item_id, StaffDecision("reject", reason="Reclame"))
    async with await client_for(server, staff("admin")) as client:
        page = await client.get("/backoffice/audit")
    assert page.status_code == 200 and "Keten intact" in page.text
    assert named.account_id not in page.text and erased.account_id not in page.text
    assert "<td>Wegwijzer</td>" in page.text and "<td>verwijderd account</td>" in page.text
    assert "Vertrokken" not in page.text
    assert "Ervaringsdeskundige" in page.text and "Professional" in page.text
    stored = await server.services.db["moderation_audit"].find({"actor_id": named.account_id}).to_list(10)
    assert stored and all("pseudonym" not in doc for doc in stored)
    assert await service.verify_chain() is None


async def test_bulk_hide_from_the_console(server: RunningServer) -> None:
    service = service_of(server)
    ids = [await held_item(server, member(), "kijk op www.voorbeeld.nl en www.ander.nl") for _ in range(3)]
    keep = await held_item(server, member(), "kijk op www.voorbeeld.nl en www.ander.nl")
    async with await client_for(server, staff("volunteer", FLAVOUR)) as client:
        page = await client.get("/backoffice/moderatie")
        from .moderation_helpers import csrf_of

        form = {"csrf_token": csrf_of(page.text), "bulk": "hide", "reason": "Spamgolf", "ids": ids}
        response = await client.post("/backoffice/moderatie", data=form)
        assert response.status_code == 303
    left = [v.id for v in await service.queue(staff("admin"))]
    assert left == [keep]
    entries = await service.store.audit_entries(0, 10)
    # The first claim of each item is audited too (it carries the time to claim); decisions follow.
    assert [(e.action, e.reason) for e in entries if e.action != "claim"] == [("hide", "Spamgolf")] * 3


# role × flavour × action → expected status; the item lives in FLAVOUR at the volunteer and the professional tier.
MATRIX: list[tuple[str, str | None, str, str, int]] = [
    # who, flavour, action, which item, status
    ("volunteer", FLAVOUR, "view", "low", 200),
    ("volunteer", FLAVOUR, "view", "high", 404),
    ("volunteer", FLAVOUR, "claim", "high", 404),
    ("volunteer", OTHER, "view", "low", 404),
    ("volunteer", OTHER, "claim", "low", 404),
    ("peer_expert", FLAVOUR, "view", "high", 404),
    ("peer_expert", FLAVOUR, "claim", "low", 303),
    ("professional", FLAVOUR, "view", "high", 200),
    ("professional", FLAVOUR, "claim", "high", 303),
    ("professional", OTHER, "view", "high", 404),
    ("professional", OTHER, "claim", "high", 404),
    ("editor", FLAVOUR, "view", "low", 200),
    ("editor", FLAVOUR, "view", "high", 404),
    ("admin", None, "view", "high", 200),
    ("admin", None, "claim", "high", 303),
    ("member", None, "view", "low", 404),
    ("member", None, "claim", "low", 404),
    ("anonymous", None, "view", "low", 303),
]


async def test_access_matrix(server: RunningServer) -> None:
    await put_on_shift(server, staff("professional", FLAVOUR))
    items = {
        "low": await held_item(server, member(), "kijk op www.voorbeeld.nl en www.ander.nl"),
        "high": await held_item(server, member(), CRISIS, source="crisis"),
    }
    service = service_of(server)
    assert (await service.get(staff("admin"), items["high"])).item.tier == "professional"
    for who, flavour, action, which, expected in MATRIX:
        if who == "anonymous":
            actor = None
        elif who == "member":
            actor = member()
        else:
            actor = staff(who, *([flavour] if flavour else []))  # type: ignore[arg-type]
        url = f"/backoffice/moderatie/{items[which]}"
        async with await client_for(server, actor) as client:
            if action == "view":
                response = await client.get(url)
            else:
                response = await post_form(client, f"/f/{FLAVOUR}/melden", url, {"action": "claim"})
        assert response.status_code == expected, (who, flavour, action, which, response.status_code)
        if action == "claim" and expected == 303:
            assert actor is not None
            await service.unclaim(actor, items[which])
    # The row fragment for the live console follows the same rule.
    async with await client_for(server, staff("volunteer", FLAVOUR)) as client:
        assert (await client.get(f"/backoffice/moderatie/{items['high']}/rij")).status_code == 404
        assert (await client.get(f"/backoffice/moderatie/{items['low']}/rij")).status_code == 200


async def test_report_api(server: RunningServer) -> None:
    service = service_of(server)
    author, reporter = member(), member()
    offset = await published(server, author, "dit is een gemeen bericht")
    token = await server.services.sessions.create(reporter)
    headers = {"Authorization": f"Bearer {token}"}
    body = {"kind": "room_message", "id": str(offset), "channel": ROOM, "reason": "Gemeen"}
    async with await client_for(server, None) as client:
        assert (await client.post("/api/v1/reports", json=body)).status_code == 401
        response = await client.post("/api/v1/reports", json=body, headers=headers)
        assert response.status_code == 202, response.text
        again = await client.post("/api/v1/reports", json=body, headers=headers)
        assert again.status_code == 202
        missing = await client.post("/api/v1/reports", json={**body, "id": "99999"}, headers=headers)
        assert missing.status_code == 404
        assert (await client.post("/api/v1/reports", json={**body, "kind": "x"}, headers=headers)).status_code == 422
        assert (await client.post("/api/v1/reports", json={**body, "reason": " "}, headers=headers)).status_code == 422
        own_token = await server.services.sessions.create(author)
        own = await client.post("/api/v1/reports", json=body, headers={"Authorization": f"Bearer {own_token}"})
        assert own.status_code == 422
        queue = await service.queue(staff("volunteer", FLAVOUR))
        assert len(queue) == 1 and queue[0].text == "dit is een gemeen bericht" and queue[0].item.source == "report"
        assert len(queue[0].reports) == 1
        statuses = [
            (await client.post("/api/v1/reports", json={**body, "id": "99999"}, headers=headers)).status_code
            for _ in range(12)
        ]
        assert 429 in statuses


async def test_report_form_for_pages(server: RunningServer) -> None:
    author, reporter = member(), member()
    offset = await published(server, author, "nog een gemeen bericht")
    async with await client_for(server, reporter) as client:
        url = f"/f/{FLAVOUR}/melden?kind=room_message&id={offset}&channel={ROOM}&terug=/f/{FLAVOUR}/"
        response = await post_form(client, url, f"/f/{FLAVOUR}/melden",
                                   {"kind": "room_message", "id": str(offset), "channel": ROOM, "reason": "Gemeen",
                                    "terug": f"/f/{FLAVOUR}/"})  # fmt: skip
        assert response.status_code == 200 and "Bedankt voor je melding" in response.text
    assert len(await service_of(server).queue(staff("volunteer", FLAVOUR))) == 1


async def test_backoffice_index_lists_links_for_staff_only(server: RunningServer) -> None:
    await held_item(server, member(), CRISIS, source="crisis")
    async with await client_for(server, staff("peer_expert", FLAVOUR)) as client:
        page = await client.get("/backoffice/")
        assert page.status_code == 200
        assert 'href="/backoffice/moderatie"' in page.text and 'href="/backoffice/audit"' in page.text
        assert "1 met crisissignaal" in page.text
    async with await client_for(server, member()) as client:
        assert (await client.get("/backoffice/")).status_code == 404


async def test_contact_details_blocked_only_between_peers(server: RunningServer) -> None:
    service = service_of(server)
    visitor = member()
    text = "app me even op 06-12345678"
    for place in ("room", "forum", "spreekuur_question", "story"):
        assert service.screen(visitor, FLAVOUR, place, text).action == "block", place
    assert service.screen(visitor, FLAVOUR, "chat_1on1", text).action == "allow"
    assert service.screen(staff("volunteer", FLAVOUR), FLAVOUR, "room", text).action == "allow"
    crisis = service.screen(visitor, FLAVOUR, "room", CRISIS)
    assert crisis.action == "hold" and crisis.crisis.flagged


async def test_demo_seeder_fills_the_console_once(server: RunningServer) -> None:
    from chatserver.demo import seed_demo_reports

    assert seed_demo_reports in server.services.demo_seeders
    await seed_demo_reports(server.services)
    await seed_demo_reports(server.services)
    views = await service_of(server).queue(staff("volunteer", FLAVOUR))
    assert len(views) == 3 and {v.item.source for v in views} == {"report"}
    async with await client_for(server, staff("volunteer", FLAVOUR)) as client:
        page = await client.get("/backoffice/moderatie")
        assert "Stuur me een dm" in page.text


async def test_mute_and_hide_tells_the_author_the_reason_and_the_end_in_dutch_time(server: RunningServer) -> None:
    from chatserver.services.moderation import nl_until

    service = service_of(server)
    author, reporter = member("Gedempte"), member("Melder")
    offset = await published(server, author, "Jullie zijn allemaal sukkels")
    item_id = await service.report(reporter, "room_message", f"{ROOM}#{offset}", ROOM, "Scheldt")
    reason = "Schelden past niet bij onze huisregels"
    await _decide(server, item_id, StaffDecision("mute", reason=reason, mute_minutes=90, also_hide=True))

    # The message is hidden in the same action: stored as deleted, and a live "delete" event for every screen.
    stored = await events(server, ROOM)
    assert [e["kind"] for e in stored if e["kind"] == "delete"] == ["delete"]
    assert next(e for e in stored if e.get("offset") == offset)["data"]["deleted"] is True
    # The author's live notification: the reason, and the end in Dutch time (not UTC).
    until = service.clock() + timedelta(minutes=90)
    [notice] = [n for n in await _notices(server, author.account_id) if n["type"] == "moderation"]
    assert notice["decision"] == "mute" and notice["reason"] == reason
    assert notice["until_text"] == nl_until(until)
    assert reason in notice["text"] and nl_until(until) in notice["text"] and "UTC" not in notice["text"]
    # Trying to post: the same line.
    with pytest.raises(ChatError) as refused:
        await server.services.chat.do_publish(author, ROOM, "x3", "hallo")
    assert refused.value.code is ErrorCode.REFUSED
    assert reason in (refused.value.reason or "") and "UTC" not in (refused.value.reason or "")
    # Reloading the room page shows it too, with the form gone; the page follows the author's own channel.
    async with await client_for(server, author) as client:
        page = await client.get(f"/f/{FLAVOUR}/chat/stemmen-horen/")
    assert page.status_code == 200
    assert "data-muted" in page.text and reason in page.text and "UTC" not in page.text
    assert "data-composer" not in page.text
    assert f'data-user-channel="{user_channel(author.account_id)}"' in page.text
    audit = await service.history(staff("admin"), item_id)
    assert any("bericht verborgen" in entry.reason for entry in audit)


def test_the_end_of_a_mute_is_shown_in_dutch_time_summer_and_winter() -> None:
    from datetime import UTC, datetime

    from chatserver.services.moderation import muted_text, nl_until

    assert nl_until(datetime(2026, 12, 7, 9, 45, tzinfo=UTC)) == "7-12-2026 om 10:45"  # CET, UTC+1
    assert nl_until(datetime(2026, 7, 1, 21, 30, tzinfo=UTC)) == "1-7-2026 om 23:30"  # CEST, UTC+2
    assert muted_text(datetime(2026, 7, 1, 21, 30, tzinfo=UTC), "Spam").endswith("Reden van de moderator: Spam")
