"""The pure connection state machine: auth first, rate limits, typing throttle, abuse close."""

from __future__ import annotations

from chatserver.live.session import PUBLISH_BURST, Session, Work
from chatserver.protocol import CloseCode, Error, ErrorCode, Hello, MessageBody, Ping, Pong, Publish, Subscribe, Typing


def pub(i: int) -> Publish:
    return Publish(id=i, channel="room:a:b", client_msg_id=f"m{i}", body=MessageBody(text="hoi"))


def test_only_ping_and_hello_before_authentication() -> None:
    s = Session("c", 0.0)
    assert s.on_frame(Ping(id=1), 0.1).reply == Pong(id=1)
    step = s.on_frame(Subscribe(id=2, channel="room:a:b"), 0.1)
    assert isinstance(step.reply, Error) and step.reply.code == ErrorCode.UNAUTHENTICATED
    assert s.on_frame(Hello(token="t"), 0.2).work is Work.AUTHENTICATE
    assert s.on_frame(Hello(v=2), 0.2).close is CloseCode.UNSUPPORTED_VERSION


def test_publish_bucket_refills_with_time() -> None:
    s = Session("c", 0.0)
    s.authenticated()
    works = [s.on_frame(pub(i), 0.0).work for i in range(PUBLISH_BURST + 1)]
    assert works[:PUBLISH_BURST] == [Work.PUBLISH] * PUBLISH_BURST
    assert works[-1] is None
    assert s.on_frame(pub(999), 1.0).work is Work.PUBLISH


def test_too_many_errors_close_for_abuse() -> None:
    s = Session("c", 0.0)
    closes = [s.on_frame(Subscribe(id=i, channel="x"), 0.0).close for i in range(60)]
    assert CloseCode.RATE_LIMIT_ABUSE in closes


def test_typing_is_throttled_per_channel() -> None:
    s = Session("c", 0.0)
    s.authenticated()
    s.channels.add("room:a:b")
    assert s.on_frame(Typing(channel="room:a:b"), 1.0).work is Work.TYPING
    assert s.on_frame(Typing(channel="room:a:b"), 2.0).work is None
    assert s.on_frame(Typing(channel="room:a:b"), 4.5).work is Work.TYPING


def test_the_servers_own_outage_never_counts_as_abuse() -> None:
    from chatserver.live.session import ERRORS_BEFORE_CLOSE, error_frame

    s = Session("c", 0.0)
    s.authenticated()
    steps = [s.error(error_frame(ErrorCode.UNAVAILABLE, i, "room:a:b", 1000), i * 0.01) for i in range(500)]
    assert all(step.close is None and isinstance(step.reply, Error) for step in steps)
    # Refusals the client causes still do, with the outage's refusals in between.
    closes = [s.error(error_frame(ErrorCode.BAD_REQUEST), 5.0).close for _ in range(ERRORS_BEFORE_CLOSE + 1)]
    assert closes[-1] is CloseCode.RATE_LIMIT_ABUSE and closes.count(None) == ERRORS_BEFORE_CLOSE


def test_error_frames_never_echo_an_id_outside_the_protocol_range() -> None:
    from chatserver.live.session import error_frame

    assert error_frame(ErrorCode.BAD_REQUEST, 2**53).id is None
    assert error_frame(ErrorCode.BAD_REQUEST, -1).id is None
    assert error_frame(ErrorCode.BAD_REQUEST, 2**53 - 1).id == 2**53 - 1


def test_a_client_that_waits_as_told_after_4204_is_never_closed() -> None:
    s = Session("c", 0.0)
    s.authenticated()
    now, refusals, n = 0.0, 0, 0
    while now < 30.0:  # publishing as fast as it may for 30 s: refused again and again, never closed
        step = s.on_frame(pub(n), now)
        n += 1
        assert step.close is None
        if isinstance(step.reply, Error):
            assert step.reply.code == ErrorCode.RATE_LIMITED and step.reply.retry_after_ms
            refusals += 1
            now += step.reply.retry_after_ms / 1000
        else:
            now += 0.001
    assert refusals > 100


def test_a_pipelined_burst_past_the_bucket_is_refused_but_not_closed() -> None:
    s = Session("c", 0.0)
    s.authenticated()
    steps = [s.on_frame(pub(i), 0.001 * i / 10) for i in range(PUBLISH_BURST + 80)]
    assert all(step.close is None for step in steps)
    assert sum(isinstance(step.reply, Error) for step in steps) == 80


def test_a_client_that_ignores_retry_after_is_closed_for_abuse() -> None:
    s = Session("c", 0.0)
    s.authenticated()
    closes = [s.on_frame(pub(i), 0.001 * i).close for i in range(PUBLISH_BURST + 1000)]  # 1,000 a second
    assert CloseCode.RATE_LIMIT_ABUSE in closes


def test_a_flushed_outbox_retried_message_by_message_as_told_is_never_closed() -> None:
    import heapq

    s = Session("c", 0.0)
    s.authenticated()
    queue = [(0.0, i) for i in range(2 * PUBLISH_BURST)]  # all sent at once (a reconnect flushing its outbox)
    heapq.heapify(queue)
    accepted = 0
    while queue:
        now, i = heapq.heappop(queue)
        step = s.on_frame(pub(i), now)
        assert step.close is None, (now, i)
        if isinstance(step.reply, Error):
            heapq.heappush(queue, (now + (step.reply.retry_after_ms or 1) / 1000, i))
        else:
            accepted += 1
    assert accepted == 2 * PUBLISH_BURST


def test_retrying_one_message_before_its_retry_after_is_abuse() -> None:
    s = Session("c", 0.0)
    s.authenticated()
    for i in range(PUBLISH_BURST):
        s.on_frame(pub(i), 0.0)
    closes = [s.on_frame(pub(999), 0.0001 * k).close for k in range(60)]  # the same message, again and again
    assert CloseCode.RATE_LIMIT_ABUSE in closes


def test_a_client_that_sends_in_windows_and_retries_each_refusal_as_told_is_never_closed() -> None:
    """Windows of 20 pipelined publishes; each refused one is sent again after its advice (one after the other);
    the next window follows the last answer at once. The server may be slow: answers leave 5 ms per frame."""
    s = Session("c", 0.0)
    s.authenticated()
    now, n = 0.0, 0
    for _window in range(40):
        waiting: list[tuple[int, float]] = []
        for i in range(n, n + 20):
            now += 0.005
            step = s.on_frame(pub(i), now)
            assert step.close is None, (now, i)
            if isinstance(step.reply, Error):
                waiting.append((i, (step.reply.retry_after_ms or 1) / 1000))
        while waiting:
            i, wait = waiting.pop(0)
            now += wait + 0.005
            step = s.on_frame(pub(i), now)
            assert step.close is None, (now, i)
            if isinstance(step.reply, Error):
                waiting.append((i, (step.reply.retry_after_ms or 1) / 1000))
        n += 20
