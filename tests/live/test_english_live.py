"""The texts of error and ack frames follow the visitor's language (cookie gem_lang), as pages do."""

from __future__ import annotations

from typing import Any

from websockets.asyncio.client import connect

from chatserver.protocol import Error, ErrorCode
from tests.live.conftest import ORIGIN, WAIT_S, Client, member, session_for, staff

STAFF_ROOM = "room:psychosenet:intervisie"


async def refusal(server: Any, cookie: str) -> Error:
    async with connect(  # type: ignore[arg-type]
        server.ws_url, origin=ORIGIN, additional_headers={"Cookie": cookie}, open_timeout=WAIT_S, close_timeout=1
    ) as conn:
        reply = await Client(conn).subscribe(STAFF_ROOM)
    assert isinstance(reply, Error) and reply.code == ErrorCode.FORBIDDEN
    return reply


async def test_an_english_visitor_reads_the_refusal_in_english(server) -> None:
    token = await session_for(server, member("english"))
    reply = await refusal(server, f"gem_session={token}; gem_lang=en")
    assert reply.reason == "This channel does not exist or you do not have access to it."


async def test_dutch_stays_the_default_on_the_socket(server) -> None:
    token = await session_for(server, member("nederlands"))
    reply = await refusal(server, f"gem_session={token}")
    assert reply.reason == "Dit kanaal bestaat niet of je hebt er geen toegang toe."


async def test_a_staff_member_who_chose_english_too(server) -> None:
    token = await session_for(server, staff("trauma", "engels"))
    reply = await refusal(server, f"gem_lang=en; gem_session={token}")
    assert reply.reason.startswith("This channel")
