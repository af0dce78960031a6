"""A channel's writes within one loop turn: coalesced per socket, never doubled, never reordered."""

from __future__ import annotations

from chatserver.live.hub import Channel


class Sock:
    def __init__(self) -> None:
        self.writes: list[bytes] = []

    def write(self, data: bytes) -> None:
        self.writes.append(data)


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
