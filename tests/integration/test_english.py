"""A visitor who chose English (cookie gem_lang=en) meets no Dutch interface: pages, refusals, the API, the scripts.

A flavour's own content (flavours/*.toml: names, room names, crisis lines' descriptions) stays Dutch; the words
checked here are interface words that content does not use.
"""

from __future__ import annotations

import json
import re

import httpx
import pytest

from chatserver.config import PROJECT_ROOT
from chatserver.domain.reflectie import CATALOGUE, Quantile, bucket_label
from chatserver.i18n import live_messages, script_messages, translate
from chatserver.services.content.workflow import _refused_transition
from chatserver.services.oneonone.conversation import HANDOVER_LINE

from ..conftest import RunningServer
from ..unit.test_i18n import DUTCH_UI_WORDS, PORTAL_WORDS, TRANSLATED, messages, po_path, read_catalog, visible_text
from .content_helpers import csrf_of, login_as, member, new_client
from .forum_helpers import FORUM, OPEN_CATEGORY
from .test_english_staff import untranslated
from .test_oneonone_support import post_form, staff

SITE = "/f/psychosenet"
ENGLISH = {"gem_lang": "en"}
# More interface words, none of which occurs in the flavours' own texts.
MORE_DUTCH_WORDS = (
    "Melden",
    "Sluiten",
    "Zoeken",
    "Reageren",
    "Gesloten",
    "Vandaag",
    "vandaag om",
    "morgen om",
    "maandag",
    "dinsdag",
    "Nog geen",
    "Bericht",
    "Volgende",
    "Vorige",
    "Onderwerp",
    "Verstuur vraag",
    "Nieuw onderwerp",
    "Je bent ingelogd",
    "tekens",
)
PAGES = (
    f"{SITE}/",
    f"{SITE}/chat/",
    f"{SITE}/chat/welkom/",
    f"{SITE}/chat/gesprek/",
    f"{SITE}/forum/",
    f"{SITE}/forum/c/{OPEN_CATEGORY}/",
    f"{SITE}/forum/c/{OPEN_CATEGORY}/nieuw",
    f"{SITE}/spreekuur/",
    f"{SITE}/vraagbaak/",
    f"{SITE}/markt/",
    f"{SITE}/markt/vragen",
    f"{SITE}/artikelen/",
    f"{SITE}/cijfers/",
    f"{SITE}/hulp",
    f"{SITE}/bestaat-niet",
    "/account",
)


def dutch_left(page: str, *, portal: bool = False) -> list[str]:
    text = visible_text(page)
    words = DUTCH_UI_WORDS + MORE_DUTCH_WORDS + (PORTAL_WORDS if portal else ())
    return [word for word in words if re.search(rf"(?<!\w){re.escape(word)}(?!\w)", text)]


async def english_member(server: RunningServer) -> httpx.AsyncClient:
    client = await new_client(server)
    client.cookies.update(ENGLISH)
    await login_as(server, client, member("Reader"))
    return client


@pytest.mark.parametrize("path", PAGES)
async def test_a_member_reads_every_part_in_english(server: RunningServer, path: str) -> None:
    async with await english_member(server) as client:
        response = await client.get(path, follow_redirects=True)
    assert response.status_code in (200, 404), path
    assert '<html lang="en">' in response.text
    assert not dutch_left(response.text), f"{path} in English still shows {dutch_left(response.text)}"
    assert not untranslated(response.text), f"{path} in English still shows {untranslated(response.text)}"


async def test_the_error_page_is_english(client: httpx.AsyncClient) -> None:
    client.cookies.update(ENGLISH)
    response = await client.get(f"{SITE}/bestaat-niet")
    assert response.status_code == 404
    assert "Page not found" in response.text and "Pagina niet gevonden" not in response.text


async def test_a_refused_log_in_is_explained_in_english(client: httpx.AsyncClient) -> None:
    client.cookies.update(ENGLISH)
    form = await client.get("/inloggen")
    response = await client.post(
        "/inloggen",
        data={"csrf_token": csrf_of(form.text), "pseudonym": "Niemand", "password": "verkeerd-wachtwoord"},
    )
    assert response.status_code in (401, 403, 422, 429)
    assert "These details are not correct" in response.text or "too often" in response.text
    assert not dutch_left(response.text, portal=True)


async def test_a_refused_registration_is_explained_in_english(client: httpx.AsyncClient) -> None:
    client.cookies.update(ENGLISH)
    form = await client.get("/registreren")
    response = await client.post(
        "/registreren",
        data={"csrf_token": csrf_of(form.text), "pseudonym": "x", "password": "kort"},
    )
    assert response.status_code == 422
    assert "A pseudonym is" in visible_text(response.text)
    assert not dutch_left(response.text, portal=True)


async def test_a_forum_refusal_from_the_service_reaches_an_english_visitor_in_english(server: RunningServer) -> None:
    async with await english_member(server) as client:
        form = await client.get(f"{FORUM}/c/{OPEN_CATEGORY}/nieuw")
        response = await client.post(
            f"{FORUM}/c/{OPEN_CATEGORY}/nieuw",
            data={"csrf_token": csrf_of(form.text), "title": "Hi", "body": ""},
        )
    assert response.status_code == 422
    text = visible_text(response.text)
    assert "Give your topic a title of at least" in text or "Write a message." in text
    assert "Schrijf een bericht" not in text and "Geef je onderwerp" not in text
    assert not dutch_left(response.text)


async def test_the_same_refusal_stays_dutch_by_default(server: RunningServer) -> None:
    async with await new_client(server) as client:
        await login_as(server, client, member("Lezer"))
        form = await client.get(f"{FORUM}/c/{OPEN_CATEGORY}/nieuw")
        response = await client.post(
            f"{FORUM}/c/{OPEN_CATEGORY}/nieuw",
            data={"csrf_token": csrf_of(form.text), "title": "Hi", "body": ""},
        )
    assert response.status_code == 422
    assert "Geef je onderwerp een titel van minstens" in response.text or "Schrijf een bericht." in response.text


async def test_api_problems_speak_the_request_language(client: httpx.AsyncClient) -> None:
    dutch = await client.get("/api/v1/bestaat-niet")
    client.cookies.update(ENGLISH)
    english = await client.get("/api/v1/bestaat-niet")
    assert english.status_code == dutch.status_code == 404
    assert english.json()["title"] == "Not found"
    assert english.json()["detail"] == "This API call does not exist."
    assert dutch.json()["detail"] == "Deze API-aanroep bestaat niet."


async def test_the_english_crisis_page_states_the_numbers_in_english(client: httpx.AsyncClient) -> None:
    client.cookies.update(ENGLISH)
    text = visible_text((await client.get(f"{SITE}/hulp")).text)
    assert "Call 112" in text
    assert "call 113 or 0800-0113 free of charge" in text
    assert "113 Suicide Prevention" in text


# --- the scripts' messages ------------------------------------------------------------------------------------------

SCRIPT_BLOCK = re.compile(r'<script type="application/json" id="gem-i18n">(.*?)</script>', re.S)


async def test_an_english_page_carries_every_script_message_translated(server: RunningServer) -> None:
    async with await english_member(server) as client:
        page = await client.get(f"{SITE}/chat/welkom/")
    block = SCRIPT_BLOCK.search(page.text)
    assert block, "no #gem-i18n block on an English page"
    sent = json.loads(block.group(1))
    wanted = script_messages(PROJECT_ROOT / "static" / "js")
    # A room shows live lines: the block also carries the messages those may hold (live_messages).
    assert set(sent) == {m if isinstance(m, str) else m[0] for m in wanted} | set(live_messages())
    po = messages(read_catalog(po_path(TRANSLATED[0])))
    for msgid, text in sent.items():
        forms = text if isinstance(text, list) else [text]
        assert all(forms), f"no English for the script message {msgid!r}"
        assert msgid in po and all(po[msgid].string), f"{msgid!r} has no msgstr in the English catalogue"
    assert sent["Verbonden"] == "Connected"
    assert sent["{n} minuut"] == ["{n} minute", "{n} minutes"]
    assert '<script src="/static/js/i18n.js' in page.text


async def test_a_dutch_page_needs_no_script_messages(client: httpx.AsyncClient) -> None:
    page = await client.get(f"{SITE}/chat/welkom/")
    assert "gem-i18n" not in page.text
    assert '<script src="/static/js/i18n.js' in page.text


def script_block(page: httpx.Response) -> dict[str, str | list[str]]:
    block = SCRIPT_BLOCK.search(page.text)
    assert block, "no #gem-i18n block on an English page"
    found: dict[str, str | list[str]] = json.loads(block.group(1))
    return found


async def test_a_room_page_carries_the_english_of_the_system_lines_that_arrive_live(server: RunningServer) -> None:
    async with await english_member(server) as client:
        room = await client.get(f"{SITE}/chat/welkom/")
        forum = await client.get(f"{SITE}/forum/")
    sent = script_block(room)
    assert sent["De host heeft de ruimte geopend. Welkom!"] == "The host has opened the room. Welcome!"
    assert "De host heeft de ruimte geopend. Welkom!" not in script_block(forum)  # no live lines, no extra weight


async def test_the_one_on_one_page_carries_the_english_of_its_system_lines(server: RunningServer) -> None:
    await server.services.shifts.sign_on(staff("volunteer"), ["psychosenet"], 2)
    async with await new_client(server) as client:
        client.cookies.update(ENGLISH)
        entry = f"{SITE}/chat/gesprek/"
        answer = await post_form(client, entry, entry, {"topic": "Stemmen"})
        assert answer.status_code == 303
        sent = script_block(await client.get(answer.headers["location"]))
    for line in (HANDOVER_LINE, "%s (%s) is er nu voor je.", "De bezoeker heeft het gesprek verlaten."):
        assert line in sent and sent[line] and sent[line] != line, line
    assert sent["Vrijwilliger"] == "Volunteer"  # a role inside a line is translated as its value


def test_a_refused_transition_names_the_actions_and_the_status_in_english() -> None:
    refusal = _refused_transition("draft", "unpublish").detail
    assert refusal == (  # the Dutch stays as it was
        "‘Offline halen’ kan niet bij een stuk met status ‘Concept’. "
        "Wel mogelijk: ‘Ter beoordeling aanbieden’, ‘Publiceren’, ‘Archiveren’."
    )
    assert translate("en", refusal) == (
        "‘Take offline’ is not possible for a piece with status ‘Draft’. "
        "Possible: ‘Submit for review’, ‘Publish’, ‘Archive’."
    )


def test_a_duration_range_on_the_figures_reads_in_english() -> None:
    wait = CATALOGUE["oneonone.wait"]
    hours = bucket_label(wait, Quantile(low=7200, high=14400, estimate=9000))
    minutes = bucket_label(wait, Quantile(low=60, high=120, estimate=90))
    assert (hours, minutes) == ("2 uur – 4 uur", "1 min – 2 min")  # the Dutch stays as it was
    assert (translate("en", hours), translate("en", minutes)) == ("2 hours – 4 hours", "1 min – 2 min")
