"""Bad input at the upgrade and on the socket gets the documented status, error frame or close code."""

from __future__ import annotations

import json

import pytest
from websockets.asyncio.client import connect
from websockets.exceptions import InvalidStatus

from chatserver.protocol import CloseCode, Error, ErrorCode, Pong, Subscribed, Welcome
from tests.live.conftest import ORIGIN, member, session_for, ws

ROOM = "room:psychosenet:stemmen-horen"


@pytest.mark.parametrize(
    "origin", ["https://evil.example", "null", "https://chat.psychosenet.nl.evil.example", "http://chat.psychosenet.nl"]
)
async def test_foreign_null_and_lookalike_origins_get_403(server, origin: str) -> None:
    token = await session_for(server, member())
    with pytest.raises(InvalidStatus) as info:
        async with ws(server, token, origin=origin):
            pass
    assert info.value.response.status_code == 403


async def test_token_in_url_is_refused(server) -> None:
    token = await session_for(server, member())
    with pytest.raises(InvalidStatus) as info:
        async with connect(server.ws_url + f"?token={token}", origin=ORIGIN, open_timeout=5):  # type: ignore[arg-type]
            pass
    assert info.value.response.status_code == 400


async def test_missing_origin_ignores_the_cookie_and_requires_a_token(server) -> None:
    token = await session_for(server, member())
    async with ws(server, token, origin=None) as c:
        reply = await c.publish(ROOM, "hoi")
        assert isinstance(reply, Error) and reply.code == ErrorCode.UNAUTHENTICATED


async def test_missing_origin_with_bearer_header_works(server) -> None:
    token = await session_for(server, member("bearer"))
    async with connect(  # type: ignore[arg-type]
        server.ws_url, additional_headers={"Authorization": f"Bearer {token}"}, open_timeout=5
    ) as conn:
        welcome = json.loads(await conn.recv())
        assert welcome["type"] == "welcome" and welcome["pseudonym"] == "bearer"


async def test_hello_token_authenticates_a_non_browser_client(server) -> None:
    actor = member("token")
    await session_for(server, actor)
    sessions = server.services.sessions
    token = await session_for(server, actor)
    stored = await sessions.get(token)
    ws_token = await sessions.issue_ws_token(stored)
    async with ws(server, None, origin=None) as c:
        await c.send(type="hello", v=1, token=ws_token)
        welcome = await c.expect(Welcome)
        assert welcome.pseudonym == "token"


async def test_unknown_cookie_is_closed_with_session_ended(server) -> None:
    async with ws(server, "no-such-session") as c:
        assert await c.closed_code() == CloseCode.SESSION_ENDED


async def test_malformed_json_closes_with_protocol_error(server) -> None:
    async with ws(server, await session_for(server, member())) as c:
        await c.expect(Welcome)
        await c.conn.send("{not json")
        assert await c.closed_code() == CloseCode.PROTOCOL_ERROR


async def test_invalid_utf8_closes_with_protocol_error(server) -> None:
    async with ws(server, await session_for(server, member())) as c:
        await c.expect(Welcome)
        await c.conn.send(b'{"type":"ping","x":"\xff"}', text=True)
        assert await c.closed_code() == CloseCode.PROTOCOL_ERROR


async def test_binary_frame_closes_with_protocol_error(server) -> None:
    async with ws(server, await session_for(server, member())) as c:
        await c.expect(Welcome)
        await c.conn.send(b"\x00\x01")
        assert await c.closed_code() == CloseCode.PROTOCOL_ERROR


async def test_oversized_frame_closes_with_message_too_big(server) -> None:
    async with ws(server, await session_for(server, member()), max_size=None) as c:
        await c.expect(Welcome)
        await c.conn.send(json.dumps({"type": "ping", "pad": "x" * 70_000}))
        assert await c.closed_code() == CloseCode.MESSAGE_TOO_BIG


async def test_unknown_type_gets_an_error_frame_and_the_connection_stays(server) -> None:
    async with ws(server, await session_for(server, member())) as c:
        await c.expect(Welcome)
        await c.send(type="teleport", id=9)
        error = await c.expect(Error)
        assert error.code == ErrorCode.UNKNOWN_TYPE and error.id == 9
        await c.send(type="ping", id=10)
        assert (await c.expect(Pong)).id == 10


async def test_forbidden_channel_answers_forbidden(server) -> None:
    async with ws(server, await session_for(server, member())) as c:
        await c.expect(Welcome)
        for channel in (
            "room:psychosenet:intervisie",
            "room:psychosenet:team",
            "mod:psychosenet",
            "user:someone-else",
            "room:nope:x",
            "bogus",
        ):
            reply = await c.subscribe(channel)
            assert isinstance(reply, Error) and reply.code == ErrorCode.FORBIDDEN, channel
        ok = await c.subscribe(ROOM)
        assert isinstance(ok, Subscribed)


async def test_flood_is_rate_limited_then_closed(server) -> None:
    async with ws(server, await session_for(server, member())) as c:
        await c.expect(Welcome)
        assert isinstance(await c.subscribe(ROOM), Subscribed)
        for i in range(400):
            await c.send(type="publish", id=i + 100, channel=ROOM, client_msg_id=f"m{i}", body={"text": "spam"})
        assert await c.closed_code(timeout=8) == CloseCode.RATE_LIMIT_ABUSE
        limited = [f for f in c.seen if isinstance(f, Error) and f.code == ErrorCode.RATE_LIMITED]
        assert limited and all(f.retry_after_ms and f.retry_after_ms > 0 for f in limited)


async def test_revoked_session_closes_open_socket(server) -> None:
    token = await session_for(server, member())
    async with ws(server, token) as c:
        await c.expect(Welcome)
        await server.services.sessions.revoke_token(token)
        assert await c.closed_code() == CloseCode.SESSION_ENDED


async def test_deeply_nested_json_closes_with_protocol_error(server) -> None:
    frame = b'{"type":"ping","id":1,"x":' + b'{"a":' * 10_000 + b"1" + b"}" * 10_000 + b"}"
    assert len(frame) <= 65_536
    async with ws(server, await session_for(server, member())) as c:
        await c.expect(Welcome)
        await c.conn.send(frame, text=True)
        assert await c.closed_code() == CloseCode.PROTOCOL_ERROR
        assert c.conn.protocol.close_rcvd is not None and c.conn.protocol.close_rcvd.reason


async def test_error_frames_echo_only_request_ids_the_protocol_allows(server) -> None:
    async with ws(server, await session_for(server, member())) as c:
        await c.expect(Welcome)
        for rid in (2**53, 2**63, 2**64 + 1, -5):
            await c.conn.send(f'{{"type":"teleport","id":{rid}}}')
            error = await c.expect(Error)
            assert error.code == ErrorCode.UNKNOWN_TYPE and error.id is None, rid
        await c.conn.send(f'{{"type":"teleport","id":{2**53 - 1}}}')
        assert (await c.expect(Error)).id == 2**53 - 1
