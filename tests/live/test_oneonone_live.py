"""1-on-1 chat over the live protocol: position notices on the user channel, then both sides exchange messages."""

from __future__ import annotations

from typing import Any

from chatserver.protocol import Ack, Event, Notice, Subscribed
from tests.integration.test_oneonone_support import FLAVOUR, staff, visitor

from .conftest import session_for, ws


async def test_position_notices_then_accept_and_exchange(server: Any) -> None:
    oneonone = server.services.oneonone
    vol = staff("volunteer", name="Vera")
    await server.services.shifts.sign_on(vol, [FLAVOUR], 2)
    first, second = visitor(), visitor()
    chat_one = await oneonone.request(first, FLAVOUR, "")
    async with ws(server, await session_for(server, second)) as visitor_conn, \
            ws(server, await session_for(server, vol)) as staff_conn:  # fmt: skip
        assert isinstance(await visitor_conn.subscribe(f"user:{second.account_id}"), Subscribed)
        assert isinstance(await staff_conn.subscribe(f"queue:{FLAVOUR}"), Subscribed)
        chat_two = await oneonone.request(second, FLAVOUR, "")
        notice = await visitor_conn.expect(Notice, where=lambda f: f.kind == "queue")
        assert notice.data["position"] == 2 and notice.data["staff_on_shift"] == 1
        assert notice.data["estimated_wait_min"] >= 1
        queued = await staff_conn.expect(Event, where=lambda f: f.kind == "queue" and f.data.get("event") == "joined")
        assert queued.data["waiting"] == 2
        await oneonone.accept(vol, chat_one["_id"])
        moved = await visitor_conn.expect(Notice, where=lambda f: f.kind == "queue" and f.data.get("position") == 1)
        assert moved.data["chat_id"] == chat_two["_id"]
        await oneonone.accept(vol, chat_two["_id"])
        active = await visitor_conn.expect(
            Notice, where=lambda f: f.kind == "queue" and f.data.get("status") == "active"
        )
        assert active.data["staff"] == "Vera"
        channel = chat_two["channel"]
        assert isinstance(await visitor_conn.subscribe(channel, since={"offset": 0, "epoch": ""}), Subscribed)
        assert isinstance(await staff_conn.subscribe(channel), Subscribed)
        ack = await visitor_conn.publish(channel, "Hoi, ik wil even praten.")
        assert isinstance(ack, Ack)
        got = await staff_conn.expect(Event, where=lambda f: f.kind == "message")
        assert got.data["text"] == "Hoi, ik wil even praten."
        assert isinstance(await staff_conn.publish(channel, "Fijn dat je er bent."), Ack)
        reply = await visitor_conn.expect(Event, where=lambda f: f.kind == "message" and f.data.get("role"))
        assert reply.data["text"] == "Fijn dat je er bent." and reply.data["role"] == "Vrijwilliger"
