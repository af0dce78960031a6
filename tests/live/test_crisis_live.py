"""A crisis line in a 1-on-1 chat over /ws: not held, the visitor's ack carries the crisis lines, the volunteer's
view gets the mark, and the professional on shift gets the alert on the moderation channel and their own channel."""

from __future__ import annotations

import time
from typing import Any

from chatserver.protocol import Ack, Event, Notice
from tests.integration.moderation_helpers import put_on_shift
from tests.integration.test_oneonone_support import staff as chat_staff
from tests.integration.test_oneonone_support import visitor
from tests.live.conftest import session_for, ws

FLAVOUR = "psychosenet"
CRISIS = "ik ga vanavond zelfmoord plegen"


async def test_one_on_one_crisis_line_reaches_volunteer_visitor_and_professional(server: Any) -> None:
    oneonone = server.services.oneonone
    vol, pro = chat_staff("volunteer"), chat_staff("professional")
    await put_on_shift(server, vol)
    await put_on_shift(server, pro)
    guest = visitor("Sterre", kind="guest")
    chat = await oneonone.request(guest, FLAVOUR, "")
    await oneonone.accept(vol, chat["_id"])
    channel = chat["channel"]
    async with (
        ws(server, await session_for(server, guest)) as writer,
        ws(server, await session_for(server, vol)) as volunteer,
        ws(server, await session_for(server, pro)) as professional,
    ):
        await writer.subscribe(channel)
        await volunteer.subscribe(channel)
        await professional.subscribe(f"mod:{FLAVOUR}")
        await professional.subscribe(f"user:{pro.account_id}")

        started = time.monotonic()
        ack = await writer.publish(channel, CRISIS)
        assert isinstance(ack, Ack) and not ack.held and ack.offset > 0
        assert ack.notice is not None and "113" in ack.notice and "0800-0113" in ack.notice and "112" in ack.notice

        def is_crisis_item(frame: Any) -> bool:
            return isinstance(frame, Event) and frame.kind == "moderation" and frame.data["event"] == "crisis"

        alert = await professional.expect(Event, timeout=1.0, where=is_crisis_item)
        assert time.monotonic() - started < 1.0
        assert alert.data["item"]["context_url"] == f"/backoffice/gesprekken/{chat['_id']}#bericht-{ack.offset}"
        assert "text" not in alert.data["item"]
        notice = await professional.expect(
            Notice, timeout=1.0, where=lambda f: f.kind == "notification" and f.data.get("type") == "crisis_alert"
        )
        assert notice.data["no_professional_on_shift"] is False

        mark = await volunteer.expect(
            Event, where=lambda f: f.kind == "chat" and f.data.get("event") == "crisis" and f.channel == channel
        )
        assert mark.data["offset"] == ack.offset
        line = [f for f in volunteer.seen if isinstance(f, Event) and f.kind == "message"]
        assert line and line[-1].offset == ack.offset and line[-1].data["text"] == CRISIS
