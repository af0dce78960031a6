"""A VitaliteitsMarkt entry suggested in a 1-on-1 chat: the one card the staff member's send puts into the chat,
the visitor's page and transcript showing it, who may send one and which entries may be sent."""

from __future__ import annotations

from typing import Any
from urllib.parse import unquote

import httpx
import pytest

from chatserver.protocol.events import ChatToolCard, event_data
from chatserver.services.oneonone import OneOnOneError

from ..conftest import RunningServer
from ..events_capture import CapturedEvents
from .content_helpers import login_as, new_client
from .content_helpers import staff as editor_of
from .markt_helpers import ENTRY_FORM, create_entry, publish
from .test_oneonone_support import FLAVOUR, login, post_form, staff, visitor

CARD = ChatToolCard(
    entry="kalmte-kompas",
    title="Kalmte Kompas",
    kind="app",
    kind_label="App",
    summary=ENTRY_FORM["summary"],
    url=f"/f/{FLAVOUR}/markt/kalmte-kompas",
    staff="Vera",
    role="Vrijwilliger",
)


async def _market(server: RunningServer) -> None:
    """Kalmte Kompas published here; one entry still a draft here; one published in another flavour only."""
    async with await new_client(server) as editor:
        await login_as(server, editor, editor_of("editor", FLAVOUR, "jongeren"))
        await publish(editor, await create_entry(editor, [FLAVOUR]))
        await create_entry(editor, [FLAVOUR], title="Nog in concept")
        await publish(editor, await create_entry(editor, ["jongeren"], title="Alleen bij jongeren"))


async def _active_chat(server: RunningServer, *members: Any, person: Any) -> dict[str, Any]:
    """A chat of ``person`` that the first of ``members`` (all on shift) accepted."""
    for member in members:
        await server.services.shifts.sign_on(member, [FLAVOUR], 2)
    chat = await server.services.oneonone.request(person, FLAVOUR, "")
    accepted: dict[str, Any] = await server.services.oneonone.accept(members[0], chat["_id"])
    return accepted


async def test_the_staff_member_sends_a_card_and_the_chat_gets_exactly_that_event(
    server: RunningServer, client: httpx.AsyncClient, captured_events: CapturedEvents, monkeypatch: pytest.MonkeyPatch
) -> None:
    await _market(server)
    vera, person = staff("volunteer", name="Vera"), visitor("Merel")
    chat = await _active_chat(server, vera, person=person)
    await login(server, client, vera)
    console = f"/backoffice/gesprekken/{chat['_id']}"
    page = await client.get(console)
    assert page.status_code == 200
    assert '<option value="kalmte-kompas">Kalmte Kompas (App)</option>' in page.text
    assert "Nog in concept" not in page.text and "Alleen bij jongeren" not in page.text
    found = await client.get(console, params={"zoek": "piekeren"})
    assert "kalmte-kompas" in found.text and "1 resultaat" in found.text
    nothing = await client.get(console, params={"zoek": "zeilboot"})
    assert 'value="kalmte-kompas"' not in nothing.text and "Niets gevonden" in nothing.text

    captured_events.watch(server.services.chat)
    uptake = server.services.markt.uptake
    counted: list[tuple[str, str | None, str]] = []
    count = uptake.count

    def recording(entry_id: str, flavour: str, region: str | None, metric: Any, n: int = 1) -> None:
        counted.append((flavour, region, metric))
        count(entry_id, flavour, region, metric, n)

    monkeypatch.setattr(uptake, "count", recording)
    sent = await post_form(client, console, f"{console}/kaart", {"entry": "kalmte-kompas"})
    assert sent.status_code == 303 and sent.headers["location"] == console
    assert counted == [(FLAVOUR, None, "card")]  # counted as uptake, without anything of the visitor
    assert captured_events.stored() == [(chat["channel"], CARD)]
    assert captured_events.notices == []
    stored = await server.services.db["events"].find_one({"channel": chat["channel"], "data.event": "tool_card"})
    assert stored is not None and stored["data"] == event_data(CARD)
    assert 'href="/f/psychosenet/markt/kalmte-kompas"' in (await client.get(console)).text

    async with await new_client(server) as guest:
        await login(server, guest, person)
        own = await guest.get(f"/f/{FLAVOUR}/chat/gesprek/{chat['_id']}")
        assert own.status_code == 200 and "gesprek-card" in own.text
        assert 'href="/f/psychosenet/markt/kalmte-kompas"' in own.text and "Vera (Vrijwilliger)" in own.text
        text = (await guest.get(f"/f/{FLAVOUR}/chat/gesprek/{chat['_id']}/transcript.txt")).text
        assert f"Vera (Vrijwilliger) raadt aan: Kalmte Kompas (App) – {ENTRY_FORM['summary']}" in text
        assert f"{server.url}/f/psychosenet/markt/kalmte-kompas" in text


async def test_only_the_staff_member_the_chat_is_assigned_to_can_send_a_card(
    server: RunningServer, client: httpx.AsyncClient, captured_events: CapturedEvents
) -> None:
    await _market(server)
    vera, bram, person = staff("volunteer", name="Vera"), staff("volunteer", name="Bram"), visitor("Merel")
    chat = await _active_chat(server, vera, bram, person=person)
    oneonone = server.services.oneonone
    captured_events.watch(server.services.chat)
    for outsider in (person, bram, staff("volunteer", ("jongeren",))):
        with pytest.raises(OneOnOneError) as refused:
            await oneonone.send_card(outsider, chat["_id"], "kalmte-kompas")
        assert refused.value.status == 404
    # over HTTP: the visitor has no console, a colleague not in the chat gets the same "not found"
    console = f"/backoffice/gesprekken/{chat['_id']}"
    async with await new_client(server) as guest:
        await login(server, guest, person)
        page = await guest.get(console)
        assert page.status_code == 404
        assert (await guest.post(f"{console}/kaart", data={"entry": "kalmte-kompas"})).status_code in (403, 404)
    await login(server, client, bram)
    assert (await client.get(console)).status_code == 404
    # after a transfer the one who had the chat may no longer send one
    await oneonone.transfer(vera, chat["_id"], bram.account_id, "")
    with pytest.raises(OneOnOneError) as moved:
        await oneonone.send_card(vera, chat["_id"], "kalmte-kompas")
    assert moved.value.status == 409 and moved.value.detail == "Dit gesprek is niet (meer) van jou."
    assert captured_events.of(ChatToolCard) == []


async def test_a_draft_an_entry_of_another_flavour_or_no_choice_is_refused_in_dutch(
    server: RunningServer, client: httpx.AsyncClient, captured_events: CapturedEvents
) -> None:
    await _market(server)
    vera = staff("volunteer", name="Vera")
    chat = await _active_chat(server, vera, person=visitor())
    await login(server, client, vera)
    console = f"/backoffice/gesprekken/{chat['_id']}"
    captured_events.watch(server.services.chat)
    refusals = {
        "nog-in-concept": "Dit aanbod staat niet (meer) in de VitaliteitsMarkt van PsychoseNet. Kies ander aanbod.",
        "alleen-bij-jongeren": "Dit aanbod staat niet (meer) in de VitaliteitsMarkt van PsychoseNet. "
        "Kies ander aanbod.",
        "bestaat-niet": "Dit aanbod staat niet (meer) in de VitaliteitsMarkt van PsychoseNet. Kies ander aanbod.",
        "": "Kies eerst aanbod uit de VitaliteitsMarkt.",
    }
    for slug, detail in refusals.items():
        answer = await post_form(client, console, f"{console}/kaart", {"entry": slug})
        assert answer.status_code == 303, slug
        location = answer.headers["location"]
        assert location.startswith(f"{console}?fout=") and unquote(location.split("=", 1)[1]) == detail, slug
        shown = await client.get(location)
        assert detail in shown.text and 'role="alert"' in shown.text
    assert captured_events.of(ChatToolCard) == []
