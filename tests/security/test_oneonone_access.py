"""Nobody but the participants reads a 1-on-1 chat: other visitors and staff of other flavours get 404."""

from __future__ import annotations

from typing import Any

import httpx

from chatserver.domain.channels import ChannelKind, parse_channel
from tests.integration.test_oneonone_support import FLAVOUR, login, staff, visitor
from tests.live.conftest import session_for, ws


async def _active_chat(server: Any) -> tuple[Any, Any, dict[str, Any]]:
    vol = staff("volunteer")
    await server.services.shifts.sign_on(vol, [FLAVOUR], 2)
    person = visitor()
    chat = await server.services.oneonone.request(person, FLAVOUR, "")
    await server.services.oneonone.accept(vol, chat["_id"])
    return person, vol, chat


async def test_other_visitor_and_other_flavour_staff_get_404(server: Any) -> None:
    person, _vol, chat = await _active_chat(server)
    visitor_url = f"/f/{FLAVOUR}/chat/gesprek/{chat['_id']}"
    outsiders = [
        (visitor(), [visitor_url, visitor_url + "/transcript.txt"]),
        (
            staff("professional", ("proud2bme",)),
            [f"/backoffice/gesprekken/{chat['_id']}", visitor_url + "/transcript.txt"],
        ),
        (staff("volunteer"), [f"/backoffice/gesprekken/{chat['_id']}"]),  # same flavour, not in the chat
        (staff("editor"), [f"/backoffice/gesprekken/{chat['_id']}"]),
    ]
    for actor, urls in outsiders:
        async with httpx.AsyncClient(base_url=server.url) as client:
            await login(server, client, actor)
            for url in urls:
                answer = await client.get(url)
                assert answer.status_code == 404, (actor.role, url)
    # the chat under another flavour's path does not exist either
    async with httpx.AsyncClient(base_url=server.url) as client:
        await login(server, client, person)
        assert (await client.get(f"/f/proud2bme/chat/gesprek/{chat['_id']}")).status_code == 404
        assert (await client.get(visitor_url + "/transcript.txt")).status_code == 200


async def test_channel_resolver_lists_only_participants(server: Any) -> None:
    person, vol, chat = await _active_chat(server)
    ref = parse_channel(chat["channel"])
    assert ref is not None and ref.kind is ChannelKind.CHAT
    facts = await server.services.oneonone.resolve(person, ref)
    assert facts.participants == frozenset({person.account_id, vol.account_id})
    wrong = parse_channel(f"chat:proud2bme:{chat['_id']}")
    assert wrong is not None
    assert not (await server.services.oneonone.resolve(person, wrong)).exists


async def test_outsider_cannot_subscribe_over_the_live_protocol(server: Any) -> None:
    from chatserver.protocol import Error, Subscribed

    person, vol, chat = await _active_chat(server)
    other_flavour_pro = staff("professional", ("proud2bme",))
    async with ws(server, await session_for(server, other_flavour_pro)) as conn:
        answer = await conn.subscribe(chat["channel"])
        assert isinstance(answer, Error) and answer.code == 4202
    async with ws(server, await session_for(server, person)) as conn:
        assert isinstance(await conn.subscribe(chat["channel"]), Subscribed)
    await server.services.oneonone.end(vol, chat["_id"], ["gehoord"])
    async with ws(server, await session_for(server, person)) as conn:
        answer = await conn.subscribe(chat["channel"])
        assert isinstance(answer, Error) and answer.code == 4202  # an ended chat takes no more messages
