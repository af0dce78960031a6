"""Erasure on live channels: open pages get a delete (or rename) event, and replays never serve the old text."""

from __future__ import annotations

import secrets
from typing import Any

from chatserver.protocol import Event, Subscribed, Welcome
from chatserver.protocol.events import MessageDeleted, MessageEdited
from tests.events_capture import CapturedEvents
from tests.live.conftest import member, session_for, ws

ROOM = "room:psychosenet:naasten"


async def _account(server: Any) -> tuple[Any, str]:
    """A stored member account (erasure needs the document) and its session token."""
    identity = server.services.identity
    session = await identity.register_member(f"Weg{secrets.token_hex(3)}", "lange-wandeling-42", "ip")
    return session.actor, session.token


async def _erase_while_listening(server: Any, keep: bool) -> tuple[Any, Event, list[Any]]:
    author, token = await _account(server)
    marker = f"geheim-{secrets.token_hex(3)}"
    reader = member("lezer")
    async with ws(server, await session_for(server, reader)) as r, ws(server, token) as w:
        await r.expect(Welcome)
        await w.expect(Welcome)
        await r.subscribe(ROOM)
        ack = await w.publish(ROOM, f"Mijn bericht {marker}")
        seen = await r.expect(Event, where=lambda e: e.offset == ack.offset)
        assert marker in seen.data["text"]
        await server.services.identity.erase_account(author, keep_posts=keep)
        change = await r.expect(Event, where=lambda e: e.kind in ("delete", "edit"))
        # A page that reconnects from just before the message, while the channel is open here (memory replay).
        async with ws(server, await session_for(server, member())) as again:
            await again.expect(Welcome)
            sub = await again.subscribe(ROOM, since={"offset": ack.offset - 1, "epoch": seen.epoch})
            assert isinstance(sub, Subscribed)
            replayed = [await again.expect(Event) for _ in range(sub.replay)]
    return author, change, [marker, ack.offset, replayed]


async def test_removed_message_is_deleted_live_and_never_replayed(server: Any) -> None:
    author, change, (marker, offset, replayed) = await _erase_while_listening(server, keep=False)
    assert change.kind == "delete" and change.data == {"offset": offset}
    assert replayed, "the replay was empty"
    message = next(e for e in replayed if e.offset == offset)
    assert message.data["deleted"] is True and message.data["text"] == ""
    for event in replayed:
        text = repr(event.data)
        assert marker not in text and author.pseudonym not in text


async def test_kept_message_is_renamed_live_and_replayed_under_deleted_account(server: Any) -> None:
    author, change, (marker, offset, replayed) = await _erase_while_listening(server, keep=True)
    assert change.kind == "edit"
    assert change.data["offset"] == offset and change.data["sender"] == "verwijderd account"
    message = next(e for e in replayed if e.offset == offset)
    assert message.data["sender"] == "verwijderd account" and marker in message.data["text"]
    assert all(author.pseudonym not in repr(event.data) for event in replayed)


async def _two_messages_then_erase(server: Any, captured_events: CapturedEvents, keep: bool) -> list[int]:
    captured_events.watch(server.services.chat)
    author, token = await _account(server)
    async with ws(server, token) as w:
        await w.expect(Welcome)
        offsets = [(await w.publish(ROOM, f"bericht {n}")).offset for n in range(2)]
    captured_events.clear()
    await server.services.identity.erase_account(author, keep_posts=keep)
    return offsets


def _message_changes(captured_events: CapturedEvents) -> list[tuple[str, MessageDeleted | MessageEdited]]:
    """The delete and edit events sent, by offset (background jobs of the server may emit other kinds meanwhile)."""
    changes = [*captured_events.of(MessageDeleted), *captured_events.of(MessageEdited)]
    return sorted(changes, key=lambda item: item[1].offset)


async def test_erasing_removes_each_message_with_one_delete_event(server: Any, captured_events: CapturedEvents) -> None:
    offsets = await _two_messages_then_erase(server, captured_events, keep=False)
    assert _message_changes(captured_events) == [(ROOM, MessageDeleted(offset=offset)) for offset in offsets]


async def test_erasing_with_posts_kept_renames_each_message_with_one_edit_event(
    server: Any, captured_events: CapturedEvents
) -> None:
    offsets = await _two_messages_then_erase(server, captured_events, keep=True)
    assert _message_changes(captured_events) == [
        (ROOM, MessageEdited(offset=offset, text=f"bericht {n}", sender="verwijderd account"))
        for n, offset in enumerate(offsets)
    ]
