"""Crisis signals in every channel: holds with the notice, the context of an author's last lines, the 1-on-1 chat
(marked, notice, alert, queue priority), claims with the time to claim, explanations and the outcome counters."""

from __future__ import annotations

import secrets
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

import moderation.rules as rules_module
from chatserver.adapters.recent_lines import _SHA as RECENT_SHA
from chatserver.adapters.recent_lines import KEEP_LINES, RedisRecentLines
from chatserver.domain.channels import user_channel
from chatserver.protocol.events import CrisisAlert, ModerationUpdate
from chatserver.services.chat import ChatError
from chatserver.services.moderation import ItemRef, StaffDecision
from moderation.crisis import CrisisResult
from moderation.rules import Verdict

from ..conftest import RunningServer
from ..events_capture import CapturedEvents
from .moderation_helpers import client_for, events, member, put_on_shift, service_of, staff
from .test_oneonone_support import visitor

FLAVOUR = "psychosenet"
ROOM = f"room:{FLAVOUR}:stemmen-horen"
YOUTH_ROOM = "room:jongeren:hangplek"
CRISIS = "ik ga vanavond zelfmoord plegen"


def chat_of(server: RunningServer) -> Any:
    return server.services.chat


def oneonone(server: RunningServer) -> Any:
    return server.services.oneonone


async def audit_actions(server: RunningServer, item_id: str) -> list[str]:
    return [entry.action for entry in await service_of(server).store.audit_for_item(item_id)]


def recent_key(server: RunningServer, channel: str, account_id: str) -> str:
    """Where the author's last lines in a channel are kept (the adapter's key layout)."""
    return RedisRecentLines(server.services.batch, server.services.settings.redis_key_prefix).key(channel, account_id)


async def crisis_item(server: RunningServer, **query: Any) -> dict[str, Any]:
    doc = await server.services.db["moderation_items"].find_one({"crisis": True, **query})
    assert doc is not None
    return dict(doc)


# --- group rooms ----------------------------------------------------------------------------------------------------


async def test_room_crisis_line_is_held_with_the_notice_and_an_audited_alert(server: RunningServer) -> None:
    author = member()
    await put_on_shift(server, staff("professional", FLAVOUR))
    acked = await chat_of(server).do_publish(author, ROOM, secrets.token_hex(6), CRISIS)
    assert acked.held and acked.offset == 0
    assert acked.notice is not None
    for line in ("113", "0800-0113", "113.nl", "112"):
        assert line in acked.notice
    assert "0800-0432" not in acked.notice
    assert all(doc.get("kind") != "message" for doc in await events(server, ROOM))
    item = await crisis_item(server, author_id=author.account_id)
    assert item["tier"] == "professional" and item["detector_version"]
    assert "alert" in await audit_actions(server, str(item["_id"]))


async def test_a_held_crisis_line_updates_the_consoles_once_and_alerts_who_is_on_shift(
    server: RunningServer, captured_events: CapturedEvents
) -> None:
    prof = staff("professional", FLAVOUR)
    await put_on_shift(server, prof)
    captured_events.watch(server.services.chat)
    author = member()
    acked = await chat_of(server).do_publish(author, ROOM, secrets.token_hex(6), CRISIS)
    assert acked.held
    item_id = str((await crisis_item(server, author_id=author.account_id))["_id"])
    [(channel, update)] = [(c, e) for c, e in captured_events.stored() if c in (f"mod:{FLAVOUR}", ROOM)]
    assert channel == f"mod:{FLAVOUR}" and isinstance(update, ModerationUpdate) and update.event == "crisis"
    assert (update.item.id, update.item.tier, update.item.severity) == (item_id, "professional", "critical")
    assert update.item.crisis and not update.item.no_professional_on_shift
    page = f"/backoffice/moderatie/{item_id}"
    alert = CrisisAlert(flavour=FLAVOUR, item_id=item_id, url=page, context_url=page, no_professional_on_shift=False)
    assert captured_events.of(CrisisAlert) == [(user_channel(prof.account_id), alert)]


async def test_youth_room_notice_names_de_kindertelefoon(server: RunningServer) -> None:
    acked = await chat_of(server).do_publish(member(), YOUTH_ROOM, secrets.token_hex(6), CRISIS)
    assert acked.held and acked.notice is not None
    assert "0800-0432" in acked.notice and "Kindertelefoon" in acked.notice


async def test_without_a_professional_the_author_is_told_to_call_113_or_112(server: RunningServer) -> None:
    acked = await chat_of(server).do_publish(member(), ROOM, secrets.token_hex(6), CRISIS)
    assert acked.held and acked.notice is not None
    assert "geen professional" in acked.notice and "bel nu 113" in acked.notice and "112" in acked.notice
    item = await crisis_item(server)
    assert item["tier"] == "peer_expert" and item["no_professional_on_shift"] is True


# --- context: the author's last few lines together -------------------------------------------------------------------


def _goodbye_detector(texts: list[str]) -> CrisisResult:
    """Stands in for the trained detector: flags a goodbye only when its parts come together."""
    joined = " ".join(texts)
    if "blauwe tulp" in joined and "groene appel" in joined:
        return CrisisResult(flagged=True, severity="critical", category="intent", score=0.91, reasons=("afscheid",))
    return CrisisResult(flagged=False)


async def test_short_lines_together_are_held_as_one_goodbye(
    server: RunningServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(rules_module, "detect_recent", _goodbye_detector)
    author, other = member(), member()
    chat = chat_of(server)
    first = await chat.do_publish(author, ROOM, secrets.token_hex(6), "blauwe tulp")
    between = await chat.do_publish(other, ROOM, secrets.token_hex(6), "groene appel")
    assert not first.held and not between.held  # someone else's line is not this author's context
    last = await chat.do_publish(author, ROOM, secrets.token_hex(6), "groene appel")
    assert last.held and last.notice is not None and "113" in last.notice
    item = await crisis_item(server, author_id=author.account_id)
    assert item["crisis_category"] == "context"
    assert item["crisis_reasons"][0].startswith("Samen met de vorige berichten")
    assert item["crisis_score"] == pytest.approx(0.91)
    # The context is a short-lived list of a handful of lines, per author and channel.
    key = recent_key(server, ROOM, author.account_id)
    redis = server.services.redis
    for n in range(KEEP_LINES + 3):
        await chat.do_publish(author, ROOM, secrets.token_hex(6), f"regel {n}")
    assert await redis.llen(key) == KEEP_LINES
    assert 0 < await redis.pttl(key) <= 10 * 60 * 1000


async def test_the_context_shares_the_round_trip_of_the_rate_limit(
    server: RunningServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The author's last lines are read and written in the same pipeline as the rate limit and the mute check."""
    chat = chat_of(server)
    redis = server.services.redis
    author = member()
    await chat.do_publish(author, ROOM, secrets.token_hex(6), "hallo")  # warm: scripts loaded
    sent: list[list[tuple[Any, ...]]] = []
    original = redis.pipeline

    def recording(*args: Any, **kwargs: Any) -> Any:
        """A pipeline that notes the commands it sends (one list per round trip)."""
        pipe = original(*args, **kwargs)
        commands: list[tuple[Any, ...]] = []
        sent.append(commands)
        queue_command = pipe.execute_command

        def noted(*command: Any, **options: Any) -> Any:
            commands.append(command)
            return queue_command(*command, **options)

        pipe.execute_command = noted
        return pipe

    monkeypatch.setattr(redis, "pipeline", recording)
    await chat.do_publish(author, ROOM, secrets.token_hex(6), "nog een gewone regel")
    with_recall = [names for names in sent if any(args[:2] == ("EVALSHA", RECENT_SHA) for args in names)]
    assert len(with_recall) == 1
    commands = [args[0] for args in with_recall[0]]
    assert "PTTL" in commands and commands.count("EVALSHA") >= 2  # the mute check and the rate limit beside it


async def test_contact_details_are_never_kept_in_the_context(server: RunningServer) -> None:
    author = member()
    await chat_of(server).do_publish(author, ROOM, secrets.token_hex(6), "hoi")
    with pytest.raises(ChatError):  # refused: contact details
        await chat_of(server).do_publish(author, ROOM, secrets.token_hex(6), "mail me op iemand@example.org")
    key = recent_key(server, ROOM, author.account_id)
    kept = [line.decode() for line in await server.services.redis.lrange(key, 0, -1)]
    assert kept == ["hoi"]


# --- 1-on-1 chat -----------------------------------------------------------------------------------------------------


async def test_one_on_one_line_is_marked_alerted_and_answered_with_the_crisis_lines(server: RunningServer) -> None:
    vol, prof = staff("volunteer", FLAVOUR), staff("professional", FLAVOUR)
    await put_on_shift(server, vol)
    await put_on_shift(server, prof)
    guest = visitor("Bezoeker", kind="guest")
    doc = await oneonone(server).request(guest, FLAVOUR, "")
    await oneonone(server).accept(vol, doc["_id"])
    acked = await chat_of(server).do_publish(guest, doc["channel"], secrets.token_hex(6), CRISIS)
    assert not acked.held and acked.offset > 0  # nothing is held: a staff member is there
    assert acked.notice is not None and "113" in acked.notice and "112" in acked.notice
    stored = {int(e["offset"]): e for e in await events(server, doc["channel"])}
    assert stored[acked.offset]["data"]["crisis"] is True
    marks = [e["data"] for e in stored.values() if e["kind"] == "chat" and e["data"].get("event") == "crisis"]
    assert marks == [{"event": "crisis", "offset": acked.offset}]
    item = await crisis_item(server, author_id=guest.account_id)
    assert item["tier"] == "professional" and item["held_payload"] is None
    assert item["ref"]["url"] == f"/backoffice/gesprekken/{doc['_id']}#bericht-{acked.offset}"
    assert "alert" in await audit_actions(server, str(item["_id"]))
    alerts = await oneonone(server).repo.recent_alerts([FLAVOUR], 10)
    assert any(a["kind"] == "crisis" and a.get("chat_id") == doc["_id"] for a in alerts)
    # The volunteer sees the line marked; the alerted professional may look along.
    async with await client_for(server, vol) as vol_client, await client_for(server, prof) as prof_client:
        page = (await vol_client.get(f"/backoffice/gesprekken/{doc['_id']}")).text
        assert "gesprek-msg--crisis" in page and f'id="bericht-{acked.offset}"' in page
        looked = await prof_client.get(f"/backoffice/gesprekken/{doc['_id']}")
        assert looked.status_code == 200 and "gesprek-msg--crisis" in looked.text
    async with await client_for(server, guest) as guest_client:
        own = (await guest_client.get(f"/f/{FLAVOUR}/chat/gesprek/{doc['_id']}")).text
        assert 'id="gesprek-crisis-now"' in own and "gesprek-msg--crisis" not in own
        assert 'id="gesprek-crisis-now" aria-labelledby="gesprek-crisis-now-title" hidden' not in own


async def test_a_line_typed_while_waiting_moves_the_request_to_a_professional_first(server: RunningServer) -> None:
    vol, prof = staff("volunteer", FLAVOUR), staff("professional", FLAVOUR)
    await put_on_shift(server, vol)
    await put_on_shift(server, prof)
    first, second = visitor("Eerste"), visitor("Tweede")
    early = await oneonone(server).request(first, FLAVOUR, "")
    later = await oneonone(server).request(second, FLAVOUR, "")
    assert (await oneonone(server).position_view(later))["position"] == 2
    acked = await chat_of(server).do_publish(second, later["channel"], secrets.token_hex(6), CRISIS)
    assert not acked.held and acked.notice is not None and "113" in acked.notice
    fresh = await oneonone(server).repo.chat(later["_id"])
    assert fresh["risk"] is True
    assert (await oneonone(server).position_view(fresh))["position"] == 1
    # Offered to the professional first: the volunteer's "next" skips it while a professional has room.
    taken = await oneonone(server).accept(vol)
    assert taken["_id"] == early["_id"]
    taken = await oneonone(server).accept(prof)
    assert taken["_id"] == later["_id"]


async def test_a_flagged_topic_alerts_and_goes_first(server: RunningServer) -> None:
    await put_on_shift(server, staff("professional", FLAVOUR))
    plain = await oneonone(server).request(visitor(), FLAVOUR, "")
    flagged = await oneonone(server).request(visitor(), FLAVOUR, CRISIS)
    assert flagged["risk"] is True
    assert (await oneonone(server).position_view(flagged))["position"] == 1
    assert (await oneonone(server).position_view(plain))["position"] == 2
    item = await crisis_item(server)
    assert item["ref"]["kind"] == "chat_message" and item["ref"]["id"].endswith("#onderwerp")


# --- claims, explanations and outcome counters ----------------------------------------------------------------------


class FakeClock:
    def __init__(self) -> None:
        self.now = datetime(2026, 3, 2, 21, 0, tzinfo=UTC)

    def __call__(self) -> datetime:
        return self.now


async def submit_flagged(server: RunningServer, text: str = CRISIS, score: float = 0.87) -> str:
    crisis = CrisisResult(
        flagged=True, severity="critical", category="plan", score=score, reasons=("Plan met tijdstip",), version="t-9"
    )
    author = member()
    channel = ROOM
    client_msg_id = secrets.token_hex(6)
    return await service_of(server).submit(
        flavour=FLAVOUR,
        source="crisis",
        ref=ItemRef(kind="room_message", id=f"{channel}#{client_msg_id}", channel=channel),
        text=text,
        author=author,
        verdict=Verdict(action="hold", crisis=crisis),
        held_payload={"channel": channel, "client_msg_id": client_msg_id, "text": text,
                      "author": {"account_id": author.account_id, "pseudonym": author.pseudonym, "kind": "member"}},
    )  # fmt: skip


async def test_claim_records_the_time_to_claim_and_is_audited(server: RunningServer) -> None:
    service = service_of(server)
    clock = FakeClock()
    service.clock = clock
    prof = staff("professional", FLAVOUR)
    await put_on_shift(server, prof)
    item_id = await submit_flagged(server)
    clock.now += timedelta(seconds=42)
    view = await service.claim(prof, item_id)
    assert view.time_to_claim_ms == 42_000
    clock.now += timedelta(seconds=5)
    again = await service.claim(prof, item_id)  # renewing the claim keeps the first figure
    assert again.time_to_claim_ms == 42_000
    assert (await service.store.get_doc(item_id))["time_to_claim_ms"] == 42_000  # type: ignore[index]
    assert (await audit_actions(server, item_id)).count("claim") == 1


async def test_item_page_explains_and_one_click_release_is_counted(server: RunningServer) -> None:
    prof = staff("professional", FLAVOUR)
    await put_on_shift(server, prof)
    released_id = await submit_flagged(server)
    confirmed_id = await submit_flagged(server, text="ik ga vanavond zelfmoord plegen echt")
    async with await client_for(server, prof) as client:
        page = await client.get(f"/backoffice/moderatie/{released_id}")
        assert "Waarom gemarkeerd" in page.text and "Plan met tijdstip" in page.text
        assert "87%" in page.text and "t-9" in page.text and "Vals alarm: vrijgeven" in page.text
        from .moderation_helpers import csrf_of

        response = await client.post(
            f"/backoffice/moderatie/{released_id}", data={"csrf_token": csrf_of(page.text), "action": "release"}
        )
        assert response.status_code == 303
    service = service_of(server)
    assert (await service.get(prof, released_id)).item.decision == "release"
    await service.claim(prof, confirmed_id)
    await service.decide(prof, confirmed_id, StaffDecision("hide", reason="Opgepakt met de schrijver"))
    assert await service.outcome_counts() == {"t-9": {"released": 1, "confirmed": 1}}
    stored = [doc async for doc in server.services.db["crisis_outcomes"].find({})]
    assert all(set(doc) == {"_id", "version", "outcome", "count"} for doc in stored)  # counts only, no texts
    assert "release" in await audit_actions(server, released_id)


async def test_alert_area_is_on_every_backoffice_page(server: RunningServer) -> None:
    prof = staff("professional", FLAVOUR)
    await put_on_shift(server, prof)
    async with await client_for(server, prof) as client:
        for path in ("/backoffice/", "/backoffice/gesprekken", "/backoffice/moderatie", "/backoffice/audit"):
            page = await client.get(path)
            assert page.status_code == 200, path
            assert 'id="crisis-alerts"' in page.text and f'data-channels="mod:{FLAVOUR}"' in page.text, path
            assert 'aria-live="assertive"' in page.text and "crisis-alerts.js" in page.text
    async with await client_for(server, member()) as visitor_client:
        assert 'id="crisis-alerts"' not in (await visitor_client.get(f"/f/{FLAVOUR}/")).text


# --- forum replies, spreekuur questions and VraagBaak questions -------------------------------------------------------


async def test_forum_reply_is_held_with_the_notice_and_alerts(server: RunningServer) -> None:
    from .content_helpers import login_as, new_client
    from .forum_helpers import reply, start_thread

    await put_on_shift(server, staff("professional", FLAVOUR))
    async with await new_client(server) as client:
        await login_as(server, client, member("Schrijver"))
        started, thread_id = await start_thread(client, "Een zware week", "Het gaat niet zo goed met me deze week.")
        assert started.status_code == 303 and thread_id
        response = await reply(client, thread_id, CRISIS)
        assert response.status_code == 303 and "melding=crisis" in response.headers["location"]
        page = (await client.get(response.headers["location"], follow_redirects=True)).text
        for line in ("113", "0800-0113", "112"):
            assert line in page
    post = await server.services.db["forum_posts"].find_one({"thread_id": thread_id, "body": CRISIS})
    assert post is not None and post["status"] == "held"
    item = await crisis_item(server)
    assert item["tier"] == "professional"
    assert "alert" in await audit_actions(server, str(item["_id"]))


async def test_spreekuur_question_is_held_with_the_notice_and_alerts(server: RunningServer) -> None:
    from .content_helpers import login_as, new_client
    from .spreekuur_helpers import ask_over_http, host_account, scheduled

    await put_on_shift(server, staff("professional", FLAVOUR))
    doc = await scheduled(server, await host_account(server))
    async with await new_client(server) as client:
        await login_as(server, client, member())
        sent = await ask_over_http(client, FLAVOUR, doc["_id"], CRISIS)
        assert sent.status_code == 303
        page = (await client.get(sent.headers["location"])).text
        assert "0800-0113" in page and "112" in page
    item = await crisis_item(server)
    assert item["tier"] == "professional"
    assert "alert" in await audit_actions(server, str(item["_id"]))


async def test_urgent_vraagbaak_question_alerts_the_professional_of_its_community(server: RunningServer) -> None:
    from .content_helpers import new_client, post_form

    await put_on_shift(server, staff("professional", FLAVOUR))
    async with await new_client(server) as client:
        form = f"/f/{FLAVOUR}/vraagbaak/"
        response = await post_form(client, form, form, {"text": CRISIS + ", wat moet ik doen"})
        assert response.status_code == 303
        page = (await client.get(response.headers["location"])).text
        assert "Je hoeft niet te wachten op ons antwoord" in page and 'href="tel:113"' in page
    item = await crisis_item(server)
    assert item["ref"]["kind"] == "vraagbaak_question" and item["ref"]["url"].startswith("/backoffice/vraagbaak/")
    assert CRISIS not in item["text"]  # the question stays on the VraagBaak desk
