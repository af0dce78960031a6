"""Attacks on content and the VraagBaak: editor scope, role checks, draft leaks, XSS in every field, tokens."""

from __future__ import annotations

import re

import httpx
import pytest

from ..conftest import RunningServer
from ..integration.content_helpers import csrf_of, login_as, member, new_client, post_form, staff
from ..integration.test_content import create_item, set_status

XSS = '<script>alert(1)</script><img src=x onerror=alert(2)> hx-get="/x" {{ 7*7 }} [k](javascript:alert(3))'


def assert_inert(html: str) -> None:
    assert "<script>alert(1)" not in html
    assert "<img src=x" not in html
    assert 'href="javascript:' not in html
    assert "onerror=alert" not in html or "&lt;img" in html


async def test_editor_of_one_flavour_cannot_create_for_another_and_gets_a_dutch_reason(
    server: RunningServer, client: httpx.AsyncClient
) -> None:
    await login_as(server, client, staff("editor", "psychosenet"))
    page = await client.get("/backoffice/inhoud/nieuw")
    data = {"csrf_token": csrf_of(page.text), "kind": "article", "title": "Ongeoorloofd", "body": "tekst",
            "flavours": ["psychosenet", "proud2bme"]}  # fmt: skip
    response = await client.post("/backoffice/inhoud/nieuw", data=data)
    assert response.status_code == 403
    assert "Je bent geen redacteur van Proud2Bme" in response.text
    assert 'aria-describedby="flavours-error"' in response.text
    assert await server.services.db["content_items"].count_documents({}) == 0


async def test_editor_cannot_see_edit_publish_or_feature_items_outside_their_scope(
    server: RunningServer, client: httpx.AsyncClient
) -> None:
    await login_as(server, client, staff("editor", "trauma"))
    item_id = await create_item(client, "Alleen trauma", ["trauma"])
    async with await new_client(server) as intruder:
        await login_as(server, intruder, staff("editor", "dwang"))
        assert (await intruder.get(f"/backoffice/inhoud/{item_id}")).status_code == 404
        assert (await intruder.get(f"/backoffice/inhoud/{item_id}/versies/1")).status_code == 404
        assert "Alleen trauma" not in (await intruder.get("/backoffice/inhoud")).text
        token = csrf_of((await intruder.get("/backoffice/inhoud/nieuw")).text)
        publish = await intruder.post(f"/backoffice/inhoud/{item_id}/status",
                                      data={"csrf_token": token, "action": "publish"})  # fmt: skip
        assert publish.status_code == 404
        save = await intruder.post(f"/backoffice/inhoud/{item_id}", data={
            "csrf_token": token, "version": "1", "kind": "article", "title": "Gekaapt", "body": "x",
            "flavours": ["dwang"]})  # fmt: skip
        assert save.status_code == 404
        feature = await intruder.post(
            "/backoffice/uitgelicht", data={"csrf_token": token, "flavour": "trauma", "op": "add", "item": item_id}
        )
        assert feature.status_code == 404
        assert (await intruder.get("/backoffice/uitgelicht?smaak=trauma")).status_code == 404
    doc = await server.services.db["content_items"].find_one({"_id": item_id})
    assert doc is not None
    assert doc["status"] == "draft"
    assert doc["title"] == "Alleen trauma"


@pytest.mark.parametrize("role", ["volunteer", "peer_expert", "professional"])
async def test_staff_without_editor_role_and_members_get_404_in_the_content_backoffice(
    server: RunningServer, client: httpx.AsyncClient, role: str
) -> None:
    await login_as(server, client, staff(role, "trauma"))  # type: ignore[arg-type]
    assert (await client.get("/backoffice/inhoud")).status_code == 404
    assert (await client.get("/backoffice/inhoud/nieuw")).status_code == 404
    async with await new_client(server) as lid:
        await login_as(server, lid, member())
        assert (await lid.get("/backoffice/inhoud")).status_code == 404
        assert (await lid.get("/backoffice/uitgelicht")).status_code == 404
    async with await new_client(server) as anonymous:
        response = await anonymous.get("/backoffice/inhoud")
        assert response.status_code == 303
        assert response.headers["location"].startswith("/staff/inloggen")


async def test_forms_without_csrf_are_refused(server: RunningServer, client: httpx.AsyncClient) -> None:
    await login_as(server, client, staff("admin"))
    response = await client.post("/backoffice/inhoud/nieuw", data={"kind": "article", "title": "x", "body": "y"})
    assert response.status_code == 403
    assert await server.services.db["content_items"].count_documents({}) == 0


async def test_xss_in_every_content_field_is_inert(server: RunningServer, client: httpx.AsyncClient) -> None:
    await login_as(server, client, staff("admin"))
    page = await client.get("/backoffice/inhoud/nieuw")
    data = {"csrf_token": csrf_of(page.text), "kind": "article", "category": "zelfhulp", "title": "Titel " + XSS[:60],
            "summary": XSS, "body": XSS, "flavours": ["dwang"]}  # fmt: skip
    response = await client.post("/backoffice/inhoud/nieuw", data=data)
    assert response.status_code == 303
    item_id = response.headers["location"].split("/")[-1].split("?")[0]
    assert_inert((await client.get(f"/backoffice/inhoud/{item_id}")).text)
    await set_status(client, item_id, "publish")
    doc = await server.services.db["content_items"].find_one({"_id": item_id})
    assert doc is not None
    async with await new_client(server) as public:
        for url in ("/f/dwang/artikelen/", f"/f/dwang/artikelen/{doc['slug']}"):
            html = (await public.get(url)).text
            assert_inert(html)
            assert "{{ 7*7 }}" in html or "49" not in html
    await set_status(client, item_id, "draft")
    story = await post_form(client, "/f/dwang/artikelen/verhaal-insturen", "/f/dwang/artikelen/verhaal-insturen",
                            {"title": XSS[:100], "body": XSS * 2})  # fmt: skip
    assert story.status_code == 303
    assert_inert((await client.get("/f/dwang/artikelen/mijn-verhalen")).text)
    assert_inert((await client.get("/backoffice/inhoud?status=in_review")).text)


async def test_vraagbaak_xss_in_question_answer_note_and_link_is_inert(
    server: RunningServer, client: httpx.AsyncClient
) -> None:
    asked = await post_form(client, "/vraagbaak/", "/vraagbaak/", {"text": XSS})
    assert asked.status_code == 303
    private = asked.headers["location"].split("?")[0]
    assert_inert((await client.get(private)).text)
    async with await new_client(server) as desk:
        await login_as(server, desk, staff("volunteer", "dwang"))
        queue = await desk.get("/backoffice/vraagbaak")
        assert_inert(queue.text)
        question_id = re.search(r'href="/backoffice/vraagbaak/([0-9a-f]{32})"', queue.text).group(1)  # type: ignore[union-attr]
        detail = await desk.get(f"/backoffice/vraagbaak/{question_id}")
        assert_inert(detail.text)
        url = f"/backoffice/vraagbaak/{question_id}"
        hostile = {"action": "route", "flavour": "dwang", "note": XSS, "url": "javascript:alert(1)"}
        bad_link = await post_form(desk, url, url, hostile)
        assert bad_link.status_code == 422
        routed = await post_form(desk, f"/backoffice/vraagbaak/{question_id}", f"/backoffice/vraagbaak/{question_id}",
                                 {"action": "route", "flavour": "dwang", "note": XSS, "url": ""})  # fmt: skip
        assert routed.status_code == 303
        answered = await post_form(
            desk,
            f"/backoffice/vraagbaak/{question_id}",
            f"/backoffice/vraagbaak/{question_id}",
            {"action": "answer", "answer": XSS},
        )
        assert answered.status_code == 303
    assert_inert((await client.get(private)).text)


async def test_vraagbaak_wrong_or_malformed_token_is_404_and_staff_scope_holds(
    server: RunningServer, client: httpx.AsyncClient
) -> None:
    for token in ("x" * 43, "a" * 300, "%24gt", "tok.en"):
        response = await client.get(f"/vraagbaak/v/{token}")
        assert response.status_code == 404
        assert response.headers["cache-control"] == "no-store"
    asked = await post_form(client, "/f/trauma/vraagbaak/", "/f/trauma/vraagbaak/",
                            {"text": "Hoe vind ik een traumatherapeut bij mij in de buurt?"})  # fmt: skip
    assert asked.status_code == 303
    doc = await server.services.db["vraagbaak_questions"].find_one({})
    assert doc is not None
    token = asked.headers["location"].split("/")[-1].split("?")[0]
    assert token not in str(doc)
    async with await new_client(server) as other:
        await login_as(server, other, staff("professional", "dwang"))
        assert (await other.get(f"/backoffice/vraagbaak/{doc['_id']}")).status_code == 404
        assert "traumatherapeut" not in (await other.get("/backoffice/vraagbaak")).text
        csrf = csrf_of((await other.get("/vraagbaak/")).text)
        stolen = await other.post(f"/backoffice/vraagbaak/{doc['_id']}",
                                  data={"csrf_token": csrf, "action": "answer", "answer": "x"})  # fmt: skip
        assert stolen.status_code == 404
    async with await new_client(server) as lid:
        await login_as(server, lid, member())
        assert (await lid.get("/backoffice/vraagbaak")).status_code == 404
