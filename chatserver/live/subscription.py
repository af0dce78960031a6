"""A subscribe: the channel rule, the hub, presence, and the replay of what the client missed.

A client that subscribes with ``since`` gets the events after that offset, in order, while the hub holds
live events for it back; then the held-back ones beyond the replay follow (``Hub.activate``). The replay
comes from this process's memory when the channel still holds every missed event (decision 0012), else
from the store; an epoch change or too long a gap answers ``reload`` instead (docs/protocol.md, "Recovery").
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from chatserver.domain.channels import check_channel
from chatserver.live.hub import Channel, HubUnavailable
from chatserver.live.outbox import text_frame
from chatserver.protocol import (
    MAX_REPLAY_EVENTS,
    ErrorCode,
    Position,
    PresenceSnapshot,
    Reload,
    Subscribe,
    Subscribed,
    encode_frame,
)
from chatserver.protocol.frames import ReloadReason

if TYPE_CHECKING:
    from chatserver.live.connection import Connection

log = logging.getLogger("chatserver.live")


@dataclass(frozen=True, slots=True)
class Replay:
    """What a subscribe gets: the framed events after its position up to ``last``, or a reload."""

    last: int
    frames: list[bytes] = field(default_factory=list)
    reload: ReloadReason | None = None
    from_memory: bool = False


async def subscribe(connection: Connection, frame: Subscribe) -> None:
    """Check the channel rule, join the hub, and answer ``subscribed`` (with a replay or a reload)."""
    actor = connection.actor
    assert actor is not None
    gateway = connection.gateway
    try:
        allowed = await check_channel(actor, frame.channel, "subscribe", gateway.catalog, gateway.resolvers)
    except Exception as exc:
        log.warning("channel check failed (%s)", type(exc).__name__)
        allowed = None
    if connection.gone():
        return
    if allowed is None or not allowed:
        connection.session.channels.discard(frame.channel)
        if allowed is not None:
            log.info("live subscribe refused: conn=%s rule=%s", connection.id, allowed.rule)
        code = ErrorCode.UNAVAILABLE if allowed is None else ErrorCode.FORBIDDEN
        connection.refuse(code, frame.id, frame.channel)
        return
    try:
        channel = await gateway.hub.join(frame.channel, connection)
    except HubUnavailable:
        connection.session.channels.discard(frame.channel)
        connection.refuse(ErrorCode.UNAVAILABLE, frame.id, frame.channel, 1000)
        return
    if connection.gone():
        gateway.hub.leave(frame.channel, connection)
        return
    presence = await gateway.channel_presence.join(frame.channel, connection)
    replay = _without_store(frame, channel)
    if replay is None:
        replay = await _from_store(connection, frame)
        if replay is None:  # the store is away; the client was told, and nobody sees it present there
            await gateway.channel_presence.leave(frame.channel, connection)
            return
    if not connection.gone():
        _answer(connection, frame, channel, presence, replay)


def _without_store(frame: Subscribe, channel: Channel) -> Replay | None:
    """The answer when the store need not be read (nothing missed, a reload, all in memory), else None."""
    since = frame.since
    if since is None:
        return Replay(last=channel.last)
    if since.epoch != channel.epoch:
        return Replay(last=channel.last, reload="epoch_changed")
    if channel.last - since.offset > MAX_REPLAY_EVENTS:
        return Replay(last=channel.last, reload="too_old")
    if since.offset >= channel.last:
        return Replay(last=since.offset)
    cached = channel.recent_after(since.offset)
    if cached is None:
        return None
    return Replay(last=channel.last, frames=cached, from_memory=True)


async def _from_store(connection: Connection, frame: Subscribe) -> Replay | None:
    """The missed events from the store; None when it cannot be read (the subscribe is then refused)."""
    assert frame.since is not None
    gateway = connection.gateway
    since = frame.since.offset
    try:
        rows = await gateway.chat.read_after(frame.channel, since, MAX_REPLAY_EVENTS + 1)
    except Exception as exc:
        log.warning("replay read failed (%s)", type(exc).__name__)
        gateway.hub.leave(frame.channel, connection)
        connection.session.channels.discard(frame.channel)
        connection.refuse(ErrorCode.UNAVAILABLE, frame.id, frame.channel, 1000)
        return None
    if len(rows) > MAX_REPLAY_EVENTS:
        return Replay(last=since, reload="too_old")
    if not rows:
        return Replay(last=since)
    return Replay(last=rows[-1][0], frames=[text_frame(event) for _, event in rows])


def _answer(
    connection: Connection, frame: Subscribe, channel: Channel, presence: PresenceSnapshot, replay: Replay
) -> None:
    """``subscribed`` and the replay in one write, then live events from the hub beyond the replay."""
    hub = connection.gateway.hub
    if replay.reload is not None:
        position = channel.position
        connection.send(Subscribed(id=frame.id, channel=frame.channel, position=position, presence=presence))
        connection.send(Reload(id=frame.id, channel=frame.channel, reason=replay.reload, position=position))
        hub.activate(channel, connection, position.offset)
        return
    if replay.from_memory:
        connection.gateway.replays_from_memory += 1
    position = Position(offset=replay.last, epoch=channel.epoch)
    answer = Subscribed(
        id=frame.id, channel=frame.channel, position=position, presence=presence, replay=len(replay.frames)
    )
    connection.write(b"".join((text_frame(encode_frame(answer)), *replay.frames)))
    hub.activate(channel, connection, replay.last)
