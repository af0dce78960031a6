"""A market entry's stable address is a link wherever people write: a forum post, a VraagBaak answer and a
spreekuur transcript turn ``/f/<flavour>/markt/<entry>`` (bare, as Markdown, or with the host) into a link that
leads to the entry; the entry page offers that address to copy."""

from __future__ import annotations

from datetime import timedelta

import httpx

from ..conftest import RunningServer
from .content_helpers import login_as, new_client, staff
from .forum_helpers import FORUM, start_thread
from .markt_helpers import markt
from .spreekuur_helpers import host_account, scheduled
from .spreekuur_helpers import service as spreekuur

ENTRY = "/f/psychosenet/markt/rustpunt-app"
LINK = f'<a href="{ENTRY}" rel="nofollow ugc noopener noreferrer">'
TEXT = (
    f"Mij hielp {ENTRY} (de app met ademoefeningen). Zie ook [de Slaapwijzer](/f/psychosenet/markt/slaapwijzer-website)"
    " en https://gem.example/f/psychosenet/markt/nachtlijn-hulplijn."
)


def assert_links(html: str) -> None:
    assert f"{LINK}{ENTRY}</a>" in html
    assert (
        '<a href="/f/psychosenet/markt/slaapwijzer-website" rel="nofollow ugc noopener noreferrer">de Slaapwijzer</a>'
        in html
    )
    assert '<a href="https://gem.example/f/psychosenet/markt/nachtlijn-hulplijn"' in html


async def test_a_forum_post_a_vraagbaak_answer_and_a_spreekuur_transcript_link_to_the_entry(
    server: RunningServer, client: httpx.AsyncClient
) -> None:
    await markt(server).seed_demo()
    peer = staff("peer_expert", "psychosenet", name="Ervaringsdeskundige2")
    await login_as(server, client, peer)
    # a forum post
    created, thread_id = await start_thread(client, "Wat helpt jou bij spanning?", TEXT)
    assert created.status_code == 303 and thread_id, created.text[:500]
    assert_links((await client.get(f"{FORUM}/t/{thread_id}")).text)
    # a VraagBaak answer, on the asker's private page
    desk = server.services.vraagbaak
    token, question = await desk.ask("Welke app helpt bij onrust voor het slapen?", "psychosenet", "test-ip")
    await desk.claim(peer, question["_id"])
    await desk.answer(peer, question["_id"], TEXT)
    async with await new_client(server) as asker:
        assert_links((await asker.get(f"/vraagbaak/v/{token}")).text)
    # a spreekuur transcript, on the spreekuur's page and as the article it becomes
    host = await host_account(server)
    session = await scheduled(server, host, starts_in=timedelta(minutes=-10))
    await spreekuur(server).close_now(host, session["_id"])
    await spreekuur(server).publish_transcript(staff("editor", "psychosenet"), session["_id"], "Verslag", TEXT)
    stored = await spreekuur(server).repo.get(session["_id"])
    assert stored is not None
    async with await new_client(server) as reader:
        assert_links((await reader.get(f"/f/psychosenet/artikelen/{stored['transcript']['content_slug']}")).text)
        # and the link leads to the entry
        assert (await reader.get(ENTRY)).status_code == 200


async def test_the_entry_page_offers_its_stable_address_to_copy(server: RunningServer) -> None:
    await markt(server).seed_demo()
    async with await new_client(server) as visitor:
        page = await visitor.get(ENTRY)
    assert page.status_code == 200
    assert f'id="share-link" value="{server.url}{ENTRY}" readonly' in page.text
    assert "Link om te delen" in page.text and "data-share-copy" in page.text
