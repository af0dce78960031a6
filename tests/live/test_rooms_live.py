"""Room rules over the live protocol: slow mode, hosted rooms, announcements, admin rooms, edit/delete events."""

from __future__ import annotations

import secrets

from chatserver.protocol import Ack, Error, Event, Subscribed, Welcome
from tests.live.conftest import member, session_for, staff, ws

WELKOM = "room:psychosenet:welkom"  # slow_mode_s = 10
HOSTED = "room:psychosenet:herstelcafe"


async def test_slow_mode_refuses_with_a_dutch_reason_and_the_wait(server) -> None:  # type: ignore[no-untyped-def]
    visitor = member("traag")
    async with ws(server, await session_for(server, visitor)) as c:
        await c.expect(Welcome)
        assert isinstance(await c.subscribe(WELKOM), Subscribed)
        first = await c.publish(WELKOM, "eerste", client_msg_id="slow-1")
        assert isinstance(first, Ack)
        retry = await c.publish(WELKOM, "eerste", client_msg_id="slow-1")  # a retry of the same message passes
        assert isinstance(retry, Ack) and retry.duplicate and retry.offset == first.offset
        second = await c.publish(WELKOM, "tweede")
        assert isinstance(second, Error) and second.code == 4210
        assert "langzame modus" in second.reason and "10 seconden" in second.reason
        assert "Wacht nog" in second.reason
    async with ws(server, await session_for(server, staff())) as s:  # staff are exempt
        await s.expect(Welcome)
        await s.subscribe(WELKOM)
        assert isinstance(await s.publish(WELKOM, "team 1"), Ack)
        assert isinstance(await s.publish(WELKOM, "team 2"), Ack)


async def test_hosted_room_is_closed_until_a_host_opens_it(server) -> None:  # type: ignore[no-untyped-def]
    rooms = server.services.rooms
    flavour = server.services.catalog.get("psychosenet")
    room = flavour.room("herstelcafe")
    visitor, host = member("bezoeker"), staff()
    async with ws(server, await session_for(server, visitor)) as v:
        await v.expect(Welcome)
        assert isinstance(await v.subscribe(HOSTED), Subscribed)  # reading is allowed
        closed = await v.publish(HOSTED, "hallo?")
        assert isinstance(closed, Error) and closed.code == 4202
        await rooms.set_open(host, flavour, room, True)
        opened = await v.expect(Event, where=lambda e: e.kind == "system")
        assert opened.data["text"].startswith("De host heeft de ruimte geopend") and opened.data["room_open"] is True
        assert isinstance(await v.publish(HOSTED, "hallo!"), Ack)
        await rooms.set_open(host, flavour, room, False)
        shut = await v.expect(Event, where=lambda e: e.kind == "system")
        assert "gesloten" in shut.data["text"]
        again = await v.publish(HOSTED, "nog iemand?")
        assert isinstance(again, Error) and again.code == 4202


async def test_announcements_only_staff_post(server) -> None:  # type: ignore[no-untyped-def]
    rooms = server.services.rooms
    await rooms.create_room(staff_admin(), {"flavour": "psychosenet", "slug": "mededelingen", "name": "Mededelingen",
                                             "mode": "announcements", "slow_mode_s": "0"})  # fmt: skip
    channel = "room:psychosenet:mededelingen"
    async with (
        ws(server, await session_for(server, member("lezer"))) as v,
        ws(server, await session_for(server, staff())) as s,
    ):
        await v.expect(Welcome)
        await s.expect(Welcome)
        assert isinstance(await v.subscribe(channel), Subscribed)
        await s.subscribe(channel)
        refused = await v.publish(channel, "mag ik ook?")
        assert isinstance(refused, Error) and refused.code == 4202
        assert isinstance(await s.publish(channel, "Nieuwe openingstijden"), Ack)
        event = await v.expect(Event)
        assert event.data["text"] == "Nieuwe openingstijden" and event.data["role"] == "Professional"


def staff_admin():  # type: ignore[no-untyped-def]
    from chatserver.domain.identity import AccountId, Actor

    return Actor(AccountId(secrets.token_hex(6)), "beheer", "staff", role="admin", validated=True, verified=True)


async def test_closed_admin_room_refuses_subscribers(server) -> None:  # type: ignore[no-untyped-def]
    rooms = server.services.rooms
    admin = staff_admin()
    await rooms.create_room(
        admin, {"flavour": "psychosenet", "slug": "tijdelijk", "name": "Tijdelijk", "mode": "guests"}
    )
    channel = "room:psychosenet:tijdelijk"
    async with ws(server, await session_for(server, member())) as c:
        await c.expect(Welcome)
        assert isinstance(await c.subscribe(channel), Subscribed)
        await rooms.set_room_active(admin, "psychosenet", "tijdelijk", False)
        assert isinstance(await c.publish(channel, "hoi"), Error)
    async with ws(server, await session_for(server, member())) as c:
        await c.expect(Welcome)
        refused = await c.subscribe(channel)
        assert isinstance(refused, Error) and refused.code == 4202


async def test_edit_and_delete_reach_subscribers_as_events(server) -> None:  # type: ignore[no-untyped-def]
    rooms = server.services.rooms
    flavour = server.services.catalog.get("psychosenet")
    room = flavour.room("stemmen-horen")
    channel = "room:psychosenet:stemmen-horen"
    alice, bob = member("alice"), member("bob")
    async with ws(server, await session_for(server, alice)) as a, ws(server, await session_for(server, bob)) as b:
        await a.expect(Welcome)
        await b.expect(Welcome)
        await a.subscribe(channel)
        await b.subscribe(channel)
        ack = await a.publish(channel, "tikfout")
        await b.expect(Event, where=lambda e: e.kind == "message")
        await rooms.edit(alice, flavour, room, ack.offset, "geen tikfout")
        edit = await b.expect(Event, where=lambda e: e.kind == "edit")
        assert edit.data == {"offset": ack.offset, "text": "geen tikfout"}
        await rooms.delete(alice, flavour, room, ack.offset)
        gone = await b.expect(Event, where=lambda e: e.kind == "delete")
        assert gone.data == {"offset": ack.offset} and gone.offset > edit.offset
    async with ws(server, await session_for(server, bob)) as late:  # history shows the message as it is now
        await late.expect(Welcome)
        await late.subscribe(channel, since={"offset": ack.offset - 1, "epoch": ack.epoch})
        replayed = await late.expect(Event, where=lambda e: e.offset == ack.offset)
        assert replayed.data["deleted"] is True and replayed.data["text"] == ""
