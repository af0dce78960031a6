"""Crisis holds over /ws: the author gets the notice, nobody else sees the message, professionals get the alert."""

from __future__ import annotations

import asyncio
import time

import pytest

from chatserver.protocol import Ack, Event
from chatserver.services.moderation import StaffDecision
from tests.integration.moderation_helpers import put_on_shift, service_of, staff
from tests.live.conftest import member, session_for, ws

FLAVOUR = "psychosenet"
ROOM = f"room:{FLAVOUR}:stemmen-horen"
MOD = f"mod:{FLAVOUR}"
CRISIS = "ik wil niet meer leven, ik ga vannacht een einde aan mijn leven maken"


def is_moderation(event: str):  # type: ignore[no-untyped-def]
    return lambda f: isinstance(f, Event) and f.kind == "moderation" and f.data["event"] == event


async def test_crisis_message_is_held_alerted_and_released(server) -> None:  # type: ignore[no-untyped-def]
    author, bystander = member("Auteur"), member("Meelezer")
    first, second = staff("professional", FLAVOUR), staff("professional", FLAVOUR)
    await put_on_shift(server, first)
    async with (
        ws(server, await session_for(server, author)) as writer,
        ws(server, await session_for(server, bystander)) as reader,
        ws(server, await session_for(server, first)) as console_a,
        ws(server, await session_for(server, second)) as console_b,
    ):
        for client, channel in ((writer, ROOM), (reader, ROOM), (console_a, MOD), (console_b, MOD)):
            subscribed = await client.subscribe(channel)
            assert getattr(subscribed, "channel", None) == channel, subscribed

        started = time.monotonic()
        ack = await writer.publish(ROOM, CRISIS)
        assert isinstance(ack, Ack) and ack.held and ack.offset == 0
        assert ack.notice is not None and "113" in ack.notice and "0800-0113" in ack.notice and "112" in ack.notice
        alert = await console_a.expect(Event, timeout=1.0, where=is_moderation("crisis"))
        assert time.monotonic() - started < 1.0
        item = alert.data["item"]
        assert item["tier"] == "professional" and item["severity"] == "critical" and item["crisis"] is True
        assert "text" not in item  # the text is fetched with access checks, never broadcast
        await console_b.expect(Event, timeout=1.0, where=is_moderation("crisis"))

        with pytest.raises(TimeoutError):
            await reader.expect(Event, timeout=0.3)

        service = service_of(server)
        await service.claim(first, item["id"])
        claimed = await console_b.expect(Event, where=is_moderation("claimed"))
        assert claimed.data["item"]["claimed_by"] == first.account_id
        await service.decide(first, item["id"], StaffDecision("release", reason="Vals alarm: een songtekst"))

        released = await reader.expect(Event, where=lambda f: isinstance(f, Event) and f.kind == "message")
        assert released.data["text"] == CRISIS and released.data["sender"] == "Auteur"
        decided = await console_b.expect(Event, where=is_moderation("decided"))
        assert decided.data["item"]["id"] == item["id"] and decided.data["item"]["decision"] == "release"
        await console_a.expect(Event, where=is_moderation("decided"))


async def test_crisis_without_professional_goes_to_peer_experts(server) -> None:  # type: ignore[no-untyped-def]
    author = member()
    peer = staff("peer_expert", FLAVOUR)
    async with (
        ws(server, await session_for(server, author)) as writer,
        ws(server, await session_for(server, peer)) as console,
    ):
        await writer.subscribe(ROOM)
        await console.subscribe(MOD)
        ack = await writer.publish(ROOM, CRISIS)
        assert ack.held
        alert = await console.expect(Event, timeout=1.0, where=is_moderation("crisis"))
        assert alert.data["item"]["tier"] == "peer_expert"
        assert alert.data["item"]["no_professional_on_shift"] is True
    # Held items are MongoDB documents: they survive a restart of the process.
    await asyncio.sleep(0)
    queue = await service_of(server).queue(peer)
    assert [v.text for v in queue] == [CRISIS]
