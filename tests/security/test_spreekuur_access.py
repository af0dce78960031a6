"""E-spreekuur access: other flavours answer 404, only staff of the flavour moderate, user text stays inert."""

from __future__ import annotations

import re

from chatserver.domain.channels import spreekuur_channel
from chatserver.protocol import Error, Subscribed

from ..conftest import RunningServer
from ..integration.content_helpers import csrf_of, login_as, member, new_client, staff
from ..integration.spreekuur_helpers import host_account, scheduled, service
from ..live.conftest import session_for, ws

XSS = '<script>alert(1)</script><img src=x onerror=alert(2)> {{ 7*7 }} hx-get="/x"'


async def test_other_flavour_and_unknown_ids_answer_404(server: RunningServer) -> None:
    host = await host_account(server)
    doc = await scheduled(server, host)
    sid = doc["_id"]
    async with await new_client(server) as client:
        assert (await client.get(f"/f/proud2bme/spreekuur/{sid}/")).status_code == 404
        assert (await client.get(f"/f/proud2bme/spreekuur/{sid}/stroom.json")).status_code == 404
        assert (await client.get("/f/psychosenet/spreekuur/bestaatniet/")).status_code == 404
        await login_as(server, client, staff("professional", "proud2bme"))
        for path in (
            f"/backoffice/spreekuren/{sid}",
            f"/backoffice/spreekuren/{sid}/wachtrij",
            f"/backoffice/spreekuren/{sid}/verslag",
        ):
            assert (await client.get(path)).status_code == 404, path
        listing = await client.get("/backoffice/spreekuren")
        assert sid not in listing.text


async def test_only_staff_of_the_flavour_decide(server: RunningServer) -> None:
    host = await host_account(server)
    doc = await scheduled(server, host)
    svc = service(server)
    asked = await svc.ask(member(), doc, "Een gewone vraag over slapen", False)
    action = f"/backoffice/spreekuren/{doc['_id']}/vragen/{asked.question_id}/goedkeuren"
    for actor in (member(), staff("volunteer", "proud2bme"), staff("editor", "proud2bme")):
        async with await new_client(server) as client:
            await login_as(server, client, actor)
            page = await client.get(f"/f/psychosenet/spreekuur/{doc['_id']}/")
            response = await client.post(action, data={"csrf_token": csrf_of(page.text)})
            assert response.status_code == 404, actor
    async with await new_client(server) as anonymous:
        response = await anonymous.post(action, data={})
        assert response.status_code in (303, 403)
    question = await svc.repo.question(asked.question_id)
    assert question is not None and question["status"] == "pending"
    async with await new_client(server) as client:
        await login_as(server, client, staff("editor", "proud2bme"))
        page = await client.get("/f/proud2bme/spreekuur/")
        starts = "2030-01-01T20:00"
        form = {
            "csrf_token": csrf_of((await client.get("/backoffice/spreekuren/nieuw")).text),
            "flavour": "psychosenet",
            "title": "Niet mijn community",
            "starts_at": starts,
            "ends_at": "2030-01-01T21:00",
            "capacity": "10",
        }
        assert page.status_code == 200
        assert (await client.post("/backoffice/spreekuren/nieuw", data=form)).status_code == 403


async def test_question_text_is_inert_everywhere(server: RunningServer) -> None:
    host = await host_account(server)
    doc = await scheduled(server, host)
    svc = service(server)
    asked = await svc.ask(member(name="Vlinder"), doc, XSS, True)
    async with await new_client(server) as client:
        await login_as(server, client, host)
        console = await client.get(f"/backoffice/spreekuren/{doc['_id']}")
        assert "<script>alert(1)" not in console.text and "&lt;script&gt;" in console.text
    await svc.approve(host, asked.question_id)
    await svc.open_now(host, doc["_id"])
    await svc.answer(host, asked.question_id, "<b>vet</b><iframe src=//evil>")
    async with await new_client(server) as reader:
        page = await reader.get(f"/f/psychosenet/spreekuur/{doc['_id']}/")
        stream = page.text.split('id="sq-stream"')[1].split("</ol>")[0]
        assert "<script>" not in stream and "<img" not in stream and "<iframe" not in stream and "<b>" not in stream
        # 49 standing alone would be the evaluated template; ids are hex and may contain "49".
        assert "{{ 7*7 }}" in stream and not re.search(r"(?<![0-9a-f])49(?![0-9a-f])", stream)
        assert not re.search(r"<[^>]*\shx-get=", stream)
        feed = await reader.get("/f/psychosenet/spreekuur/agenda.ics")
        assert feed.status_code == 200


async def test_live_channel_of_an_unknown_spreekuur_is_refused(server: RunningServer) -> None:
    host = await host_account(server)
    doc = await scheduled(server, host)
    visitor = member()
    token = await session_for(server, visitor)
    async with ws(server, token) as client:
        await client.recv()  # welcome
        unknown = await client.subscribe(spreekuur_channel("psychosenet", "bestaatniet"))
        assert isinstance(unknown, Error) and unknown.code == 4202
        wrong_flavour = await client.subscribe(spreekuur_channel("proud2bme", doc["_id"]))
        assert isinstance(wrong_flavour, Error) and wrong_flavour.code == 4202
        ok = await client.subscribe(spreekuur_channel("psychosenet", doc["_id"]))
        assert isinstance(ok, Subscribed)
        published = await client.publish(spreekuur_channel("psychosenet", doc["_id"]), "ik ben geen host")
        assert isinstance(published, Error) and published.code == 4202
