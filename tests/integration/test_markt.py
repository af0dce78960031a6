"""The VitaliteitsMarkt through the real server: the catalogue's workflow across flavours, finding, regions, the
read API and uptake counters."""

from __future__ import annotations

from datetime import datetime

import httpx

from chatserver.domain.markt import iso_week

from ..conftest import RunningServer
from .content_helpers import csrf_of, login_as, member, new_client, staff
from .markt_helpers import ENTRY_FORM, create_entry, markt, set_status

MARKT = "/f/psychosenet/markt"


async def test_entry_published_to_two_flavours_appears_on_both_and_drafts_are_404(
    server: RunningServer, client: httpx.AsyncClient
) -> None:
    await login_as(server, client, staff("editor", "psychosenet", "jongeren"))
    entry_id = await create_entry(client, ["psychosenet", "jongeren"])
    async with await new_client(server) as public:
        draft = await public.get(f"{MARKT}/kalmte-kompas")
        missing = await public.get(f"{MARKT}/bestaat-niet")
        assert draft.status_code == missing.status_code == 404
        assert "Kalmte Kompas" not in (await public.get(f"{MARKT}/")).text
        assert (await set_status(client, entry_id, "submit")).status_code == 303
        assert (await public.get(f"{MARKT}/kalmte-kompas")).status_code == 404
        assert (await set_status(client, entry_id, "publish")).status_code == 303
        for flavour in ("psychosenet", "jongeren"):
            listing = await public.get(f"/f/{flavour}/markt/")
            assert listing.status_code == 200 and "Kalmte Kompas" in listing.text
            detail = await public.get(f"/f/{flavour}/markt/kalmte-kompas")
            assert detail.status_code == 200
            assert "Oordeel van de redactie" in detail.text and "Ervaringen van leden" in detail.text
            assert "Gemaakt met psychologen van een universiteit." in detail.text  # the reason beside the score
            assert "Nog geen ervaringen van leden." in detail.text
        assert (await public.get("/f/trauma/markt/kalmte-kompas")).status_code == 404
        assert (await set_status(client, entry_id, "unpublish")).status_code == 303
        assert (await public.get(f"{MARKT}/kalmte-kompas")).status_code == 404


async def test_every_save_keeps_the_previous_version_and_a_stale_form_is_refused(
    server: RunningServer, client: httpx.AsyncClient
) -> None:
    await login_as(server, client, staff("editor", "psychosenet", name="redacteurM"))
    entry_id = await create_entry(client, ["psychosenet"])
    page = await client.get(f"/backoffice/markt/{entry_id}")
    data = {**ENTRY_FORM, "summary": "Tweede versie van de korte beschrijving.", "flavours": ["psychosenet"],
            "version": "1", "csrf_token": csrf_of(page.text)}  # fmt: skip
    assert (await client.post(f"/backoffice/markt/{entry_id}", data=data)).status_code == 303
    stale = await client.post(f"/backoffice/markt/{entry_id}", data=data)
    assert stale.status_code == 409 and "intussen opgeslagen" in stale.text
    page = await client.get(f"/backoffice/markt/{entry_id}")
    assert "Versie 1" in page.text and "versie 2" in page.text
    revision = await client.get(f"/backoffice/markt/{entry_id}/versies/1")
    assert revision.status_code == 200 and "Een app met korte oefeningen" in revision.text
    assert "Gemaakt met psychologen" in revision.text  # the old rating and its reason stay readable


async def test_bad_editor_input_gets_a_dutch_error_and_nothing_is_stored(
    server: RunningServer, client: httpx.AsyncClient
) -> None:
    await login_as(server, client, staff("editor", "psychosenet"))
    page = await client.get("/backoffice/markt/nieuw")
    cases = [
        ({"rating_privacy": "4", "rating_privacy_reason": ""}, "Leg de score bij privacy-transparantie uit"),
        ({"links": "Website | javascript:alert(1)"}, "Een link begint met https://"),
        ({"kind": "lokaal", "gemeenten": "Atlantis", "opening_hours": "ma", "org_name": "X"}, "kennen we niet"),
        ({"needs": []}, "Kies minstens één behoefte"),
        ({"title": " \u200b "}, "Vul de naam in"),
    ]
    for change, message in cases:
        data = {**ENTRY_FORM, **change, "flavours": ["psychosenet"], "csrf_token": csrf_of(page.text)}
        response = await client.post("/backoffice/markt/nieuw", data=data)
        assert response.status_code in (403, 422), (change, response.status_code)
        assert message in response.text, (change, response.text[:2000])
    outside = {**ENTRY_FORM, "flavours": ["trauma"], "csrf_token": csrf_of(page.text)}
    refused = await client.post("/backoffice/markt/nieuw", data=outside)
    assert refused.status_code == 403 and "geen redacteur" in refused.text
    assert await server.services.db["markt_entries"].count_documents({}) == 0


async def test_editor_of_another_flavour_and_members_get_404_in_the_backoffice(
    server: RunningServer, client: httpx.AsyncClient
) -> None:
    await login_as(server, client, staff("editor", "psychosenet"))
    entry_id = await create_entry(client, ["psychosenet"])
    async with await new_client(server) as other, await new_client(server) as visitor:
        await login_as(server, other, staff("editor", "trauma"))
        await login_as(server, visitor, member())
        assert (await other.get(f"/backoffice/markt/{entry_id}")).status_code == 404
        assert (await visitor.get(f"/backoffice/markt/{entry_id}")).status_code == 404
        assert (await visitor.get("/backoffice/markt")).status_code == 404


async def test_filters_sorting_and_search_without_text_index(server: RunningServer) -> None:
    await markt(server).seed_demo()
    async with await new_client(server) as public:
        everything = await public.get(f"{MARKT}/")
        assert "Rustpunt" in everything.text and "De Slaapwijzer" in everything.text
        sleep = await public.get(f"{MARKT}/?behoefte=slaap&soort=website")
        assert "De Slaapwijzer" in sleep.text and "Rustpunt (fictief" not in sleep.text
        free = await public.get(f"{MARKT}/?kosten=gratis&bewijs=effectief")
        assert "Stap voor stap" not in free.text  # effective but not free
        words = await public.get(f"{MARKT}/", params={"q": "ADEMHALING ontspanning"})
        assert "Rustpunt" in words.text and "Leven met stemmen" not in words.text
        folded = await public.get(f"{MARKT}/", params={"q": "somberhéid"})
        assert "Stap voor stap uit de somberheid" in folded.text
        online = await public.get(f"{MARKT}/?waar=online")
        assert "Koffie &amp; Kletsen" not in online.text
        hostile = await public.get(f"{MARKT}/", params={"behoefte": '{"$gt": ""}', "sorteer": "$where", "q": "x" * 500})
        assert hostile.status_code == 200
        by_name = await public.get(f"{MARKT}/?sorteer=naam")
        assert by_name.text.index("De Nachtlijn") < by_name.text.index("Rustpunt")
        by_reports = await public.get(f"{MARKT}/?sorteer=ervaringen&soort=app")
        assert "2 ervaringen van leden" in by_reports.text


async def test_guest_region_lives_in_a_session_cookie_and_shows_near_you(server: RunningServer) -> None:
    await markt(server).seed_demo()
    async with await new_client(server) as guest:
        form = await guest.get(f"{MARKT}/regio")
        refused = await guest.post(f"{MARKT}/regio", data={"csrf_token": csrf_of(form.text), "region": "Damstraat 1"})
        assert refused.status_code == 422 and "Kies een provincie" in refused.text
        chosen = await guest.post(f"{MARKT}/regio", data={"csrf_token": csrf_of(form.text), "region": "gm:GM0363"})
        assert chosen.status_code == 303
        cookie = next(v for k, v in chosen.headers.multi_items() if k == "set-cookie" and "gem_markt_regio" in v)
        assert "Max-Age" not in cookie and "HttpOnly" in cookie  # gone when the browser closes
        near = await guest.get(f"{MARKT}/")
        assert "Bij jou in de buurt" in near.text and "Koffie &amp; Kletsen Oost" in near.text
        assert "Herstelgroep na burn-out" not in near.text.split('id="results-title"')[0]
    assert await server.services.db["markt_regions"].count_documents({}) == 0  # nothing stored for a guest


async def test_member_region_is_an_account_setting_and_can_be_cleared(server: RunningServer) -> None:
    await markt(server).seed_demo()
    lid = member()
    async with await new_client(server) as client:
        await login_as(server, client, lid)
        form = await client.get(f"{MARKT}/regio")
        chosen = await client.post(f"{MARKT}/regio", data={"csrf_token": csrf_of(form.text), "region": "pv:utrecht"})
        assert chosen.status_code == 303 and "gem_markt_regio" not in chosen.headers.get("set-cookie", "")
        stored = await server.services.db["markt_regions"].find_one({"_id": str(lid.account_id)})
        assert (
            stored is not None and stored["region"] == "pv:utrecht" and set(stored) == {"_id", "region", "updated_at"}
        )
        assert "Herstelgroep na burn-out" in (await client.get(f"{MARKT}/")).text.split('id="results-title"')[0]
        form = await client.get(f"{MARKT}/regio")
        await client.post(f"{MARKT}/regio", data={"csrf_token": csrf_of(form.text), "action": "wissen"})
        assert await server.services.db["markt_regions"].count_documents({}) == 0


async def test_questionnaire_gives_a_shortlist_with_reasons(server: RunningServer) -> None:
    await markt(server).seed_demo()
    async with await new_client(server) as guest:
        form = await guest.get(f"{MARKT}/vragenlijst")
        empty = await guest.post(f"{MARKT}/vragenlijst", data={"csrf_token": csrf_of(form.text)})
        assert empty.status_code == 422 and "Kies minstens één onderwerp" in empty.text
        result = await guest.post(f"{MARKT}/vragenlijst", data={
            "csrf_token": csrf_of(form.text), "needs": ["slaap"], "formats": ["zelf"], "free_only": "1"})  # fmt: skip
        assert result.status_code == 200 and "Dit past misschien bij je" in result.text
        assert "Rustpunt" in result.text and "helpt bij slapen" in result.text
        assert "Stap voor stap" not in result.text  # not free
        assert "slaap" not in str(result.url)  # the answers are not put in the address


async def test_api_catalogue_entry_local_offers_regions_and_export(server: RunningServer) -> None:
    assert await markt(server).seed_demo() == 9
    assert await markt(server).seed_demo() == 0  # idempotent: nothing added the second time
    async with await new_client(server) as api:
        catalogue = (await api.get("/api/v1/markt/psychosenet/aanbod", params={"behoefte": "slaap"})).json()
        assert catalogue["count"] >= 2 and all("slaap" in e["needs"] for e in catalogue["entries"])
        entry = (await api.get("/api/v1/markt/psychosenet/aanbod/rustpunt-app")).json()
        assert entry["editorial_rating"]["privacy"]["score"] == 4 and entry["reports"]["count"] == 2
        assert entry["url"] == "/f/psychosenet/markt/rustpunt-app"
        missing = await api.get("/api/v1/markt/psychosenet/aanbod/bestaat-niet")
        assert missing.status_code == 404 and missing.headers["content-type"] == "application/problem+json"
        local = (await api.get("/api/v1/markt/psychosenet/lokaal", params={"regio": "gm:GM0014"})).json()
        assert [e["slug"] for e in local["entries"]] == ["lotgenoten-groningen"]
        bad = await api.get("/api/v1/markt/psychosenet/lokaal", params={"regio": "1234AB"})
        assert bad.status_code == 422
        regions = (await api.get("/api/v1/markt/regios")).json()
        assert "CBS" in regions["source"] and len(regions["regions"]) == 12 + 25 + 342
        export = (await api.get("/api/v1/markt/export")).json()
        assert export["count"] == 9 and all(e["entry"]["slug"] for e in export["entries"])


async def test_views_clicks_and_shortlists_are_counted_per_week_without_people(server: RunningServer) -> None:
    await markt(server).seed_demo()
    service = markt(server)
    async with await new_client(server) as guest:
        await guest.get(f"{MARKT}/rustpunt-app")
        await guest.get(f"{MARKT}/rustpunt-app")
        out = await guest.get(f"{MARKT}/rustpunt-app/naar/1")
        assert out.status_code == 303 and out.headers["location"] == "https://example.org/"
        assert (await guest.get(f"{MARKT}/rustpunt-app/naar/7")).status_code == 404
    await service.uptake.flush()
    week = iso_week(service.now().date())
    rows = {(r.key.entry_id, r.metric): r.count for r in await service.uptake.week(week, "psychosenet")}
    assert rows[("demo-rustpunt-app", "view")] == 2 and rows[("demo-rustpunt-app", "click")] == 1
    redis = server.services.redis
    keys = [k async for k in redis.scan_iter(match=f"{server.services.settings.redis_key_prefix}markt:*")]
    assert keys
    for key in keys:
        assert await redis.ttl(key) > 0  # every counter expires
        fields = [f.decode() if isinstance(f, bytes) else f for f in await redis.hkeys(key)]
        assert all(f.count("|") == 2 for f in fields)  # entry | region | metric: nothing about a person


def test_iso_week_is_the_counters_period() -> None:
    assert iso_week(datetime(2030, 1, 7).date()) == "2030-W02"
