"""Pure rules of 1-on-1 chat: queue order, positions, wait estimates, routing, replies, roster and coverage."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

from chatserver.domain import oneonone as rules
from chatserver.domain.identity import Tier
from chatserver.flavours import TIMEZONE

T0 = datetime(2026, 3, 2, 12, 0, tzinfo=UTC)


def w(chat_id: str, minutes_ago: int, risk: bool = False, tier: Tier = Tier.VOLUNTEER) -> rules.Waiting:
    return rules.Waiting(chat_id, T0 - timedelta(minutes=minutes_ago), risk, tier)


def test_longest_waiting_first_and_risk_before_everyone() -> None:
    entries = [w("a", 5), w("b", 20), w("c", 1, risk=True), w("d", 10)]
    assert [e.chat_id for e in rules.queue_order(entries)] == ["c", "b", "d", "a"]
    assert rules.position_of(entries, "a") == 4
    assert rules.position_of(entries, "c") == 1
    assert rules.position_of(entries, "zz") is None


def test_pick_next_skips_requests_above_the_staff_tier() -> None:
    entries = [w("pro", 30, tier=Tier.PROFESSIONAL), w("vol", 10)]
    assert rules.pick_next(entries, Tier.VOLUNTEER) == entries[1]
    assert rules.pick_next(entries, Tier.PROFESSIONAL) == entries[0]
    assert rules.pick_next(entries, None) is None
    assert rules.pick_next([], Tier.PROFESSIONAL) is None


def test_wait_estimate_is_never_zero_and_none_without_staff() -> None:
    assert rules.estimate_wait_min(1, 0, 0) is None
    assert rules.estimate_wait_min(5, 0, 3) is None
    assert rules.estimate_wait_min(1, 2, 1) == 1
    assert rules.estimate_wait_min(3, 2, 1) == 15  # two ahead of the free slot, 15 min each, two staff
    assert rules.estimate_wait_min(2, 1, 0) == 30
    assert all((rules.estimate_wait_min(p, 1, 0) or 0) >= 1 for p in range(1, 10))


def test_capacity_and_escalation_go_up_only() -> None:
    assert rules.has_capacity(2, 3) and not rules.has_capacity(3, 3)
    assert rules.clamp_capacity(0) == 1 and rules.clamp_capacity(99) == rules.MAX_CAPACITY
    assert rules.escalation_allowed(Tier.VOLUNTEER, Tier.PROFESSIONAL)
    assert rules.escalation_allowed(Tier.VOLUNTEER, Tier.PEER_EXPERT)
    assert not rules.escalation_allowed(Tier.PROFESSIONAL, Tier.PEER_EXPERT)
    assert not rules.escalation_allowed(Tier.PEER_EXPERT, Tier.PEER_EXPERT)
    assert not rules.escalation_allowed(None, Tier.PROFESSIONAL)
    assert rules.can_take(Tier.PROFESSIONAL, Tier.VOLUNTEER) and not rules.can_take(Tier.VOLUNTEER, Tier.PEER_EXPERT)


def test_handoff_line_names_who_the_visitor_is_connected_to() -> None:
    line = rules.handoff_line(Tier.PROFESSIONAL, "Anna")
    assert line.startswith("Je wordt doorverbonden met een professional (Anna)")
    assert "(" not in rules.handoff_line(Tier.PEER_EXPERT, None)


def test_reply_is_owed_from_assignment_and_after_an_unanswered_visitor_message() -> None:
    assigned = T0
    assert rules.reply_pending_since(assigned, None, None) == assigned
    assert rules.reply_overdue(assigned, assigned + timedelta(minutes=5), 5)
    assert not rules.reply_overdue(assigned, assigned + timedelta(minutes=4, seconds=59), 5)
    staff_at = T0 + timedelta(minutes=1)
    assert rules.reply_pending_since(assigned, staff_at, None) is None
    visitor_at = T0 + timedelta(minutes=2)
    assert rules.reply_pending_since(assigned, staff_at, visitor_at) == visitor_at
    assert not rules.reply_overdue(None, T0 + timedelta(hours=1), 5)


def test_wait_alert_and_longest_wait() -> None:
    assert rules.wait_alert_due(T0 - timedelta(minutes=15), T0, 15)
    assert not rules.wait_alert_due(T0 - timedelta(minutes=14), T0, 15)
    assert rules.longest_wait_s([w("a", 3), w("b", 7)], T0) == 420
    assert rules.longest_wait_s([], T0) == 0


def test_night_block_crosses_midnight() -> None:
    start, end = rules.block_interval(date(2026, 3, 6), "23:00", "03:00")
    assert start == datetime(2026, 3, 6, 23, 0, tzinfo=TIMEZONE)
    assert end == datetime(2026, 3, 7, 3, 0, tzinfo=TIMEZONE)
    s2, e2 = rules.block_interval(date(2026, 3, 6), "10:00", "13:00")
    assert (e2 - s2) == timedelta(hours=3)
    assert rules.valid_hhmm("09:30") and not rules.valid_hhmm("9:30") and not rules.valid_hhmm("24:61")


def test_roster_switches_at_block_start_and_end() -> None:
    start, end = rules.block_interval(date(2026, 3, 6), "23:00", "03:00")
    block = rules.Block("b1", "acc", "volunteer", start, end)
    assert rules.roster_switches([block], set(), set(), start - timedelta(seconds=1)) == []
    assert rules.roster_switches([block], set(), set(), start) == [rules.RosterSwitch("b1", "acc", "on")]
    assert rules.roster_switches([block], {"b1"}, set(), start + timedelta(hours=1)) == []
    assert rules.roster_switches([block], {"b1"}, set(), end) == [rules.RosterSwitch("b1", "acc", "off")]
    assert rules.roster_switches([block], {"b1"}, {"b1"}, end) == []


def test_tier_gap_finds_the_first_uncovered_open_moment() -> None:
    now = datetime(2026, 3, 2, 19, 0, tzinfo=TIMEZONE)
    always_open = lambda m: True  # noqa: E731
    pro = rules.Block("p", "x", "professional", now, now + timedelta(hours=1))
    gap = rules.tier_gap([pro], Tier.PROFESSIONAL, now, always_open)
    assert gap == now + timedelta(hours=1)
    full = rules.Block("p2", "y", "professional", now, now + timedelta(hours=3))
    assert rules.tier_gap([full], Tier.PROFESSIONAL, now, always_open) is None
    volunteer_only = rules.Block("v", "z", "volunteer", now, now + timedelta(hours=3))
    assert rules.tier_gap([volunteer_only], Tier.PROFESSIONAL, now, always_open) == now
    assert rules.tier_gap([], Tier.PROFESSIONAL, now, lambda m: False) is None
    assert rules.tier_gap([], Tier.PROFESSIONAL, now, always_open, on_shift_now=True) == now + rules.GAP_STEP


def test_only_the_people_of_an_open_chat_take_part() -> None:
    chat = {"status": "active", "visitor_id": "v1", "staff_id": "s2", "handoff_from": None}
    assert rules.participants(chat) == frozenset({"v1", "s2"})
    assert rules.participants({**chat, "status": "waiting", "staff_id": None, "handoff_from": "s1"}) == {"v1", "s1"}
    assert rules.participants({**chat, "status": "ended"}) == frozenset()
    assert rules.participants({**chat, "purged": True}) == frozenset()


def test_the_transcript_has_messages_and_system_lines_in_dutch_time() -> None:
    doc = {"requested_at": datetime(2026, 3, 2, 19, 5, tzinfo=UTC)}
    events = [
        {"kind": "system", "ts": T0, "data": {"text": "Je staat in de wachtrij."}},
        {"kind": "message", "ts": T0, "pseudonym": "Vera", "role": "Vrijwilliger", "data": {"text": "Hoi"}},
        {"kind": "message", "ts": T0, "pseudonym": "Merel", "data": {"text": "weg", "deleted": True}},
        {"kind": "chat", "ts": T0, "data": {"event": "ended"}},
    ]
    assert rules.transcript("PsychoseNet", doc, events) == (
        "Gesprek bij PsychoseNet\nBegonnen: 02-03-2026 20:05\n\n"
        "[13:00] — Je staat in de wachtrij.\n[13:00] Vera (Vrijwilliger): Hoi\n[13:00] Merel: [verwijderd]\n"
    )


def test_queue_rows_follow_the_queue_order_and_say_who_can_take_what() -> None:
    def doc(chat_id: str, minutes_ago: int, risk: bool = False, tier: Tier = Tier.VOLUNTEER) -> dict[str, object]:
        return {"_id": chat_id, "flavour": "psychosenet", "queued_at": T0 - timedelta(minutes=minutes_ago),
                "risk": risk, "tier_needed": int(tier), "visitor_pseudonym": chat_id}  # fmt: skip

    waiting = [doc("a", 3), doc("b", 9, tier=Tier.PROFESSIONAL), doc("c", 1, risk=True)]
    rows = rules.queue_rows(waiting, Tier.VOLUNTEER, T0)
    assert [(r["id"], r["position"], r["wait_min"], r["can_take"]) for r in rows] == [
        ("c", 1, 1, True),
        ("b", 2, 9, False),
        ("a", 3, 3, True),
    ]
