"""Forum access and injection: cross-flavour 404, inert XSS and hx-* attributes, guests cannot post, NoSQL operators."""

from __future__ import annotations

import re

from ..conftest import RunningServer
from ..integration.content_helpers import login_as, member, new_client
from ..integration.forum_helpers import FORUM, reply, start_thread


async def test_forum_security(server: RunningServer) -> None:
    async with await new_client(server) as author, await new_client(server) as guest:
        await login_as(server, author, member("Aanvaller"))
        title = "<script>alert(1)</script><img src=x onerror=alert(2)> {{ 7*7 }}"
        body = (
            '<div hx-get="/account/verwijderen" hx-trigger="load">x</div>\n\n'
            '[klik](javascript:alert(3)) <a href="https://e.example" hx-post="/uitloggen">a</a>\n\n'
            "https://voorbeeld.nl/pagina"
        )
        response, thread_id = await start_thread(author, title, body)
        assert response.status_code == 303
        page = await guest.get(f"{FORUM}/t/{thread_id}")
        html = page.text
        assert "<script>alert(1)" not in html and "<img src=x" not in html
        assert "&lt;script&gt;" in html and "{{ 7*7 }}" in html
        assert re.search(r"<[^<>]*\shx-[a-z]+=", html.split('id="main"')[1]) is None  # hx-* only as inert text
        assert 'href="javascript' not in html
        assert 'href="https://voorbeeld.nl/pagina" rel="nofollow ugc noopener noreferrer"' in html

        # another flavour does not have this thread; nor its fragments, history or search results
        for path in (f"/t/{thread_id}", f"/t/{thread_id}/reageren"):
            other = await guest.get(f"/f/proud2bme/forum{path}")
            assert other.status_code in (404, 405)
        assert (await guest.get(f"/f/proud2bme/forum/t/{thread_id}")).status_code == 404
        found = await guest.get("/f/proud2bme/forum/zoeken", params={"q": "voorbeeld"})
        assert thread_id not in found.text

        # guests cannot post: no form, and a forged post is refused (CSRF or login)
        assert 'name="body"' not in html
        forged = await guest.post(f"{FORUM}/t/{thread_id}/reageren", data={"body": "gast"})
        assert forged.status_code in (403, 404)

        # NoSQL operators and odd values in query parameters are plain strings
        for query in (
            {"pagina[$gt]": "1"},
            {"q[$ne]": ""},
            {"citeer[$gt]": ""},
            {"pagina": "-5"},
            {"q": '{"$gt": ""}'},
        ):
            odd = await guest.get(f"{FORUM}/t/{thread_id}", params=query)
            assert odd.status_code == 200
            search = await guest.get(f"{FORUM}/zoeken", params=query)
            assert search.status_code == 200
        assert (await guest.get(f"{FORUM}/t/%7B%22$gt%22:%22%22%7D")).status_code == 404
        answer = await reply(author, thread_id, "Een gewone reactie")
        assert answer.status_code == 303
    count = await server.services.db["forum_posts"].count_documents({"thread_id": thread_id})
    assert count == 2
