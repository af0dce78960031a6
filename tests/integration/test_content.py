"""Editorial content through the real server: write, review, schedule, publish to several flavours, revise, feature."""

from __future__ import annotations

import re
from datetime import timedelta
from typing import TYPE_CHECKING

import httpx

from chatserver.flavours import TIMEZONE
from chatserver.services.content import ContentService, Draft

from ..conftest import RunningServer
from ..events_capture import CapturedEvents
from .content_helpers import csrf_of, login_as, member, new_client, post_form, staff

if TYPE_CHECKING:
    from ..conftest import TestClock  # not imported at run time: pytest would collect it as a test class

BODY = "### Wat helpt\nPraten met iemand die je vertrouwt **helpt** vaak.\n\n- rust\n- regelmaat"


def content(server: RunningServer) -> ContentService:
    found: ContentService = server.services.content
    return found


async def create_item(
    client: httpx.AsyncClient, title: str, flavours: list[str], kind: str = "article", body: str = BODY
) -> str:
    page = await client.get("/backoffice/inhoud/nieuw")
    assert page.status_code == 200
    data = {"csrf_token": csrf_of(page.text), "kind": kind, "category": "psycho-educatie", "title": title,
            "summary": "Korte samenvatting.", "body": body, "flavours": flavours}  # fmt: skip
    response = await client.post("/backoffice/inhoud/nieuw", data=data)
    assert response.status_code == 303, response.text[:2000]
    match = re.match(r"/backoffice/inhoud/([0-9a-f]{32})\?", response.headers["location"])
    assert match
    return match.group(1)


async def set_status(client: httpx.AsyncClient, item_id: str, action: str, **extra: str) -> httpx.Response:
    return await post_form(
        client, f"/backoffice/inhoud/{item_id}", f"/backoffice/inhoud/{item_id}/status", {"action": action, **extra}
    )


async def test_article_published_to_two_flavours_appears_on_both_and_not_elsewhere(
    server: RunningServer, client: httpx.AsyncClient
) -> None:
    await login_as(server, client, staff("editor", "psychosenet", "jongeren"))
    item_id = await create_item(client, "Wat is een psychose?", ["psychosenet", "jongeren"])
    async with await new_client(server) as public:
        assert (await public.get("/f/psychosenet/artikelen/wat-is-een-psychose")).status_code == 404
        listing = await public.get("/f/psychosenet/artikelen/")
        assert "Wat is een psychose?" not in listing.text
        assert (await set_status(client, item_id, "publish")).status_code == 303
        for flavour in ("psychosenet", "jongeren"):
            listing = await public.get(f"/f/{flavour}/artikelen/")
            assert listing.status_code == 200
            assert "Wat is een psychose?" in listing.text
            detail = await public.get(f"/f/{flavour}/artikelen/wat-is-een-psychose")
            assert detail.status_code == 200
            assert "<h3>Wat helpt</h3>" in detail.text
            assert "<strong>helpt</strong>" in detail.text
        assert (await public.get("/f/trauma/artikelen/wat-is-een-psychose")).status_code == 404
        assert "Wat is een psychose?" not in (await public.get("/f/trauma/artikelen/")).text


async def test_drafts_in_review_and_unpublished_items_are_404_for_the_public(
    server: RunningServer, client: httpx.AsyncClient
) -> None:
    await login_as(server, client, staff("editor", "dwang"))
    item_id = await create_item(client, "Geheim concept", ["dwang"])
    async with await new_client(server) as public:
        missing = await public.get("/f/dwang/artikelen/bestaat-niet")
        draft = await public.get("/f/dwang/artikelen/geheim-concept")
        assert draft.status_code == missing.status_code == 404
        assert "Geheim concept" not in draft.text
        await set_status(client, item_id, "submit")
        assert (await public.get("/f/dwang/artikelen/geheim-concept")).status_code == 404
        await set_status(client, item_id, "publish")
        assert (await public.get("/f/dwang/artikelen/geheim-concept")).status_code == 200
        await set_status(client, item_id, "unpublish")
        assert (await public.get("/f/dwang/artikelen/geheim-concept")).status_code == 404


async def test_scheduled_publication_appears_when_the_clock_passes_publish_at(
    server: RunningServer, client: httpx.AsyncClient, clock: TestClock
) -> None:
    await login_as(server, client, staff("editor", "trauma"))
    item_id = await create_item(client, "Ingepland stuk", ["trauma"])
    real_now = clock()
    future_local = (real_now + timedelta(days=2)).astimezone(TIMEZONE)
    response = await set_status(client, item_id, "publish", publish_at=future_local.strftime("%Y-%m-%dT%H:%M"))
    assert response.status_code == 303
    async with await new_client(server) as public:
        assert (await public.get("/f/trauma/artikelen/ingepland-stuk")).status_code == 404
        edit = await client.get(f"/backoffice/inhoud/{item_id}")
        assert "ingepland voor" in edit.text
        clock.advance(timedelta(days=2, minutes=1))  # the server's injected clock
        assert (await public.get("/f/trauma/artikelen/ingepland-stuk")).status_code == 200
        assert "Ingepland stuk" in (await public.get("/f/trauma/artikelen/")).text


async def test_every_save_keeps_the_previous_version_as_a_revision(
    server: RunningServer, client: httpx.AsyncClient
) -> None:
    editor = staff("editor", "eenzaamheid", name="redacteurA")
    await login_as(server, client, editor)
    item_id = await create_item(client, "Eenzaam in de stad", ["eenzaamheid"], body="Eerste versie van de tekst.")
    page = await client.get(f"/backoffice/inhoud/{item_id}")
    data = {"csrf_token": csrf_of(page.text), "version": "1", "kind": "article", "category": "zelfhulp",
            "title": "Eenzaam in de stad", "summary": "", "body": "Tweede versie van de tekst.",
            "flavours": ["eenzaamheid"]}  # fmt: skip
    assert (await client.post(f"/backoffice/inhoud/{item_id}", data=data)).status_code == 303
    stale = await client.post(f"/backoffice/inhoud/{item_id}", data=data)  # version 1 again: someone saved since
    assert stale.status_code == 409
    assert "intussen opgeslagen" in stale.text
    page = await client.get(f"/backoffice/inhoud/{item_id}")
    assert "Tweede versie" in page.text
    assert f"/backoffice/inhoud/{item_id}/versies/1" in page.text
    assert "door redacteurA" in page.text
    old = await client.get(f"/backoffice/inhoud/{item_id}/versies/1")
    assert old.status_code == 200
    assert "Eerste versie van de tekst." in old.text
    assert "Tweede versie" not in old.text
    assert (await client.get(f"/backoffice/inhoud/{item_id}/versies/9")).status_code == 404


async def test_member_story_is_reviewed_then_rejected_with_reason_or_published(
    server: RunningServer, client: httpx.AsyncClient
) -> None:
    author = member("schrijver1")
    await login_as(server, client, author)
    story = "Twee jaar geleden kon ik de deur niet meer uit. Stap voor stap ging het beter, met hulp van lotgenoten."
    response = await post_form(
        client, "/f/angst-en-depressie/artikelen/verhaal-insturen", "/f/angst-en-depressie/artikelen/verhaal-insturen",
        {"title": "Weer naar buiten", "body": story},
    )  # fmt: skip
    assert response.status_code == 303
    mine = await client.get(response.headers["location"])
    assert "Ter beoordeling" in mine.text
    async with await new_client(server) as editor_client, await new_client(server) as other_editor:
        await login_as(server, editor_client, staff("editor", "angst-en-depressie"))
        await login_as(server, other_editor, staff("editor", "verslaving"))
        queue = await editor_client.get("/backoffice/inhoud?status=in_review")
        match = re.search(r'href="/backoffice/inhoud/([0-9a-f]{32})">Weer naar buiten', queue.text)
        assert match, queue.text[:3000]
        item_id = match.group(1)
        assert "Weer naar buiten" not in (await other_editor.get("/backoffice/inhoud?status=in_review")).text
        assert (await other_editor.get(f"/backoffice/inhoud/{item_id}")).status_code == 404
        no_reason = await set_status(editor_client, item_id, "reject")
        assert no_reason.status_code == 422
        rejected = await set_status(editor_client, item_id, "reject", reason="Haal de naam van je werkgever eruit.")
        assert rejected.status_code == 303
        mine = await client.get("/f/angst-en-depressie/artikelen/mijn-verhalen")
        assert "Afgewezen" in mine.text
        assert "Haal de naam van je werkgever eruit." in mine.text
        await set_status(editor_client, item_id, "submit")
        await set_status(editor_client, item_id, "publish")
    async with await new_client(server) as public:
        page = await public.get("/f/angst-en-depressie/artikelen/?soort=story")
        assert "Weer naar buiten" in page.text
        assert "door schrijver1" in page.text
        assert "Weer naar buiten" not in (await public.get("/f/angst-en-depressie/artikelen/?soort=faq")).text


async def test_guests_cannot_submit_stories(server: RunningServer, client: httpx.AsyncClient) -> None:
    response = await client.get("/f/dwang/artikelen/verhaal-insturen")
    assert response.status_code == 303
    assert response.headers["location"].startswith("/inloggen?volgende=")


async def test_featured_items_show_on_the_home_page_in_the_editors_order(
    server: RunningServer, client: httpx.AsyncClient
) -> None:
    await login_as(server, client, staff("editor", "verslaving"))
    ids = []
    for title in ("Eerste tip", "Tweede tip", "Derde tip"):
        item_id = await create_item(client, title, ["verslaving"])
        await set_status(client, item_id, "publish")
        ids.append(item_id)
    for item_id in ids:
        response = await post_form(client, "/backoffice/uitgelicht?smaak=verslaving", "/backoffice/uitgelicht",
                                   {"flavour": "verslaving", "op": "add", "item": item_id})  # fmt: skip
        assert response.status_code == 303

    async def order() -> list[str]:
        home = (await client.get("/f/verslaving/")).text
        section = home.split('id="featured-title"', 1)[1].split("</section>", 1)[0]
        return re.findall(r"(Eerste|Tweede|Derde) tip", section)

    assert await order() == ["Eerste", "Tweede", "Derde"]
    await post_form(client, "/backoffice/uitgelicht?smaak=verslaving", "/backoffice/uitgelicht",
                    {"flavour": "verslaving", "op": "up", "item": ids[2]})  # fmt: skip
    assert await order() == ["Eerste", "Derde", "Tweede"]
    await post_form(client, "/backoffice/uitgelicht?smaak=verslaving", "/backoffice/uitgelicht",
                    {"flavour": "verslaving", "op": "remove", "item": ids[0]})  # fmt: skip
    assert await order() == ["Derde", "Tweede"]
    await set_status(client, ids[1], "unpublish")
    assert await order() == ["Derde"]


async def test_articles_section_is_in_every_flavour_nav_and_list_paginates(
    server: RunningServer, client: httpx.AsyncClient
) -> None:
    home = await client.get("/f/jongeren/")
    assert 'href="/f/jongeren/artikelen/"' in home.text
    await login_as(server, client, staff("admin"))
    for n in range(12):
        item_id = await create_item(client, f"Stuk nummer {n:02d}", ["jongeren"], kind="faq")
        await set_status(client, item_id, "publish")
    first = await client.get("/f/jongeren/artikelen/?soort=faq")
    second = await client.get("/f/jongeren/artikelen/?soort=faq&pagina=2")
    assert "Pagina 1 van 2" in first.text
    assert "Pagina 2 van 2" in second.text
    titles = set(re.findall(r"Stuk nummer \d\d", first.text)) | set(re.findall(r"Stuk nummer \d\d", second.text))
    assert len(titles) == 12


async def test_slugs_are_unique_and_reserved_words_are_avoided(
    server: RunningServer, client: httpx.AsyncClient
) -> None:
    await login_as(server, client, staff("admin"))
    first = await create_item(client, "Zelfde titel", ["dwang"])
    second = await create_item(client, "Zelfde titel", ["dwang"])
    reserved = await create_item(client, "Verhaal insturen", ["dwang"])
    service = content(server)
    slugs = [(await service.repo.get(i) or {}).get("slug") for i in (first, second, reserved)]
    assert slugs == ["zelfde-titel", "zelfde-titel-2", "verhaal-insturen-2"]


async def test_demo_seeder_publishes_shared_articles_once(server: RunningServer, client: httpx.AsyncClient) -> None:
    from chatserver.services.content_demo import seed_demo_content

    await seed_demo_content(server.services.content, server.services.catalog)
    await seed_demo_content(server.services.content, server.services.catalog)
    count = await server.services.db["content_items"].count_documents({"slug": "praten-helpt-zo-vind-je-steun"})
    assert count == 1
    for flavour in ("psychosenet", "proud2bme", "burn-out-en-werk"):
        home = await client.get(f"/f/{flavour}/")
        assert "Praten helpt: zo vind je steun" in home.text
    assert "Wat is een psychose?" in (await client.get("/f/psychosenet/artikelen/")).text


def _offered(html: str) -> set[str]:
    """The actions the status form offers (its submit buttons)."""
    return set(re.findall(r'<button type="submit" name="action" value="([a-z]+)"', html))


async def test_status_form_offers_only_allowed_transitions_and_publishing_twice_is_refused_without_a_bump(
    server: RunningServer, client: httpx.AsyncClient
) -> None:
    await login_as(server, client, staff("editor", "psychosenet"))
    item_id = await create_item(client, "Slapen met stemmen", ["psychosenet"])
    assert _offered((await client.get(f"/backoffice/inhoud/{item_id}")).text) == {"submit", "publish", "archive"}
    assert (await set_status(client, item_id, "publish")).status_code == 303
    page = await client.get(f"/backoffice/inhoud/{item_id}")
    assert _offered(page.text) == {"unpublish", "archive"}
    assert 'id="publish_at"' not in page.text and 'name="reason"' not in page.text
    items = server.services.db["content_items"]
    version = (await items.find_one({"_id": item_id}))["version"]
    again = await set_status(client, item_id, "publish")
    assert again.status_code == 409
    assert "al de status ‘Gepubliceerd’; er is niets veranderd" in again.text
    assert (await items.find_one({"_id": item_id}))["version"] == version
    wrong = await set_status(client, item_id, "reject", reason="nee")
    assert wrong.status_code == 409 and "‘Afwijzen’ kan niet bij een stuk met status ‘Gepubliceerd’" in wrong.text
    assert (await items.find_one({"_id": item_id}))["version"] == version


async def test_a_flavour_can_require_a_second_reviewer_before_publishing(
    server: RunningServer, client: httpx.AsyncClient
) -> None:
    # burn-out-en-werk.toml sets [content] second_reviewer = true; psychosenet does not.
    writer = staff("editor", "burn-out-en-werk", "psychosenet")
    await login_as(server, client, writer)
    item_id = await create_item(client, "Herbelevingen en slaap", ["burn-out-en-werk", "psychosenet"])
    assert (await set_status(client, item_id, "submit")).status_code == 303
    page = await client.get(f"/backoffice/inhoud/{item_id}")
    assert _offered(page.text) == {"archive", "reject", "draft"}
    assert "tweede redacteur" in page.text
    own = await set_status(client, item_id, "publish")
    assert own.status_code == 403 and "Een andere redacteur moet het goedkeuren" in own.text
    items = server.services.db["content_items"]
    assert (await items.find_one({"_id": item_id}))["status"] == "in_review"
    reviewer = staff("editor", "burn-out-en-werk", "psychosenet")
    async with await new_client(server) as second:
        await login_as(server, second, reviewer)
        assert "publish" in _offered((await second.get(f"/backoffice/inhoud/{item_id}")).text)
        assert (await set_status(second, item_id, "publish")).status_code == 303
    assert (await items.find_one({"_id": item_id}))["status"] == "published"
    audit = await server.services.db["content_audit"].find({"item_id": item_id}).sort("at", 1).to_list(10)
    assert [(a["action"], a["actor_id"]) for a in audit] == [
        ("submit", writer.account_id),
        ("publish", reviewer.account_id),
    ]
    assert audit[1]["second_reviewer"] is True and audit[1]["role"] == "editor"
    assert all("pseudonym" not in a for a in audit)


async def test_editorial_changes_send_no_live_events(server: RunningServer, captured_events: CapturedEvents) -> None:
    """Articles are read as pages: writing, publishing and featuring one stores and announces no server event."""
    service = content(server)
    editor = staff("editor", "psychosenet")
    captured_events.watch(server.services.chat)
    draft = Draft(kind="article", title="Stil gepubliceerd", body=BODY, flavours=("psychosenet",))
    item = await service.create(editor, draft)
    await service.change_status(editor, item["_id"], "publish")
    await service.change_featured(editor, "psychosenet", "add", item["_id"])
    # (The roster job may meanwhile alert the 1-on-1 queues; those are not content's.)
    assert [(ch, e) for ch, e in captured_events.stored() if not ch.startswith("queue:")] == []
    assert [(ch, n) for ch, n in captured_events.notices if not ch.startswith("queue:")] == []
