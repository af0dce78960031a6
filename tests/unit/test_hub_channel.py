"""A channel's writes within one loop turn: coalesced per socket, never doubled, never reordered."""

from __future__ import annotations

import asyncio

from chatserver.live.hub import Channel, Hub


class Sock:
    def __init__(self) -> None:
        self.writes: list[bytes] = []
        self.failed = 0

    def write(self, data: bytes) -> None:
        self.writes.append(data)

    def write_failed(self) -> None:
        self.failed += 1


class ClosedSock(Sock):
    """What uvloop does between a reset and connection_lost: every write raises."""

    def write(self, data: bytes) -> None:
        raise RuntimeError("unable to perform operation on <TCPTransport closed=True>; the handler is closed")


def _channel() -> tuple[Channel, list[Channel]]:
    scheduled: list[Channel] = []
    channel = Channel("room:f:r", b"k", scheduled.append)
    channel.resyncing = False
    return channel, scheduled


async def test_events_of_one_turn_reach_each_socket_in_one_write() -> None:
    channel, scheduled = _channel()
    a, b = Sock(), Sock()
    channel.writers = {a: a.write, b: b.write}
    channel.deliver(1, b"<1>")
    channel.deliver(2, b"<2>")
    channel.deliver(3, b"<3>")
    assert a.writes == [] and scheduled == [channel]  # scheduled once, written at the end of the turn
    channel.flush()
    assert a.writes == b.writes == [b"<1><2><3>"]
    channel.deliver(4, b"<4>")
    channel.flush()
    assert a.writes[-1] == b"<4>"  # a lone event is written as it is, not copied


async def test_a_member_activated_mid_turn_gets_queued_frames_once() -> None:
    channel, _ = _channel()
    old, new = Sock(), Sock()
    channel.writers = {old: old.write}
    channel.pending[new] = []
    channel.deliver(1, b"<1>")
    # what Hub.activate does: flush, then hand over the member's own queue
    channel.flush()
    queued = channel.pending.pop(new)
    for _, frame in queued:
        new.write(frame)
    channel.writers[new] = new.write
    channel.deliver(2, b"<2>")
    channel.flush()
    assert old.writes == [b"<1>", b"<2>"]
    assert new.writes == [b"<1>", b"<2>"]


async def test_a_lagging_member_joins_without_duplicates() -> None:
    channel, _ = _channel()
    live, lag = Sock(), Sock()
    channel.writers = {live: live.write}
    channel.last = 3
    channel.lagging[lag] = 5  # its replay already went up to offset 5
    for offset in (4, 5, 6):
        channel.deliver(offset, b"<%d>" % offset)
    channel.flush()
    assert b"".join(live.writes) == b"<4><5><6>"
    assert b"".join(lag.writes) == b"<6>"
    assert lag in channel.writers and not channel.lagging


async def test_without_a_scheduler_frames_are_written_at_once() -> None:
    channel = Channel("room:f:r", b"k")
    sock = Sock()
    channel.writers = {sock: sock.write}
    channel.deliver(1, b"<1>")
    assert sock.writes == [b"<1>"]


async def test_memory_answers_a_replay_only_when_it_holds_every_missed_event() -> None:
    channel, _ = _channel()
    channel.last = 10  # opened at offset 10: memory starts empty
    assert channel.recent_after(5) is None
    for offset in (11, 12, 13):
        channel.deliver(offset, b"<%d>" % offset)
    assert channel.recent_after(10) == [b"<11>", b"<12>", b"<13>"]
    assert channel.recent_after(12) == [b"<13>"]
    assert channel.recent_after(9) is None  # offset 10 was never in memory
    channel.deliver(15, b"<15>")  # 14 skipped: memory no longer tells the whole story
    assert channel.recent_after(12) is None
    assert channel.recent_after(14) == [b"<15>"]
    channel.forget_recent()
    assert channel.recent_after(14) is None


async def test_a_socket_whose_write_raises_costs_the_others_nothing() -> None:
    channel, _ = _channel()
    before, dead, after = Sock(), ClosedSock(), Sock()
    channel.writers = {before: before.write, dead: dead.write, after: after.write}
    channel.deliver(1, b"<1>")
    channel.flush()
    assert before.writes == after.writes == [b"<1>"]
    assert dead not in channel.writers
    await asyncio.sleep(0)
    assert dead.failed == 1  # told to close itself, outside the write loop
    channel.deliver(2, b"<2>")
    channel.flush()
    assert before.writes == after.writes == [b"<1>", b"<2>"]


async def test_a_lagging_socket_whose_write_raises_is_dropped() -> None:
    channel, _ = _channel()
    live, dead = Sock(), ClosedSock()
    channel.writers = {live: live.write}
    channel.lagging[dead] = 0
    channel.deliver(1, b"<1>")
    channel.flush()
    assert live.writes == [b"<1>"] and dead not in channel.lagging and dead not in channel.writers
    await asyncio.sleep(0)
    assert dead.failed == 1


async def test_one_broken_socket_in_two_channels_does_not_stop_the_end_of_turn_flush() -> None:
    hub = Hub.__new__(Hub)  # only the end-of-turn flush is exercised: no broker, no store
    hub._dirty = []
    hub.flushes = 0
    dead = ClosedSock()
    rooms = [Channel(f"room:f:{i}", b"k%d" % i, hub._schedule) for i in range(3)]
    listeners = [Sock() for _ in rooms]
    for room, listener in zip(rooms, listeners, strict=True):
        room.resyncing = False
        room.writers = {dead: dead.write, listener: listener.write}
        room.deliver(1, b"<%s>" % room.name.encode())
    await asyncio.sleep(0)  # the hub's flush at the end of the turn
    for room, listener in zip(rooms, listeners, strict=True):
        assert listener.writes == [b"<%s>" % room.name.encode()]
        assert not room.dirty
