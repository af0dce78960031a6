"""The VraagBaak through the real server: ask anonymously, private link, staff claim/answer/route/close, retention."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta

import httpx

from chatserver.domain.channels import user_channel
from chatserver.protocol.events import AccountNotification
from chatserver.services.vraagbaak import VraagbaakService

from ..conftest import RunningServer
from ..events_capture import CapturedEvents
from .content_helpers import login_as, new_client, post_form, staff

QUESTION = "Mijn zus hoort stemmen en wil geen hulp. Wat kan ik als naaste doen?"


def desk(server: RunningServer) -> VraagbaakService:
    found: VraagbaakService = server.services.vraagbaak
    return found


async def ask(client: httpx.AsyncClient, text: str, form: str = "/vraagbaak/", **extra: str) -> str:
    response = await post_form(client, form, form, {"text": text, **extra})
    assert response.status_code == 303, response.text[:1000]
    location = response.headers["location"]
    assert location.startswith("/vraagbaak/v/") and location.endswith("?nieuw=1")
    assert response.headers["cache-control"] == "no-store"
    return location.split("?")[0]


async def question_id_in_queue(staff_client: httpx.AsyncClient, fragment: str) -> str:
    queue = await staff_client.get("/backoffice/vraagbaak")
    assert queue.status_code == 200
    pattern = r'href="/backoffice/vraagbaak/([0-9a-f]{32})">[^<]*<span class="visually-hidden">: ([^<]*)'
    for match in re.finditer(pattern, queue.text):
        if fragment in match.group(2):
            return match.group(1)
    raise AssertionError("question not in the queue")


async def act(staff_client: httpx.AsyncClient, question_id: str, **data: str) -> httpx.Response:
    url = f"/backoffice/vraagbaak/{question_id}"
    return await post_form(staff_client, url, url, data)


async def test_visitor_asks_staff_answers_visitor_reads_answer_through_private_link(
    server: RunningServer, client: httpx.AsyncClient
) -> None:
    link = await ask(client, QUESTION, flavour="psychosenet")
    first = await client.get(link + "?nieuw=1")
    assert first.status_code == 200
    assert "Bewaar deze link" in first.text
    assert first.headers["cache-control"] == "no-store"
    assert first.headers["referrer-policy"] == "no-referrer"
    assert "Er is nog geen antwoord" in first.text
    assert "60 dagen" in first.text
    later = await client.get(link)
    assert "Bewaar deze link" not in later.text
    async with await new_client(server) as staff_client:
        await login_as(server, staff_client, staff("peer_expert", "psychosenet", name="Ervaringsdeskundige1"))
        question_id = await question_id_in_queue(staff_client, "Mijn zus hoort stemmen")
        assert (await act(staff_client, question_id, action="claim")).status_code == 303
        async with await new_client(server) as colleague:
            await login_as(server, colleague, staff("volunteer", "psychosenet"))
            taken = await act(colleague, question_id, action="answer", answer="Ik doe het wel")
            assert taken.status_code == 409
            assert "Ervaringsdeskundige1 behandelt deze vraag al" in taken.text
        answer = "Blijf in contact en neem haar beleving serieus. Kijk ook eens op **het naastenforum**."
        assert (await act(staff_client, question_id, action="answer", answer=answer)).status_code == 303
        assert (
            "Mijn zus hoort stemmen"
            not in (await staff_client.get("/backoffice/vraagbaak")).text.split("Onlangs afgehandeld")[0]
        )
    async with await new_client(server) as elsewhere:  # the link alone is enough: no cookies needed
        page = await elsewhere.get(link)
        assert page.status_code == 200
        assert "Beantwoord door Ervaringsdeskundige1 (Ervaringsdeskundige)" in page.text
        assert "<strong>het naastenforum</strong>" in page.text


async def test_flavour_form_pre_routes_and_only_that_flavours_staff_see_it(
    server: RunningServer, client: httpx.AsyncClient
) -> None:
    await ask(client, "Ik eet al weken heel weinig, is dat erg?", form="/f/proud2bme/vraagbaak/")
    await ask(client, "Waar vind ik algemene informatie over somberheid?")
    async with await new_client(server) as p2b, await new_client(server) as other:
        await login_as(server, p2b, staff("volunteer", "proud2bme"))
        await login_as(server, other, staff("volunteer", "verslaving"))
        p2b_queue = (await p2b.get("/backoffice/vraagbaak")).text
        other_queue = (await other.get("/backoffice/vraagbaak")).text
        assert "heel weinig" in p2b_queue and "heel weinig" not in other_queue
        assert "algemene informatie" in p2b_queue and "algemene informatie" in other_queue  # portal: all staff


async def test_routing_to_a_flavour_with_a_link_tells_the_visitor_where_the_answer_is(
    server: RunningServer, client: httpx.AsyncClient
) -> None:
    link = await ask(client, "Hoe ga ik om met stress op mijn werk en een leidinggevende die het niet snapt?")
    async with await new_client(server) as portal_staff, await new_client(server) as burnout_staff:
        await login_as(server, portal_staff, staff("volunteer", "dwang"))
        await login_as(server, burnout_staff, staff("professional", "burn-out-en-werk"))
        question_id = await question_id_in_queue(portal_staff, "stress op mijn werk")
        waiting = await act(portal_staff, question_id, action="route", flavour="burn-out-en-werk",
                            note="Een professional van Burn-out & Werk kijkt ernaar.", url="")  # fmt: skip
        assert waiting.status_code == 303
        assert "stress op mijn werk" not in (await portal_staff.get("/backoffice/vraagbaak")).text
        assert (await portal_staff.get(f"/backoffice/vraagbaak/{question_id}")).status_code == 404
        assert await question_id_in_queue(burnout_staff, "stress op mijn werk") == question_id
        page = (await client.get(link)).text
        assert "doorgestuurd naar" in page and "Een professional van Burn-out" in page
        note = "Je vraag komt aan bod in het spreekuur."
        done = await act(
            burnout_staff, question_id, action="route", flavour="burn-out-en-werk", note=note,
            url="/f/burn-out-en-werk/spreekuur/",
        )  # fmt: skip
        assert done.status_code == 303
    page = (await client.get(link)).text
    assert 'href="/f/burn-out-en-werk/spreekuur/"' in page
    assert "Doorverwezen" in page


async def test_crisis_question_shows_resources_at_once_and_is_urgent_on_top(
    server: RunningServer, client: httpx.AsyncClient
) -> None:
    await ask(client, "Hoe lang duurt een wachtlijst voor de ggz gemiddeld?")
    link = await ask(client, "Ik wil niet meer leven en ik denk erover om er een eind aan te maken.")
    page = await client.get(link + "?nieuw=1")
    assert "Je hoeft niet te wachten op ons antwoord" in page.text
    assert 'href="tel:113"' in page.text
    async with await new_client(server) as desk_client:
        await login_as(server, desk_client, staff("professional", "trauma"))
        queue = (await desk_client.get("/backoffice/vraagbaak")).text
        assert "Urgent: crisissignaal" in queue
        assert queue.index("niet meer leven") < queue.index("wachtlijst")


async def test_closed_questions_are_purged_after_the_retention_period(
    server: RunningServer, client: httpx.AsyncClient
) -> None:
    link = await ask(client, "Is er een spreekuur over slaapproblemen binnenkort?")
    async with await new_client(server) as desk_client:
        await login_as(server, desk_client, staff("admin"))
        question_id = await question_id_in_queue(desk_client, "slaapproblemen")
        closed = await act(desk_client, question_id, action="close", close_note="Zie de agenda van de spreekuren.")
        assert closed.status_code == 303
    service = desk(server)
    now = datetime.now(UTC)
    assert (await client.get(link)).status_code == 200
    service.clock = lambda: now + timedelta(days=59)
    try:
        assert await service.purge_once() == 0
        assert (await client.get(link)).status_code == 200
        service.clock = lambda: now + timedelta(days=60, minutes=1)
        assert await service.purge_once() == 1
    finally:
        service.clock = lambda: datetime.now(UTC)
    assert (await client.get(link)).status_code == 404
    assert "vraagbaak-retention" in server.services.supervisor.running()


async def test_visitor_can_delete_their_question(server: RunningServer, client: httpx.AsyncClient) -> None:
    link = await ask(client, "Kan ik mijn vraag later weer weghalen?")
    response = await post_form(client, link, link + "/verwijderen", {})
    assert response.status_code == 303
    assert (await client.get(link)).status_code == 404
    assert await server.services.db["vraagbaak_questions"].count_documents({}) == 0


async def test_asking_is_rate_limited_per_ip_hash(server: RunningServer, client: httpx.AsyncClient) -> None:
    statuses = []
    for n in range(7):
        response = await post_form(client, "/vraagbaak/", "/vraagbaak/", {"text": f"Vraag nummer {n} over slapen"})
        statuses.append(response.status_code)
    assert statuses[:5] == [303] * 5
    assert statuses[-1] == 429
    limited = await post_form(client, "/vraagbaak/", "/vraagbaak/", {"text": "Nog een vraag over slapen"})
    assert "Probeer het over" in limited.text
    assert int(limited.headers["retry-after"]) > 0
    assert 'aria-describedby="text-hint text-error"' in limited.text


async def test_too_short_question_is_refused_with_a_linked_error(client: httpx.AsyncClient) -> None:
    response = await post_form(client, "/vraagbaak/", "/vraagbaak/", {"text": "kort"})
    assert response.status_code == 422
    assert "minstens 10 tekens" in response.text
    assert 'aria-invalid="true"' in response.text


async def test_staff_put_a_question_on_the_forum_and_the_visitor_gets_the_thread(
    server: RunningServer, client: httpx.AsyncClient
) -> None:
    link = await ask(client, "Hoe vertel ik mijn vrienden dat ik stemmen hoor zonder dat ze schrikken?")
    async with await new_client(server) as staff_client:
        await login_as(server, staff_client, staff("peer_expert", "psychosenet"))
        question_id = await question_id_in_queue(staff_client, "stemmen hoor")
        assert (await act(staff_client, question_id, action="claim")).status_code == 303
        done = await act(staff_client, question_id, action="to_forum", forum_target="psychosenet/ervaringen")
        assert done.status_code == 303, done.text[:500]
    thread = await server.services.db["forum_threads"].find_one({"flavour": "psychosenet"})
    assert thread is not None and thread["title"].startswith("Vraag via de VraagBaak: Hoe vertel ik")
    page = (await client.get(link)).text
    assert f'href="/f/psychosenet/forum/t/{thread["_id"]}"' in page
    forum_page = await client.get(f"/f/psychosenet/forum/t/{thread['_id']}")
    assert forum_page.status_code == 200 and "zonder dat ze schrikken" in forum_page.text


async def test_staff_send_a_question_to_an_upcoming_spreekuur(server: RunningServer, client: httpx.AsyncClient) -> None:
    from chatserver.services.spreekuur import Schedule

    spreekuren = server.services.spreekuur
    start = datetime.now(UTC) + timedelta(days=2)
    plan = Schedule(
        "trauma", "", "Spreekuur over herbelevingen", "Stel je vragen.", start, start + timedelta(hours=1), 50
    )
    session = await spreekuren.schedule(staff("editor", "trauma"), plan)
    link = await ask(client, "Is het normaal dat herbelevingen erger worden als het rustiger is in mijn leven?")
    async with await new_client(server) as staff_client:
        await login_as(server, staff_client, staff("professional", "trauma"))
        question_id = await question_id_in_queue(staff_client, "herbelevingen")
        assert (await act(staff_client, question_id, action="claim")).status_code == 303
        sid = str(session["_id"])
        done = await act(staff_client, question_id, action="to_spreekuur", spreekuur=sid)
        assert done.status_code == 303, done.text[:500]
    page = (await client.get(link)).text
    assert f'href="/f/trauma/spreekuur/{sid}/"' in page
    stored = await server.services.db["spreekuur_questions"].find_one({"spreekuur_id": sid})
    assert stored is not None and "herbelevingen" in stored["text"]


async def test_the_open_private_page_polls_for_its_answer_and_stops_once_answered(
    server: RunningServer, client: httpx.AsyncClient
) -> None:
    link = await ask(client, QUESTION, flavour="psychosenet")
    page = await client.get(link)
    assert f'hx-get="{link}/stand?stand=open"' in page.text and 'hx-trigger="every 30s"' in page.text
    assert 'aria-live="polite"' in page.text
    unchanged = await client.get(f"{link}/stand?stand=open")
    assert unchanged.status_code == 204 and unchanged.headers["cache-control"] == "no-store"
    assert (await client.get("/vraagbaak/v/" + "x" * 43 + "/stand?stand=open")).status_code == 404
    question_id = await question_id_in_queue_as_admin(server)
    moderator = staff("peer_expert", "psychosenet", name="Beantwoorder")
    await desk(server).claim(moderator, question_id)
    await desk(server).answer(moderator, question_id, "Blijf in contact met haar.")
    arrived = await client.get(f"{link}/stand?stand=open")
    assert arrived.status_code == 200 and arrived.headers["cache-control"] == "no-store"
    assert "Blijf in contact met haar." in arrived.text and "Beantwoord door Beantwoorder" in arrived.text
    assert "hx-get" not in arrived.text  # answered: polling stops
    assert "<html" not in arrived.text  # a fragment for htmx, not a page


async def question_id_in_queue_as_admin(server: RunningServer) -> str:
    async with await new_client(server) as staff_client:
        await login_as(server, staff_client, staff("admin", "psychosenet"))
        return await question_id_in_queue(staff_client, "Mijn zus hoort stemmen")


async def test_a_member_who_asked_gets_a_notification_that_opens_their_question(
    server: RunningServer, captured_events: CapturedEvents
) -> None:
    from .content_helpers import member

    asker, other = member("Vrager"), member("Ander")
    async with await new_client(server) as asker_client:
        await login_as(server, asker_client, asker)
        await ask(asker_client, QUESTION, flavour="psychosenet")
        question_id = await question_id_in_queue_as_admin(server)
        moderator = staff("peer_expert", "psychosenet")
        captured_events.watch(server.services.chat)
        await desk(server).claim(moderator, question_id)
        await desk(server).answer(moderator, question_id, "Blijf in contact met haar.")
        # The answer tells the asker once, on their own channel (claiming tells them nothing).
        own = user_channel(asker.account_id)
        told = AccountNotification(
            text="Je vraag aan de VraagBaak is beantwoord.", url=f"/vraagbaak/mijn/{question_id}"
        )
        assert [(ch, e) for ch, e in captured_events.stored() if ch == own] == [(own, told)]
        notes = await server.services.db["notifications"].find({"account_id": asker.account_id}).to_list(None)
        assert [(n["text"], n["url"]) for n in notes] == [
            ("Je vraag aan de VraagBaak is beantwoord.", f"/vraagbaak/mijn/{question_id}")
        ]
        events = await server.services.db["events"].find({"channel": f"user:{asker.account_id}"}).to_list(None)
        assert [e["kind"] for e in events] == ["notification"]  # live, on the member's own channel
        listed = await asker_client.get("/account/meldingen")
        assert f"/vraagbaak/mijn/{question_id}" in listed.text
        own = await asker_client.get(f"/vraagbaak/mijn/{question_id}")
        assert own.status_code == 200 and "Blijf in contact met haar." in own.text
        assert own.headers["cache-control"] == "no-store"
    async with await new_client(server) as other_client:  # someone else's account: as if it did not exist
        await login_as(server, other_client, other)
        assert (await other_client.get(f"/vraagbaak/mijn/{question_id}")).status_code == 404
    async with await new_client(server) as nobody:
        assert (await nobody.get(f"/vraagbaak/mijn/{question_id}")).status_code == 404
