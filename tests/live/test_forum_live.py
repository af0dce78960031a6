"""A new forum reply arrives as one "post" event on the thread's live channel; a held reply does not."""

from __future__ import annotations

from typing import Any

from chatserver.protocol import Event, Subscribed

from .conftest import member, session_for, ws


async def test_reply_arrives_on_thread_channel(server: Any) -> None:
    services = server.services
    forum = services.forum
    flavour = services.catalog.get("psychosenet")
    author = member("Schrijver", validated=True)
    reader = member("Lezer", validated=True)
    posted = await forum.create_thread(author, flavour, "ervaringen", "Live meelezen", "Eerste bericht", "")
    thread = await forum.repo.thread(posted.thread_id)
    channel = f"thread:psychosenet:{posted.thread_id}"
    async with ws(server, await session_for(server, reader)) as client:
        subscribed = await client.subscribe(channel)
        assert isinstance(subscribed, Subscribed)
        reply = await forum.reply(author, flavour, thread, "Een nieuwe reactie", "")
        event = await client.expect(Event, where=lambda f: f.channel == channel)
        assert event.kind == "post"
        assert event.data["post_id"] == reply.post_id
        assert event.data["author"] == "Schrijver"
        assert event.data["fragment"].endswith(f"/p/{reply.post_id}")
        events = [f for f in client.seen if isinstance(f, Event) and f.channel == channel]
        assert len(events) == 1


async def test_unknown_thread_channel_is_refused(server: Any) -> None:
    from chatserver.protocol import Error

    async with ws(server, await session_for(server, member("Nieuwsgierig"))) as client:
        answer = await client.subscribe("thread:psychosenet:0000000000000000")
        assert isinstance(answer, Error) and answer.code == 4202


async def test_an_edit_arrives_with_the_fragment_to_refetch(server: Any) -> None:
    services = server.services
    forum = services.forum
    flavour = services.catalog.get("psychosenet")
    author = member("Bewerker", validated=True)
    posted = await forum.create_thread(author, flavour, "ervaringen", "Een bewerking", "Eerste versie", "")
    thread = await forum.repo.thread(posted.thread_id)
    post = await forum.repo.post(posted.post_id)
    channel = f"thread:psychosenet:{posted.thread_id}"
    async with ws(server, await session_for(server, member("Meelezer", validated=True))) as client:
        assert isinstance(await client.subscribe(channel), Subscribed)
        await forum.edit(author, flavour, thread, post, "Tweede versie", None)
        event = await client.expect(Event, where=lambda f: f.channel == channel and f.kind == "post_edited")
        assert event.data["post_id"] == posted.post_id
        assert event.data["fragment"] == f"/f/psychosenet/forum/t/{posted.thread_id}/p/{posted.post_id}"
