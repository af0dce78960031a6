"""E-spreekuren over HTTP: scheduling, calendar, iCalendar feed, questions, decisions, answers, transcript."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta

import msgspec

from chatserver.domain.channels import mod_channel, spreekuur_channel, user_channel
from chatserver.flavours import TIMEZONE
from chatserver.protocol.events import (
    PublicAnswer,
    PublicQuestion,
    QaAnswer,
    QaMerged,
    QaQuestion,
    QaStatus,
    SpreekuurModeration,
    SpreekuurQuestionRejected,
    StaffQuestion,
)

from ..conftest import RunningServer
from ..events_capture import CapturedEvents
from .content_helpers import csrf_of, login_as, member, new_client, post_form, staff
from .spreekuur_helpers import ask_over_http, host_account, scheduled, service


def local(moment: datetime) -> str:
    return moment.astimezone(TIMEZONE).strftime("%Y-%m-%dT%H:%M")


async def test_editor_schedules_only_within_scope(server: RunningServer) -> None:
    host = await host_account(server)
    starts = datetime.now(UTC) + timedelta(days=2)
    form = {
        "title": "Vragen over medicatie",
        "description": "Een psychiater antwoordt.",
        "host_id": host.account_id,
        "starts_at": local(starts),
        "ends_at": local(starts + timedelta(hours=1)),
        "capacity": "150",
    }
    async with await new_client(server) as client:
        await login_as(server, client, staff("editor", "psychosenet"))
        ok = await post_form(
            client, "/backoffice/spreekuren/nieuw", "/backoffice/spreekuren/nieuw", dict(form, flavour="psychosenet")
        )
        assert ok.status_code == 303, ok.text[:500]
        sid = ok.headers["location"].split("/")[3].split("?")[0]
        doc = await service(server).repo.get(sid)
        assert doc is not None and doc["host_id"] == host.account_id and doc["capacity"] == 150
        outside = await post_form(
            client, "/backoffice/spreekuren/nieuw", "/backoffice/spreekuren/nieuw", dict(form, flavour="proud2bme")
        )
        assert outside.status_code == 403
        assert "eigen communities" in outside.text
        wrong_host = await post_form(
            client,
            "/backoffice/spreekuren/nieuw",
            "/backoffice/spreekuren/nieuw",
            dict(form, flavour="psychosenet", host_id="nobody"),
        )
        assert wrong_host.status_code == 422
        backwards = await post_form(
            client,
            "/backoffice/spreekuren/nieuw",
            "/backoffice/spreekuren/nieuw",
            dict(form, flavour="psychosenet", ends_at=local(starts - timedelta(hours=1))),
        )
        assert backwards.status_code == 422 and "na de begintijd" in backwards.text
    async with await new_client(server) as client:
        await login_as(server, client, staff("volunteer", "psychosenet"))
        assert (await client.get("/backoffice/spreekuren/nieuw")).status_code == 404


async def test_calendar_shows_upcoming_sessions_of_the_flavour(server: RunningServer, client) -> None:  # type: ignore[no-untyped-def]
    host = await host_account(server)
    mine = await scheduled(server, host, title="Stemmen horen, vraag het ons")
    other = await scheduled(server, None, flavour="proud2bme", title="Eetstoornis en familie")
    page = await client.get("/f/psychosenet/spreekuur/")
    assert page.status_code == 200
    assert "Stemmen horen, vraag het ons" in page.text and f"/spreekuur/{mine['_id']}/" in page.text
    assert other["title"] not in page.text
    assert (await client.get("/f/psychosenet/spreekuur")).status_code == 308


def unfold(raw: bytes) -> list[str]:
    text = raw.decode("utf-8")
    assert text.endswith("\r\n")
    physical = text[:-2].split("\r\n")
    assert all("\n" not in line and "\r" not in line for line in physical), "bare LF or CR in the feed"
    for line in physical:
        assert len(line.encode("utf-8")) <= 75, f"line over 75 octets: {line!r}"
    logical: list[str] = []
    for line in physical:
        if line.startswith(" "):
            logical[-1] += line[1:]
        else:
            logical.append(line)
    return logical


def unescape(value: str) -> str:
    return re.sub(r"\\([\\;,nN])", lambda m: "\n" if m.group(1) in "nN" else m.group(1), value)


async def test_ics_feed_is_valid_rfc5545(server: RunningServer, client) -> None:  # type: ignore[no-untyped-def]
    host = await host_account(server)
    title = "Angst, paniek; en slapen \\ een avond vol vragen over héél veel dingen tegelijk en nog meer"
    doc = await scheduled(server, host, title=title)
    response = await client.get("/f/psychosenet/spreekuur/agenda.ics")
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/calendar")
    lines = unfold(response.content)
    assert lines[0] == "BEGIN:VCALENDAR" and lines[-1] == "END:VCALENDAR"
    assert "VERSION:2.0" in lines and any(line.startswith("PRODID:") for line in lines)
    events: list[dict[str, str]] = []
    current: dict[str, str] | None = None
    for line in lines:
        name, _, value = line.partition(":")
        if line == "BEGIN:VEVENT":
            current = {}
        elif line == "END:VEVENT":
            assert current is not None
            events.append(current)
            current = None
        elif current is not None:
            current[name] = value
    assert len(events) == 1
    event = events[0]
    for required in ("UID", "DTSTAMP", "DTSTART", "DTEND", "SUMMARY"):
        assert required in event
    assert re.fullmatch(r"\d{8}T\d{6}Z", event["DTSTART"]) and re.fullmatch(r"\d{8}T\d{6}Z", event["DTSTAMP"])
    assert unescape(event["SUMMARY"]) == title
    assert "\\," in event["SUMMARY"] and "\\;" in event["SUMMARY"] and "\\\\" in event["SUMMARY"]
    assert event["UID"].startswith(f"spreekuur-{doc['_id']}@")
    start = datetime.strptime(event["DTSTART"], "%Y%m%dT%H%M%SZ").replace(tzinfo=UTC)
    assert abs((start - doc["starts_at"]).total_seconds()) < 1
    assert "\n" in unescape(event["DESCRIPTION"])


async def test_guest_question_waits_for_approval_and_stays_anonymous(server: RunningServer) -> None:
    host = await host_account(server)
    doc = await scheduled(server, host)
    sid = doc["_id"]
    async with await new_client(server) as visitor:
        sent = await ask_over_http(visitor, "psychosenet", sid, "Hoe weet ik of mijn medicatie goed werkt?")
        assert sent.status_code == 303, sent.text[:500]
        assert "gem_session=" in sent.headers.get("set-cookie", "")  # a guest session was made for the asker
        page = await visitor.get(f"/f/psychosenet/spreekuur/{sid}/")
        assert "Wacht op een moderator" in page.text
        assert (
            'id="sq-stream"' in page.text
            and "medicatie goed werkt" not in page.text.split('id="sq-stream"')[1].split("</ol>")[0]
        )
        guest_name = re.search(r'site-header__pseudonym">([^<]+)<', page.text)
        assert guest_name
    async with await new_client(server) as moderator:
        await login_as(server, moderator, host)
        console = await moderator.get(f"/backoffice/spreekuren/{sid}")
        assert "medicatie goed werkt" in console.text
        qid = re.search(r"/vragen/([0-9a-f]+)/goedkeuren", console.text)
        assert qid
        approved = await moderator.post(
            f"/backoffice/spreekuren/{sid}/vragen/{qid.group(1)}/goedkeuren", data={"csrf_token": csrf_of(console.text)}
        )
        assert approved.status_code == 303
    async with await new_client(server) as reader:
        public = await reader.get(f"/f/psychosenet/spreekuur/{sid}/")
        stream = public.text.split('id="sq-stream"')[1].split("</ol>")[0]
        assert "medicatie goed werkt" in stream
        assert guest_name.group(1) not in stream  # no pseudonym unless the asker opts in


async def test_asker_may_show_their_name(server: RunningServer) -> None:
    host = await host_account(server)
    doc = await scheduled(server, host)
    asker = member("Zonnebloem")
    async with await new_client(server) as client:
        await login_as(server, client, asker)
        assert (
            await ask_over_http(client, "psychosenet", doc["_id"], "Mag ik mijn naam erbij?", True)
        ).status_code == 303
    pending = await service(server).repo.questions_of(doc["_id"], ["pending"])
    await service(server).approve(host, pending[0]["_id"])
    async with await new_client(server) as reader:
        page = await reader.get(f"/f/psychosenet/spreekuur/{doc['_id']}/")
        assert "Vraag van Zonnebloem" in page.text


async def test_reject_tells_the_asker_why(server: RunningServer) -> None:
    host = await host_account(server)
    doc = await scheduled(server, host)
    asker = member()
    async with await new_client(server) as client:
        await login_as(server, client, asker)
        await ask_over_http(client, "psychosenet", doc["_id"], "Een vraag die niet over het onderwerp gaat")
        question = (await service(server).repo.questions_of(doc["_id"], ["pending"]))[0]
        async with await new_client(server) as moderator:
            await login_as(server, moderator, staff("volunteer", "psychosenet"))
            response = await post_form(
                moderator,
                f"/backoffice/spreekuren/{doc['_id']}",
                f"/backoffice/spreekuren/{doc['_id']}/vragen/{question['_id']}/afwijzen",
                {"reason": "Dit past beter op het forum."},
            )
            assert response.status_code == 303
            again = await post_form(
                moderator,
                f"/f/psychosenet/spreekuur/{doc['_id']}/",
                f"/backoffice/spreekuren/{doc['_id']}/vragen/{question['_id']}/goedkeuren",
                {},
            )
            assert again.status_code == 409  # decided once
        page = await client.get(f"/f/psychosenet/spreekuur/{doc['_id']}/")
        assert "Niet geplaatst. Reden: Dit past beter op het forum." in page.text
    chat = server.services.chat
    notices = await chat.store.read_after(user_channel(asker.account_id), 0, 10)
    assert [n["kind"] for n in notices] == ["notification"]
    assert "Dit past beter op het forum." in notices[0]["data"]["text"]


async def test_merge_counts_the_duplicate(server: RunningServer) -> None:
    host = await host_account(server)
    doc = await scheduled(server, host)
    svc = service(server)
    for text in ("Helpt sporten tegen somberheid?", "Is bewegen goed als je somber bent?"):
        async with await new_client(server) as client:
            await login_as(server, client, member())
            assert (await ask_over_http(client, "psychosenet", doc["_id"], text)).status_code == 303
    first, second = await svc.repo.questions_of(doc["_id"], ["pending"])
    await svc.approve(host, first["_id"])
    async with await new_client(server) as moderator:
        await login_as(server, moderator, host)
        response = await post_form(
            moderator,
            f"/backoffice/spreekuren/{doc['_id']}",
            f"/backoffice/spreekuren/{doc['_id']}/vragen/{second['_id']}/samenvoegen",
            {"into": first["_id"]},
        )
        assert response.status_code == 303
    merged = await svc.repo.question(second["_id"])
    assert merged is not None and merged["status"] == "merged" and merged["merged_into"] == first["_id"]
    stream = await svc.stream(doc)
    assert [q.merged_count for q in stream] == [1]


async def test_host_answers_only_when_open(server: RunningServer) -> None:
    host = await host_account(server)
    doc = await scheduled(server, host)
    svc = service(server)
    asker = member()
    await svc.ask(asker, doc, "Wat doet een psychiater precies?", False)
    question = (await svc.repo.questions_of(doc["_id"], ["pending"]))[0]
    await svc.approve(host, question["_id"])
    async with await new_client(server) as client:
        await login_as(server, client, host)
        base = f"/backoffice/spreekuren/{doc['_id']}"
        early = await post_form(client, base, f"{base}/vragen/{question['_id']}/beantwoorden", {"answer": "Te vroeg"})
        assert early.status_code == 409
        assert (await post_form(client, base, f"{base}/openen", {})).status_code == 303
        console = await client.get(base)
        assert f'id="answer-{question["_id"]}"' in console.text
        done = await post_form(
            client,
            base,
            f"{base}/vragen/{question['_id']}/beantwoorden",
            {"answer": "Een psychiater is een arts die..."},
        )
        assert done.status_code == 303
    async with await new_client(server) as other:
        await login_as(server, other, staff("professional", "psychosenet"))
        base = f"/backoffice/spreekuren/{doc['_id']}"
        second = await svc.ask(asker, doc, "En een psycholoog dan?", False)
        await svc.approve(host, second.question_id)
        public = f"/f/psychosenet/spreekuur/{doc['_id']}/"
        refused = await post_form(other, public, f"{base}/vragen/{second.question_id}/beantwoorden", {"answer": "Ik"})
        assert refused.status_code == 403
    async with await new_client(server) as reader:
        page = await reader.get(f"/f/psychosenet/spreekuur/{doc['_id']}/")
        assert "Een psychiater is een arts die..." in page.text and "Nu live" in page.text


async def test_crisis_question_is_held_with_support(server: RunningServer) -> None:
    host = await host_account(server)
    doc = await scheduled(server, host)
    async with await new_client(server) as client:
        await login_as(server, client, member())
        sent = await ask_over_http(
            client, "psychosenet", doc["_id"], "Ik wil niet meer leven, ik wil er vannacht een eind aan maken."
        )
        assert sent.status_code == 303 and "steun=1" in sent.headers["location"]
        page = await client.get(sent.headers["location"])
        assert "0800-0113" in page.text and "112" in page.text
    pending = await service(server).repo.questions_of(doc["_id"], ["pending"])
    assert pending and pending[0]["crisis"] is True


async def test_refused_question_shows_the_reason(server: RunningServer) -> None:
    host = await host_account(server, flavour="proud2bme")
    doc = await scheduled(server, host, flavour="proud2bme")
    async with await new_client(server) as client:
        await login_as(server, client, member())
        sent = await ask_over_http(client, "proud2bme", doc["_id"], "Is 45 kg te weinig als je 1,70 bent?")
        assert sent.status_code == 422
        assert 'class="error" id="text-error"' in sent.text
    assert await service(server).repo.questions_of(doc["_id"], ["pending"]) == []


async def test_transcript_is_published_as_an_article(server: RunningServer) -> None:
    host = await host_account(server)
    svc = service(server)
    doc = await scheduled(server, host, starts_in=timedelta(minutes=-10))
    asked = await svc.ask(member(), doc, "Hoe lang duurt een behandeling meestal?", False)
    await svc.approve(host, asked.question_id)
    await svc.answer(host, asked.question_id, "Dat verschilt; vaak een paar maanden.")
    editor = staff("editor", "psychosenet")
    async with await new_client(server) as client:
        await login_as(server, client, editor)
        base = f"/backoffice/spreekuren/{doc['_id']}"
        early = await post_form(client, f"{base}/verslag", f"{base}/verslag", {"title": "Verslag", "body": "x"})
        assert early.status_code == 409
        await svc.close_now(host, doc["_id"])
        form = await client.get(f"{base}/verslag")
        assert "Hoe lang duurt een behandeling meestal?" in form.text
        assert "vaak een paar maanden" in form.text
        published = await post_form(
            client,
            f"{base}/verslag",
            f"{base}/verslag",
            {"title": "Verslag: behandelduur", "body": "## Hoe lang?\n\nVaak een paar maanden."},
        )
        assert published.status_code == 303, published.text[:400]
    stored = await svc.repo.get(doc["_id"])
    assert stored is not None and stored["transcript"]["content_slug"]
    async with await new_client(server) as reader:
        article = await reader.get(f"/f/psychosenet/artikelen/{stored['transcript']['content_slug']}")
        assert article.status_code == 200 and "Vaak een paar maanden." in article.text
        page = await reader.get(f"/f/psychosenet/spreekuur/{doc['_id']}/")
        assert "Afgelopen" in page.text and stored["transcript"]["content_slug"] in page.text


async def test_series_seeding_is_idempotent(server: RunningServer) -> None:
    await host_account(server, role="professional")
    await host_account(server, role="peer_expert")
    svc = service(server)
    flavour = server.services.catalog.get("psychosenet")
    assert flavour is not None
    first = await svc.seed_series(flavour)
    assert first >= len(flavour.spreekuur_series) * 3
    assert await svc.seed_series(flavour) == 0
    upcoming = await svc.upcoming("psychosenet")
    assert {d["title"] for d in upcoming} == {s.title for s in flavour.spreekuur_series}
    assert all(d["host_pseudonym"] for d in upcoming)
    seeder = next(s for s in server.services.demo_seeders if s.__name__ == "seed_demo_spreekuren")
    await seeder(server.services)
    assert len(await svc.upcoming("psychosenet")) == first


async def test_each_step_of_a_question_emits_its_events_once(
    server: RunningServer, captured_events: CapturedEvents
) -> None:
    host = await host_account(server)
    doc = await scheduled(server, host)
    svc = service(server)
    sid = doc["_id"]
    qa, mod = spreekuur_channel("psychosenet", sid), mod_channel("psychosenet")
    first_asker, second_asker, third_asker = member(), member(), member()
    askers = {user_channel(a.account_id) for a in (first_asker, second_asker, third_asker)}
    captured_events.watch(server.services.chat)

    def spreekuur_events() -> list[tuple[str, object]]:
        """What this session sent (background jobs of other features emit on their own channels meanwhile)."""
        return [
            (channel, event)
            for channel, event in captured_events.stored()
            if channel in (qa, *askers) or isinstance(event, SpreekuurModeration)
        ]

    first = await svc.ask(first_asker, doc, "Hoe lang duurt herstel meestal?", False)
    staff_view = StaffQuestion(id=first.question_id, text="Hoe lang duurt herstel meestal?",
                               asker=first_asker.pseudonym, show_name=False, status="pending", crisis=False,
                               phase="before")  # fmt: skip
    assert spreekuur_events() == [(mod, SpreekuurModeration(event="new", spreekuur_id=sid, question=staff_view))]
    captured_events.clear()

    await svc.approve(host, first.question_id)
    public = PublicQuestion(id=first.question_id, text="Hoe lang duurt herstel meestal?", asker=None, merged_count=0,
                            answer=None)  # fmt: skip
    approved = SpreekuurModeration(
        event="decided", spreekuur_id=sid, question=msgspec.structs.replace(staff_view, status="approved")
    )
    assert spreekuur_events() == [(qa, QaQuestion(question=public)), (mod, approved)]
    second = await svc.ask(second_asker, doc, "Hoe lang duurt het voor je beter bent?", False)
    third = await svc.ask(third_asker, doc, "Een vraag die niet hier hoort", False)
    captured_events.clear()

    await svc.merge(host, second.question_id, first.question_id)
    merged = spreekuur_events()
    assert merged[0] == (qa, QaMerged(into=first.question_id, merged_count=1))
    assert [(ch, type(e).__name__) for ch, e in merged] == [(qa, "QaMerged"), (mod, "SpreekuurModeration")]
    assert isinstance(merged[1][1], SpreekuurModeration) and merged[1][1].question.status == "merged"
    captured_events.clear()

    await svc.reject(host, third.question_id, "Dit past beter op het forum.")
    rejected = spreekuur_events()
    assert [type(e).__name__ for _, e in rejected] == ["SpreekuurModeration", "SpreekuurQuestionRejected"]
    assert rejected[1] == (
        user_channel(third_asker.account_id),
        SpreekuurQuestionRejected(
            text="Je vraag voor ‘Spreekuur met de psychiater’ is niet geplaatst. Reden: Dit past beter op het forum.",
            url=f"/f/psychosenet/spreekuur/{sid}/",
        ),
    )
    captured_events.clear()

    await svc.open_now(host, sid)
    await svc.answer(host, first.question_id, "Dat verschilt; vaak een paar maanden.")
    await svc.close_now(host, sid)
    await svc.announce_due()  # the periodic job finds both changes announced already
    answer = PublicAnswer(text="Dat verschilt; vaak een paar maanden.", host=host.pseudonym, role=host.role_label)
    assert spreekuur_events() == [
        (qa, QaStatus(status="live", label="Nu live")),
        (qa, QaAnswer(question_id=first.question_id, answer=answer)),
        (qa, QaStatus(status="ended", label="Afgelopen")),
    ]
    assert [n for ch, n in captured_events.notices if ch in (qa, mod, *askers)] == []


async def test_a_status_is_stored_once_however_often_it_is_announced_and_marked_after_it_was_stored(
    server: RunningServer,
) -> None:
    host = await host_account(server)
    doc = await scheduled(server, host, starts_in=timedelta(minutes=30), title="Eén keer live")
    schedule = service(server).sessions
    channel = spreekuur_channel("psychosenet", doc["_id"])
    for _ in range(3):  # the host's button, the status job, another process
        await schedule.announce(doc, "live")
    stored = await server.services.db["events"].count_documents({"channel": channel, "data.status": "live"})
    assert stored == 1
    marked = await server.services.db["spreekuren"].find_one({"_id": doc["_id"]})
    assert marked is not None and "live" in marked["announced"]
