"""Forum flows over HTTP against the real server: threads, replies, pages, quotes, edits, staff, search, follows."""

from __future__ import annotations

import re

from chatserver.domain.channels import thread_channel, user_channel
from chatserver.protocol.events import AccountNotification, ForumPost, ForumPostEdited
from tests.events_capture import CapturedEvents

from ..conftest import RunningServer
from .content_helpers import login_as, member, new_client, post_form, staff
from .forum_helpers import FLAVOUR, FORUM, OPEN_CATEGORY, PREMODERATED_CATEGORY, approve_post, reply, start_thread


async def test_member_starts_thread_and_replies_and_guest_reads(server: RunningServer) -> None:
    async with await new_client(server) as alice, await new_client(server) as bob, await new_client(server) as guest:
        await login_as(server, alice, member("Anouk"))
        await login_as(server, bob, member("Bram"))
        response, thread_id = await start_thread(
            alice, "Slecht slapen na een opname", "Hoe gaan jullie **daarmee** om?"
        )
        assert response.status_code == 303, response.text[:300]
        answer = await reply(bob, thread_id, "Ik luister naar rustige muziek.")
        assert answer.status_code == 303
        page = await guest.get(f"{FORUM}/t/{thread_id}")
        assert page.status_code == 200
        assert "Slecht slapen na een opname" in page.text
        assert "<strong>daarmee</strong>" in page.text
        assert "Ik luister naar rustige muziek." in page.text
        assert 'name="body"' not in page.text  # guests read, they do not get a reply form
        listing = await guest.get(f"{FORUM}/c/ervaringen/")
        assert "Slecht slapen na een opname" in listing.text


async def test_pagination_has_twenty_posts_per_page(server: RunningServer) -> None:
    author = member("Pagina")
    async with await new_client(server) as client:
        await login_as(server, client, author)
        _, thread_id = await start_thread(client, "Een lang gesprek", "Bericht nul")
        forum = server.services.forum
        flavour = server.services.catalog.get("psychosenet")
        thread = await forum.repo.thread(thread_id)
        # Several writers: one account may post only ten times in a burst (the rate limit).
        writers = [author, *(member(f"Schrijver{i}") for i in range(3))]
        for n in range(1, 25):
            await forum.reply(writers[n % len(writers)], flavour, thread, f"Antwoord nummer {n}", "")
        first = await client.get(f"{FORUM}/t/{thread_id}")
        second = await client.get(f"{FORUM}/t/{thread_id}?pagina=2")
        assert first.text.count('<article class="forum-post') == 20
        assert second.text.count('<article class="forum-post') == 5
        assert "Pagina 1 van 2" in first.text and f'href="{FORUM}/t/{thread_id}?pagina=2"' in first.text
        assert "Antwoord nummer 24" in second.text and "Antwoord nummer 24" not in first.text


async def test_quote_prefills_reply_with_blockquote_and_author(server: RunningServer) -> None:
    async with await new_client(server) as client:
        await login_as(server, client, member("Citeerder"))
        _, thread_id = await start_thread(client, "Over citeren", "Eerste regel\nTweede regel")
        post = await server.services.db["forum_posts"].find_one({"thread_id": thread_id})
        page = await client.get(f"{FORUM}/t/{thread_id}?citeer={post['_id']}")
        assert "&gt; **Citeerder** schreef:" in page.text
        assert "&gt; Eerste regel\n&gt; Tweede regel" in page.text


async def test_edit_keeps_history_and_marks_post_edited(server: RunningServer) -> None:
    async with await new_client(server) as client, await new_client(server) as reader:
        await login_as(server, client, member("Schrijver"))
        _, thread_id = await start_thread(client, "Bewerken kan", "De eerste versie")
        post = await server.services.db["forum_posts"].find_one({"thread_id": thread_id})
        url = f"{FORUM}/t/{thread_id}/p/{post['_id']}/bewerken"
        response = await post_form(client, url, url, {"title": "Bewerken kan", "body": "De tweede versie"})
        assert response.status_code == 303
        page = await reader.get(f"{FORUM}/t/{thread_id}")
        assert "De tweede versie" in page.text and "bewerkt" in page.text
        history = await reader.get(f"{FORUM}/t/{thread_id}/p/{post['_id']}/versies")
        assert "De eerste versie" in history.text and "De tweede versie" in history.text
        other = await reader.get(url)
        assert other.status_code == 404  # a guest cannot edit someone else's post


async def test_staff_pin_and_lock_and_members_cannot(server: RunningServer) -> None:
    async with await new_client(server) as author, await new_client(server) as mod:
        await login_as(server, author, member("Lid"))
        await login_as(server, mod, staff("volunteer", "psychosenet"))
        _, thread_id = await start_thread(author, "Vastzetten en sluiten", "Inhoud")
        denied = await post_form(author, f"{FORUM}/t/{thread_id}", f"{FORUM}/t/{thread_id}/sluiten", {})
        assert denied.status_code == 404
        for action in ("vastzetten", "sluiten"):
            done = await post_form(mod, f"{FORUM}/t/{thread_id}", f"{FORUM}/t/{thread_id}/{action}", {})
            assert done.status_code == 303
        thread = await server.services.db["forum_threads"].find_one({"_id": thread_id})
        assert thread["pinned"] is True and thread["locked"] is True
        refused = await reply(author, thread_id, "Mag dit nog?")
        assert refused.status_code == 403 and "gesloten" in refused.text


async def test_search_finds_visible_posts_with_accent_folding_and_not_held_ones(server: RunningServer) -> None:
    async with await new_client(server) as client, await new_client(server) as newbie:
        await login_as(server, client, member("Zoeker"))
        await login_as(server, newbie, member("Nieuw"))
        await start_thread(client, "Ervaring met een crèche", "Een café vol mensen maakte me onrustig")
        await start_thread(newbie, "Geheime medicijnwissel", "Een zeldzaamwoord in de wachtrij", PREMODERATED_CATEGORY)
        found = await client.get(f"{FORUM}/zoeken", params={"q": "Creche CAFÉ"})
        assert "Ervaring met een crèche" in found.text
        hidden = await client.get(f"{FORUM}/zoeken", params={"q": "zeldzaamwoord"})
        assert "Geheime medicijnwissel" not in hidden.text and "0 resultaten" in hidden.text


async def test_follow_gives_notification_and_unread_count(server: RunningServer) -> None:
    follower = member("Volger")
    async with await new_client(server) as alice, await new_client(server) as bob:
        await login_as(server, alice, follower)
        await login_as(server, bob, member("Reageerder"))
        _, thread_id = await start_thread(alice, "Wie volgt er mee", "Start")
        # the author follows automatically; the button unfollows and follows again
        off = await post_form(alice, f"{FORUM}/t/{thread_id}", f"{FORUM}/t/{thread_id}/volgen", {"volgen": "0"})
        assert off.status_code == 303
        on = await post_form(alice, f"{FORUM}/t/{thread_id}", f"{FORUM}/t/{thread_id}/volgen", {"volgen": "1"})
        assert on.status_code == 303
        assert (await alice.get("/account/meldingen/aantal")).text.strip() == ""
        await reply(bob, thread_id, "Ik volg mee!")
        count = await alice.get("/account/meldingen/aantal")
        assert ">1<" in count.text
        page = await alice.get("/account/meldingen")
        assert "Nieuwe reactie van Reageerder" in page.text and "Wie volgt er mee" in page.text
        assert page.headers["cache-control"] == "no-store"
        await post_form(alice, "/account/meldingen", "/account/meldingen", {})
        assert (await alice.get("/account/meldingen/aantal")).text.strip() == ""


async def test_premoderated_post_is_visible_to_author_only_until_approved(server: RunningServer) -> None:
    moderator = staff("volunteer", "psychosenet")
    async with await new_client(server) as author, await new_client(server) as other:
        await login_as(server, author, member("Wachter"))
        await login_as(server, other, member("Ander"))
        response, thread_id = await start_thread(
            author, "Afbouwen van medicatie", "Wie heeft ervaring met afbouwen?", PREMODERATED_CATEGORY
        )
        assert "melding=wacht" in response.headers["location"]
        own = await author.get(f"{FORUM}/t/{thread_id}")
        assert own.status_code == 200 and "wacht op goedkeuring" in own.text
        assert (await other.get(f"{FORUM}/t/{thread_id}")).status_code == 404
        assert "Afbouwen van medicatie" not in (await other.get(f"{FORUM}/c/{PREMODERATED_CATEGORY}/")).text
        post = await server.services.db["forum_posts"].find_one({"thread_id": thread_id})
        await approve_post(server, moderator, post["_id"])
        seen = await other.get(f"{FORUM}/t/{thread_id}")
        assert seen.status_code == 200 and "Wie heeft ervaring met afbouwen?" in seen.text
        assert "wacht op goedkeuring" not in seen.text


async def test_unvalidated_member_gets_validation_link_and_guest_cannot_post(server: RunningServer) -> None:
    from chatserver.domain.identity import AccountId, Actor

    unvalidated = Actor(AccountId("acc-onbekend1"), "Ongevalideerd", "member", validated=False)
    async with await new_client(server) as client:
        await login_as(server, client, unvalidated)
        page = await client.get(f"{FORUM}/c/ervaringen/nieuw")
        assert 'href="/account/valideren"' in page.text and 'name="title"' not in page.text
        token = re.search(r'X-CSRF-Token": "([^"]+)"', page.text)
        assert token is not None
        response = await client.post(
            f"{FORUM}/c/ervaringen/nieuw",
            data={"csrf_token": token.group(1), "title": "Mag ik schrijven", "body": "Nog niet gevalideerd"},
        )
        assert response.status_code == 403 and "/account/valideren" in response.text
    assert await server.services.db["forum_threads"].count_documents({}) == 0


async def test_crisis_post_is_held_with_supportive_notice(server: RunningServer) -> None:
    async with await new_client(server) as client:
        await login_as(server, client, member("Zwaar"))
        response, thread_id = await start_thread(client, "Ik kan niet meer", "Ik wil er een einde aan maken vannacht")
        assert "melding=crisis" in response.headers["location"]
        page = await client.get(response.headers["location"], follow_redirects=True)
        assert "Je staat er niet alleen voor" in page.text and "113" in page.text
        thread = await server.services.db["forum_threads"].find_one({"_id": thread_id})
        assert thread["status"] == "held"


async def test_report_creates_moderation_item(server: RunningServer) -> None:
    async with await new_client(server) as author, await new_client(server) as reporter:
        await login_as(server, author, member("Auteur"))
        await login_as(server, reporter, member("Melder"))
        _, thread_id = await start_thread(author, "Een gewoon onderwerp", "Tekst die gemeld wordt")
        post = await server.services.db["forum_posts"].find_one({"thread_id": thread_id})
        url = f"{FORUM}/t/{thread_id}/p/{post['_id']}/melden"
        response = await post_form(reporter, url, url, {"reason": "Dit voelt als reclame"})
        assert response.status_code == 303
        item = await server.services.db["moderation_items"].find_one({"ref.id": post["_id"]})
        assert item is not None and item["source"] == "report"


async def test_a_reply_emits_the_post_and_notifies_the_follower_and_an_edit_emits_one_change(
    server: RunningServer, captured_events: CapturedEvents
) -> None:
    forum = server.services.forum
    flavour = server.services.catalog.get(FLAVOUR)
    assert flavour is not None
    starter, replier = member("Starter"), member("Antwoorder")
    posted = await forum.create_thread(starter, flavour, OPEN_CATEGORY, "Wie kent dit gevoel", "Het begin", "")
    thread = await forum.repo.thread(posted.thread_id)
    captured_events.watch(server.services.chat)
    reply_posted = await forum.reply(replier, flavour, thread, "Ik herken het", "")
    fragment = f"/f/{FLAVOUR}/forum/t/{posted.thread_id}/p/{reply_posted.post_id}"
    channel = thread_channel(FLAVOUR, posted.thread_id)
    url = fragment + "/ga"
    assert _without_queue_alerts(captured_events) == [
        (
            channel,
            ForumPost(
                post_id=reply_posted.post_id,
                thread_id=posted.thread_id,
                author="Antwoorder",
                role=None,
                fragment=fragment,
            ),
        ),
        (
            user_channel(str(starter.account_id)),
            AccountNotification(text="Nieuwe reactie van Antwoorder in “Wie kent dit gevoel”", url=url),
        ),
    ]
    captured_events.clear()
    post = await forum.repo.post(reply_posted.post_id)
    await forum.edit(replier, flavour, thread, post, "Ik herken het heel goed", None)
    edited = ForumPostEdited(post_id=reply_posted.post_id, fragment=fragment)
    assert _without_queue_alerts(captured_events) == [(channel, edited)]
    assert captured_events.notices == []


def _without_queue_alerts(captured: CapturedEvents) -> list[tuple[str, object]]:
    """The stored events of the test's action: the server's own roster job may alert on the queue channels."""
    return [(channel, event) for channel, event in captured.stored() if not channel.startswith("queue:")]
