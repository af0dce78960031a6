"""Channel → local connections, one Redis subscription per channel per process.

The first local member of a channel subscribes it, the last one leaving
unsubscribes. Every event arrives once from Redis, is framed once, and the same
bytes are written to every local socket without awaiting, through each member's
one write method (``Connection.write``). Each channel keeps
the last offset it delivered: a repeat is dropped, a gap (or any reconnect of
the pub/sub connection) refills from the store in order before live delivery
resumes.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections import deque
from collections.abc import Callable, Coroutine
from typing import Any, Protocol

from chatserver.live.outbox import text_frame
from chatserver.metrics import DELIVERIES, FANOUT_SECONDS
from chatserver.ports import BrokerUnavailable, LiveBroker
from chatserver.protocol import MAX_REPLAY_EVENTS, Position, Reload, ServerFrame, encode_frame
from chatserver.services.chat import ChatService

log = logging.getLogger("chatserver.hub")

# A hole in a channel's offsets is usually another process's write still in
# flight; wait this long for it before skipping it (a failed write never fills).
HOLE_WAIT_S = 3.0
HOLE_POLL_S = 0.05
# Events per channel kept in memory for replays (see Channel.recent).
RECENT_EVENTS = 256
# An event that changes an earlier one (a removal, an edit, an erasure): the framed originals in memory are no
# longer what a replay may serve. Encoded events carry ``"kind":"…"`` exactly so (msgspec, no spaces); a text
# that contains these bytes is escaped (``\"kind\"``), so only a real kind matches. A false match (a feature's
# nested ``kind``) costs one replay from the store, never a wrong frame.
RETRACTING_KINDS = (b'"kind":"delete"', b'"kind":"edit"')

Write = Callable[[bytes], None]
Spawn = Callable[[Coroutine[Any, Any, None]], None]


class HubUnavailable(Exception):
    """A channel could not be opened (Redis or the store is away)."""


class Member(Protocol):
    def write(self, data: bytes) -> None:
        """The member's one socket write; it should not raise (a failed write is the member's to close)."""

    def write_failed(self) -> None:
        """A write raised anyway: close this member; called soon, not inside a write."""


class Channel:
    __slots__ = (
        "buffer", "dirty", "epoch", "key", "lagging", "last", "name", "out", "pending", "ready", "recent",
        "resyncing", "schedule", "writers",
    )  # fmt: skip

    def __init__(self, name: str, key: bytes, schedule: Callable[[Channel], None] | None = None) -> None:
        self.name = name
        self.key = key
        self.epoch = ""
        self.last = 0
        self.writers: dict[Member, Write] = {}
        self.pending: dict[Member, list[tuple[int, bytes]]] = {}
        # Members whose replay from the store ran ahead of what this process delivered: they get
        # live events only beyond their replay, then become ordinary writers.
        self.lagging: dict[Member, int] = {}
        self.ready: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        self.resyncing = True  # until the first position is known
        self.buffer: list[tuple[int, bytes]] = []
        # Frames for the writers, written at the end of this loop turn: several events of one turn
        # (one Redis read) reach each socket in one write() instead of one each.
        self.out: list[bytes] = []
        self.dirty = False
        self.schedule = schedule
        # The last events this process delivered, consecutive and framed: a client that reconnects with a
        # position inside this window is replayed from memory instead of the store (a reconnect storm).
        self.recent: deque[tuple[int, bytes]] = deque(maxlen=RECENT_EVENTS)

    @property
    def position(self) -> Position:
        return Position(offset=self.last, epoch=self.epoch)

    def send(self, frame: bytes) -> None:
        """Queue ``frame`` for every writer; without a scheduler it is written at once."""
        if not self.writers:
            return
        self.out.append(frame)
        if self.schedule is None:
            self.flush()
        elif not self.dirty:
            self.dirty = True
            self.schedule(self)

    def flush(self) -> None:
        """Write what this turn queued; must run before the set of writers changes."""
        self.dirty = False
        out = self.out
        if not out:
            return
        data = out[0] if len(out) == 1 else b"".join(out)
        _count_deliveries(len(out) * len(self.writers))  # once per channel per turn, never per socket
        out.clear()
        broken: list[Member] | None = None
        for member, write in self.writers.items():
            try:
                write(data)
            except Exception:  # one socket's failure must not cost the others this frame (or the channel)
                if broken is None:
                    broken = []
                broken.append(member)
        if broken is not None:
            for member in broken:
                self.drop_broken(member)

    def drop_broken(self, member: Member) -> None:
        """``member``'s transport refused a write: it gets nothing more here and is told to close."""
        self.writers.pop(member, None)
        self.lagging.pop(member, None)
        self.pending.pop(member, None)
        log.info("a write to a closed socket failed; that connection is closed")
        asyncio.get_running_loop().call_soon(member.write_failed)

    def recent_after(self, offset: int) -> list[bytes] | None:
        """The frames after ``offset`` if memory holds every one of them, else None (read the store)."""
        recent = self.recent
        if not recent or offset < recent[0][0] - 1 or offset > self.last:
            return None
        return [frame for o, frame in recent if o > offset]

    def forget_recent(self) -> None:
        self.recent.clear()

    def deliver(self, offset: int, frame: bytes) -> None:
        if offset != self.last + 1 or _retracts(frame):
            # A skipped offset: memory is no longer the whole story. A delete or edit: memory holds the
            # old text, and the store (which has the tombstone) must answer replays from here on.
            self.recent.clear()
        self.last = offset
        self.recent.append((offset, frame))
        self.send(frame)
        if self.pending:
            for queue in self.pending.values():
                queue.append((offset, frame))
        if self.lagging:
            for member, after in list(self.lagging.items()):
                if offset > after:
                    try:
                        member.write(frame)
                    except Exception:
                        self.drop_broken(member)
                        continue
                if offset >= after:
                    self.flush()  # what is queued is at or below its replay: not for this member
                    del self.lagging[member]
                    self.writers[member] = member.write

    def members(self) -> int:
        return len(self.writers) + len(self.pending) + len(self.lagging)


_count_deliveries = DELIVERIES.inc
_observe_fanout = FANOUT_SECONDS.observe


def _retracts(frame: bytes) -> bool:
    return RETRACTING_KINDS[0] in frame or RETRACTING_KINDS[1] in frame


class Hub:
    def __init__(
        self,
        broker: LiveBroker,
        chat: ChatService,
        live_key: Callable[[str], str],
        spawn: Spawn,
        on_system: Callable[[bytes, bytes], None] | None = None,
    ) -> None:
        self.broker = broker
        self.chat = chat
        self.live_key = live_key
        self.spawn = spawn
        self.on_system = on_system
        self.channels: dict[bytes, Channel] = {}
        self.resyncs = 0
        self._dirty: list[Channel] = []
        self.flushes = 0
        self._turn_started = 0.0  # when the first channel of this loop turn queued a frame

    # --- membership ------------------------------------------------------------

    async def join(self, name: str, member: Member) -> Channel:
        """Add ``member`` as pending (events are queued for it) and return the ready channel."""
        key = self.live_key(name).encode()
        channel = self.channels.get(key)
        if channel is None:
            channel = Channel(name, key, self._schedule)
            self.channels[key] = channel
            channel.pending[member] = []
            try:
                await self.broker.subscribe(key.decode())
                channel.epoch = await self.chat.epoch(name)
                channel.last = await self.chat.last_offset(name)
            except Exception as exc:
                if self.channels.get(key) is channel:
                    del self.channels[key]
                channel.ready.set_exception(HubUnavailable(type(exc).__name__))
                channel.ready.exception()  # retrieved: joiners waiting get it too
                self._unsubscribe_later(key)
                log.warning("opening channel failed (%s: %s)", type(exc).__name__, exc)
                raise HubUnavailable(type(exc).__name__) from exc
            self._finish_resync(channel)
            channel.ready.set_result(None)
            return channel
        channel.pending[member] = []
        try:
            await asyncio.shield(channel.ready)
        except HubUnavailable:
            channel.pending.pop(member, None)
            raise
        return channel

    def activate(self, channel: Channel, member: Member, after_offset: int) -> None:
        """Send what queued for ``member`` beyond ``after_offset``, then write to it live."""
        queued = channel.pending.pop(member, None)
        if queued is None:
            return
        channel.flush()  # queued frames are in ``queued`` already
        missed = [frame for offset, frame in queued if offset > after_offset]
        if missed:
            try:
                member.write(missed[0] if len(missed) == 1 else b"".join(missed))
            except Exception:
                channel.drop_broken(member)
                return
        if channel.last >= after_offset:
            channel.writers[member] = member.write
        else:
            channel.lagging[member] = after_offset

    def leave(self, name: str, member: Member) -> None:
        key = self.live_key(name).encode()
        channel = self.channels.get(key)
        if channel is None:
            return
        channel.flush()
        channel.writers.pop(member, None)
        channel.pending.pop(member, None)
        channel.lagging.pop(member, None)
        if channel.members() == 0 and channel.ready.done():
            del self.channels[key]
            self._unsubscribe_later(key)

    def _schedule(self, channel: Channel) -> None:
        if not self._dirty:
            loop = asyncio.get_running_loop()
            self._turn_started = loop.time()
            loop.call_soon(self._flush)
        self._dirty.append(channel)

    def _flush(self) -> None:
        """End of the loop turn: one write per socket for everything its channels queued."""
        dirty, self._dirty = self._dirty, []
        self.flushes += 1
        _observe_fanout(asyncio.get_running_loop().time() - self._turn_started)
        for channel in dirty:
            try:
                channel.flush()
            except Exception:  # never leave the other channels unflushed (and marked dirty for good)
                channel.dirty = False
                log.exception("flushing channel %s failed", channel.name)

    async def broadcast(self, channel: str, frame: ServerFrame) -> None:
        """A notice without an offset (presence, typing) to every subscriber in every process."""
        await self.broker.publish(self.live_key(channel), b"P" + encode_frame(frame))

    def _unsubscribe_later(self, key: bytes) -> None:
        async def unsubscribe() -> None:
            if key not in self.channels:  # nobody came back meanwhile
                await self.broker.unsubscribe(key.decode())

        self.spawn(unsubscribe())

    # --- from Redis ------------------------------------------------------------

    def on_message(self, key: bytes, payload: bytes) -> None:
        channel = self.channels.get(key)
        if channel is None:
            if self.on_system is not None:
                self.on_system(key, payload)
            return
        if payload[:1] == b"E":
            newline = payload.find(b"\n")
            offset = int(payload[1:newline])
            if offset <= channel.last and not channel.resyncing:
                return
            frame = text_frame(payload[newline + 1 :])
            if channel.resyncing:
                channel.buffer.append((offset, frame))
                return
            if offset != channel.last + 1:
                channel.buffer.append((offset, frame))
                self._start_resync(channel)
                return
            channel.deliver(offset, frame)
        else:
            channel.send(text_frame(payload[1:]))

    def on_reconnect(self, keys: set[bytes]) -> None:
        """Pub/sub may have lost messages of these channels (a reconnect, a moved slot): refill them from the store."""
        for key in keys:
            channel = self.channels.get(key)
            if channel is not None and channel.ready.done() and not channel.resyncing:
                self._start_resync(channel)

    def _start_resync(self, channel: Channel) -> None:
        channel.resyncing = True
        self.resyncs += 1
        self.spawn(self._resync(channel))

    async def _resync(self, channel: Channel) -> None:
        """Refill from the store; wait briefly for holes (another process's write in flight)."""
        loop = asyncio.get_running_loop()
        deadline = loop.time() + HOLE_WAIT_S
        try:
            while True:
                rows = await self._read_after(channel)
                if len(rows) > MAX_REPLAY_EVENTS:
                    self._reload(channel, rows[-1][0])
                    return
                expected = channel.last + 1
                for offset, event in rows:
                    if offset == expected or (offset > expected and loop.time() >= deadline):
                        channel.deliver(offset, text_frame(event))
                        expected = offset + 1
                    elif offset > expected:
                        break  # a hole: an earlier offset is not stored yet
                waiting = any(o > channel.last for o, _ in channel.buffer) or (rows and rows[-1][0] > channel.last)
                if not waiting or loop.time() >= deadline:
                    return
                await asyncio.sleep(HOLE_POLL_S)
        finally:
            with contextlib.suppress(Exception):
                epoch = await self.chat.epoch(channel.name)
                if epoch != channel.epoch:
                    channel.forget_recent()
                channel.epoch = epoch
            self._finish_resync(channel)

    async def _read_after(self, channel: Channel) -> list[tuple[int, bytes]]:
        for _ in range(10):
            try:
                return await self.chat.read_after(channel.name, channel.last, MAX_REPLAY_EVENTS + 1)
            except Exception as exc:
                log.warning("refilling a channel failed (%s); retrying", type(exc).__name__)
                await asyncio.sleep(0.5)
        return []

    def _reload(self, channel: Channel, newest: int) -> None:
        reload = Reload(id=0, channel=channel.name, reason="too_old", position=channel.position)
        channel.last = newest
        channel.forget_recent()
        channel.flush()
        channel.send(text_frame(encode_frame(reload)))

    def _finish_resync(self, channel: Channel) -> None:
        buffered, channel.buffer = sorted(channel.buffer), []
        for offset, frame in buffered:
            if offset > channel.last:
                channel.deliver(offset, frame)
        channel.resyncing = False


__all__ = ["BrokerUnavailable", "Channel", "Hub", "HubUnavailable", "Member"]
