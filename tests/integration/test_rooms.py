"""Room pages: the list, a room with server-rendered history, modes, admin rooms, scroll-back, edit/delete, report."""

from __future__ import annotations

import re
import secrets
from datetime import UTC, datetime, timedelta

import httpx

from chatserver.domain.channels import room_channel
from chatserver.protocol.events import MessageDeleted, MessageEdited, SystemLine
from tests.events_capture import CapturedEvents
from tests.integration.content_helpers import csrf_of, login_as, member, new_client, staff

from ..conftest import RunningServer

FLAVOUR = "psychosenet"
GUEST_ROOM = "/f/psychosenet/chat/welkom/"


async def publish(server: RunningServer, actor, room: str, text: str) -> int:  # type: ignore[no-untyped-def]
    acked = await server.services.chat.do_publish(
        actor, room_channel(FLAVOUR, room), secrets.token_hex(8), text, screen=False
    )
    return int(acked.offset)


async def test_rooms_list_shows_modes_presence_and_the_one_on_one_entry(client: httpx.AsyncClient) -> None:
    page = await client.get("/f/psychosenet/chat/")
    assert page.status_code == 200
    html = page.text
    assert "Praat één-op-één met een vrijwilliger, ervaringsdeskundige of professional" in html
    assert 'href="/f/psychosenet/chat/gesprek/"' in html
    for name in ("Welkom", "Stemmen horen", "Herstelcafé"):
        assert name in html
    assert "Intervisie" not in html  # staff-only rooms are not listed for visitors
    assert "Open voor iedereen" in html and "Alleen leden" in html and "Met host" in html
    assert "Nu gesloten" in html  # the hosted room has no host yet
    assert "0 online" in html
    assert '<a href="/f/psychosenet/chat/">Chat</a>' in html or 'href="/f/psychosenet/chat/"' in html


async def test_guest_room_gives_a_visitor_a_guest_session_and_a_live_page(client: httpx.AsyncClient) -> None:
    page = await client.get(GUEST_ROOM)
    assert page.status_code == 200
    assert "gem_session" in page.headers.get("set-cookie", "")
    html = page.text
    assert 'role="log"' in html and 'aria-live="polite"' in html
    assert 'data-channel="room:psychosenet:welkom"' in html
    assert 'for="bericht"' in html and "/static/js/chat.js" in html
    assert "<script>" not in html  # no inline scripts (CSP)
    again = await client.get(GUEST_ROOM)  # the cookie is kept: no second guest
    assert "gem_session" not in again.headers.get("set-cookie", "")


async def test_members_room_prompts_to_log_in_and_staff_room_is_hidden(client: httpx.AsyncClient) -> None:
    prompt = await client.get("/f/psychosenet/chat/stemmen-horen/")
    assert prompt.status_code == 403
    assert "Log in of maak een account" in prompt.text
    assert (await client.get("/f/psychosenet/chat/intervisie/")).status_code == 404
    assert (await client.get("/f/psychosenet/chat/bestaat-niet/")).status_code == 404


async def test_gesprek_is_left_for_the_one_on_one_chat(server: RunningServer, client: httpx.AsyncClient) -> None:
    page = await client.get("/f/psychosenet/chat/gesprek/")
    assert 'data-channel="room:' not in page.text


async def test_history_is_rendered_and_pages_back_with_a_plain_link(server: RunningServer) -> None:
    author = member("schrijver")
    offsets = [await publish(server, author, "welkom", f"regel {i} https://example.org/{i}") for i in range(60)]
    async with await new_client(server) as c:
        page = await c.get(GUEST_ROOM)
        html = page.text
        assert "regel 59" in html and "regel 10" in html and "regel 9 " not in html
        assert 'href="https://example.org/59"' in html and 'rel="nofollow' in html
        match = re.search(r'href="(/f/psychosenet/chat/welkom/\?voor=(\d+))"', html)
        assert match and int(match.group(2)) == offsets[10]
        older = await c.get(match.group(1))
        assert "regel 0 " in older.text and "regel 9 " in older.text and "regel 10 " not in older.text
        assert "Naar de nieuwste berichten" in older.text
        fragment = await c.get(f"/f/psychosenet/chat/welkom/geschiedenis?voor={offsets[10]}")
        assert fragment.status_code == 200 and fragment.text.count('<li class="msg') == 10


async def test_user_html_is_shown_as_text(server: RunningServer) -> None:
    await publish(
        server, member("plager"), "welkom", "<script>alert(1)</script><img src=x onerror=alert(2)> javascript:x"
    )
    async with await new_client(server) as c:
        html = (await c.get(GUEST_ROOM)).text
    assert "<script>alert" not in html and "<img src=x" not in html
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in html


async def test_edit_and_delete_only_own_message_within_five_minutes(server: RunningServer) -> None:
    alice, bob = member("alice"), member("bob")
    offset = await publish(server, alice, "stemmen-horen", "eerste versie")
    other = await publish(server, bob, "stemmen-horen", "van bob")
    base = "/f/psychosenet/chat/stemmen-horen/"
    channel = room_channel(FLAVOUR, "stemmen-horen")
    store = server.services.chat.store
    async with await new_client(server) as c:
        await login_as(server, c, alice)
        page = await c.get(base)
        assert page.status_code == 200 and "Bewerken" in page.text
        token = csrf_of(page.text)
        json = {"Accept": "application/json"}
        refused = await c.post(
            f"{base}berichten/{other}/bewerken", data={"csrf_token": token, "text": "x"}, headers=json
        )
        assert refused.status_code == 404
        done = await c.post(f"{base}berichten/{offset}/bewerken", data={"csrf_token": token, "text": "tweede versie"},
                            headers=json)  # fmt: skip
        assert done.status_code == 200 and done.json()["ok"] is True
        doc = await store.find_event(channel, offset)
        assert doc["data"]["text"] == "tweede versie" and doc["data"]["edited"] is True
        events = await store.read_after(channel, offset, 10)
        kinds = [(e["kind"], e["data"].get("offset")) for e in events]
        assert ("edit", offset) in kinds
        old = await publish(server, alice, "stemmen-horen", "te oud")
        await store.events.update_one({"channel": channel, "offset": old},
                                      {"$set": {"ts": datetime.now(UTC) - timedelta(minutes=6)}})  # fmt: skip
        late = await c.post(f"{base}berichten/{old}/verwijderen", data={"csrf_token": token}, headers=json)
        assert late.status_code == 409 and "5 minuten" in late.json()["error"]
        gone = await c.post(f"{base}berichten/{offset}/verwijderen", data={"csrf_token": token})
        assert gone.status_code == 303
        doc = await store.find_event(channel, offset)
        assert doc["data"]["deleted"] is True and doc["data"]["text"] == ""
        html = (await c.get(base)).text
        assert "Dit bericht is verwijderd." in html and "tweede versie" not in html


async def test_sending_without_javascript_publishes_through_the_live_path(server: RunningServer) -> None:
    async with await new_client(server) as c:
        page = await c.get(GUEST_ROOM)
        sent = await c.post(GUEST_ROOM + "bericht", data={"csrf_token": csrf_of(page.text), "text": "zonder js",
                                                          "client_msg_id": "nojs-1"})  # fmt: skip
        assert sent.status_code == 303
        assert "zonder js" in (await c.get(GUEST_ROOM)).text


async def test_announcements_room_form_is_only_for_staff(server: RunningServer) -> None:
    slug = await _announcement_room(server)
    async with await new_client(server) as c:
        page = await c.get(f"/f/psychosenet/chat/{slug}/")
        assert page.status_code == 200 and "alleen het team berichten" in page.text
        assert "data-composer" not in page.text
        sent = await c.post(
            f"/f/psychosenet/chat/{slug}/bericht", data={"csrf_token": csrf_of(page.text), "text": "hoi"}
        )
        assert sent.status_code == 422
    async with await new_client(server) as c:
        await login_as(server, c, staff("professional", FLAVOUR))
        page = await c.get(f"/f/psychosenet/chat/{slug}/")
        assert "data-composer" in page.text


async def _announcement_room(server: RunningServer) -> str:
    admin = staff("admin")
    async with await new_client(server) as c:
        await login_as(server, c, admin)
        form = await c.get("/backoffice/ruimtes")
        assert form.status_code == 200
        created = await c.post("/backoffice/ruimtes", data={
            "csrf_token": csrf_of(form.text), "flavour": FLAVOUR, "slug": "nieuws", "name": "Nieuws",
            "description": "Mededelingen van het team", "mode": "announcements", "slow_mode_s": "0"})  # fmt: skip
        assert created.status_code == 303
    return "nieuws"


async def test_admin_creates_and_closes_a_room(server: RunningServer) -> None:
    await _announcement_room(server)
    async with await new_client(server) as c:
        assert "Nieuws" in (await c.get("/f/psychosenet/chat/")).text
        assert (await c.get("/f/psychosenet/chat/nieuws/")).status_code == 200
        await login_as(server, c, staff("professional", FLAVOUR))
        assert (await c.get("/backoffice/ruimtes")).status_code == 404  # admins only
    async with await new_client(server) as c:
        await login_as(server, c, staff("admin"))
        form = await c.get("/backoffice/ruimtes")
        token = csrf_of(form.text)
        dup = await c.post("/backoffice/ruimtes", data={"csrf_token": token, "flavour": FLAVOUR, "slug": "welkom",
                                                         "name": "X", "mode": "guests"})  # fmt: skip
        assert dup.status_code == 409
        bad = await c.post("/backoffice/ruimtes", data={"csrf_token": token, "flavour": FLAVOUR, "slug": "gesprek",
                                                         "name": "X", "mode": "guests"})  # fmt: skip
        assert bad.status_code == 422
        closed = await c.post("/backoffice/ruimtes/psychosenet/nieuws/sluiten", data={"csrf_token": token})
        assert closed.status_code == 303
    async with await new_client(server) as c:
        assert "Nieuws" not in (await c.get("/f/psychosenet/chat/")).text
        assert (await c.get("/f/psychosenet/chat/nieuws/")).status_code == 404


async def test_backoffice_link_is_registered_for_admins(server: RunningServer) -> None:
    links = server.services.backoffice_links
    allowed = next(link.allowed for link in links if link.url == "/backoffice/ruimtes")
    assert allowed(staff("admin")) and not allowed(staff("professional", FLAVOUR)) and not allowed(None)


async def test_report_goes_to_the_moderation_queue_once(server: RunningServer) -> None:
    offset = await publish(server, member("dader"), "welkom", "iets naars")
    async with await new_client(server) as c:
        page = await c.get(GUEST_ROOM)
        token = csrf_of(page.text)
        form = await c.get(f"{GUEST_ROOM}berichten/{offset}/melden")
        assert form.status_code == 200 and "iets naars" in form.text
        empty = await c.post(f"{GUEST_ROOM}berichten/{offset}/melden", data={"csrf_token": token, "reason": " "})
        assert empty.status_code == 422
        first = await c.post(f"{GUEST_ROOM}berichten/{offset}/melden", data={"csrf_token": token, "reason": "kwetsend"},
                             headers={"Accept": "application/json"})  # fmt: skip
        if server.services.moderation is None:
            assert first.status_code == 503 and "Melden kan nu even niet" in first.json()["error"]
            return
        assert first.status_code == 200 and first.json()["ok"] is True
        again = await c.post(f"{GUEST_ROOM}berichten/{offset}/melden", data={"csrf_token": token, "reason": "nog eens"},
                             headers={"Accept": "application/json"})  # fmt: skip
        assert again.json()["ok"] is True and "al gemeld" in again.json()["message"]
    items = await server.services.db["moderation_items"].find({}).to_list(length=10)
    assert len([i for i in items if "iets naars" in str(i)]) == 1


async def test_demo_seeder_is_idempotent(server: RunningServer) -> None:
    rooms = server.services.rooms
    first = await rooms.seed_demo()
    assert first > 0
    assert await rooms.seed_demo() == 0
    async with await new_client(server) as c:
        assert "Welkom in Welkom van PsychoseNet" in (await c.get(GUEST_ROOM)).text


async def test_hosting_editing_and_deleting_emit_one_event_each(
    server: RunningServer, captured_events: CapturedEvents
) -> None:
    rooms = server.services.rooms
    flavour = server.services.catalog.get(FLAVOUR)
    assert flavour is not None
    hosted, welkom = flavour.room("herstelcafe"), flavour.room("welkom")
    assert hosted is not None and welkom is not None
    author = member("tikfout")
    offset = await publish(server, author, "welkom", "een tikfuot")
    captured_events.watch(server.services.chat)
    await rooms.set_open(staff("professional", FLAVOUR), flavour, hosted, True)
    await rooms.edit(author, flavour, welkom, offset, "een tikfout")
    await rooms.delete(author, flavour, welkom, offset)
    assert _without_queue_alerts(captured_events) == [
        (
            room_channel(FLAVOUR, "herstelcafe"),
            SystemLine(text="De host heeft de ruimte geopend. Welkom!", room_open=True),
        ),
        (room_channel(FLAVOUR, "welkom"), MessageEdited(offset=offset, text="een tikfout")),
        (room_channel(FLAVOUR, "welkom"), MessageDeleted(offset=offset)),
    ]
    assert captured_events.notices == []


def _without_queue_alerts(captured: CapturedEvents) -> list[tuple[str, object]]:
    """The stored events of the test's action: the server's own roster job may alert on the queue channels."""
    return [(channel, event) for channel, event in captured.stored() if not channel.startswith("queue:")]
