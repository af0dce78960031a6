"""The benchmark report: loss, duplicates, order and percentiles on synthetic data."""

from __future__ import annotations

from loadtest.report import Counts, latency_summary_ms, percentile, stream_counts
from loadtest.sessions import Room, SetupError, Target, pick_rooms, rooms_from_files
from loadtest.worker import decode_number, encode_number, message_text, parse_text


def test_a_clean_stream_has_nothing_lost_twice_or_out_of_order() -> None:
    c = stream_counts(range(1, 6), [1, 2, 3, 4, 5], [10, 11, 12, 13, 14])
    assert (c.expected, c.delivered, c.lost, c.duplicates, c.out_of_order) == (5, 5, 0, 0, 0)


def test_missing_duplicated_and_reordered_messages_are_each_counted_once() -> None:
    # 3 never arrives, 2 arrives twice, 5 arrives before 4 (offset 14 before 13).
    c = stream_counts([1, 2, 3, 4, 5], [1, 2, 2, 5, 4], [10, 11, 11, 14, 13])
    assert c.delivered == 4
    assert c.lost == 1
    assert c.duplicates == 1
    assert c.out_of_order == 1


def test_a_message_delivered_but_never_acknowledged_is_neither_expected_nor_lost() -> None:
    c = stream_counts([1, 2], [1, 2, 3], [1, 2, 3])
    assert (c.expected, c.delivered, c.lost, c.unacked_delivered) == (2, 2, 0, 1)


def test_counts_add_up_over_streams() -> None:
    total = Counts()
    total.add(stream_counts([1, 2], [1], [1]))
    total.add(stream_counts([1, 2], [1, 2, 2], [1, 2, 2]))
    assert (total.expected, total.delivered, total.lost, total.duplicates) == (4, 3, 1, 1)


def test_nearest_rank_percentiles() -> None:
    values = list(range(1, 101))
    assert percentile(values, 50) == 50
    assert percentile(values, 99) == 99
    assert percentile(values, 100) == 100
    assert percentile([], 99) == 0.0
    assert latency_summary_ms([1000, 2000, 3000, 4000]) == {"p50": 2.0, "p90": 4.0, "p99": 4.0, "max": 4.0}


def test_message_text_round_trips_and_holds_no_digits() -> None:
    text = message_text("abcd", 123456, 1_764_107_841_123_456_789)
    assert not any(ch.isdigit() for ch in text)
    assert parse_text(text, "abcd") == (123456, 1_764_107_841_123_456_789)
    assert parse_text(text, "zzzz") is None
    assert parse_text("Hoi allemaal", "abcd") is None
    assert all(decode_number(encode_number(n)) == n for n in (0, 1, 25, 26, 675, 10**18))


def test_rooms_come_from_the_flavour_files_and_guest_rooms_are_picked_first() -> None:
    rooms = rooms_from_files()
    assert any(r.mode == "guests" for r in rooms)
    picked = pick_rooms(
        [Room("a", "x", "members", 0), Room("a", "y", "guests", 10), Room("b", "z", "guests", 0)], 2, ("guests",), None
    )
    assert [(r.flavour, r.slug) for r in picked] == [("b", "z"), ("a", "y")]


def test_only_local_targets_are_accepted() -> None:
    assert Target.parse("http://127.0.0.1:8000").port == 8000
    for url in ("http://example.org:8000", "https://127.0.0.1:8000", "http://10.0.0.1"):
        try:
            Target.parse(url)
        except SetupError:
            continue
        raise AssertionError(f"{url} accepted")
