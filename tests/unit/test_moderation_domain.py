"""The pure moderation rules of the communities: routing a submission, scopes, audit notes, item views and summaries."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import msgspec

from chatserver.domain.identity import AccountId, Actor, StaffRole
from chatserver.domain.moderation import routing_of, sanction_note, scope_of, staff_of
from chatserver.domain.moderation_items import (
    ItemRef,
    actor_from_snapshot,
    actor_snapshot,
    item_details,
    item_from_doc,
    item_summary,
    item_to_doc,
    message_offset,
    to_ms,
    view_of,
)
from moderation.crisis import CrisisResult
from moderation.queue import claim, new_item
from moderation.rules import RuleHit, Verdict

NOW = datetime(2030, 1, 8, 12, 0, tzinfo=UTC)
CRISIS = CrisisResult(flagged=True, severity="high", category="plan", score=0.9, reasons=("Plan",), version="t-1")


def _staff(role: StaffRole, *flavours: str) -> Actor:
    return Actor(
        account_id=AccountId("st-1"),
        pseudonym="Mod",
        kind="staff",
        role=role,
        flavours=frozenset(flavours),
    )


def test_a_report_starts_at_medium_and_a_rule_hit_raises_severity_and_tier() -> None:
    plain = routing_of("report", None)
    assert (plain.source, plain.severity, plain.tier, plain.crisis) == ("report", "medium", "volunteer", False)
    hit = RuleHit(
        rule="link_limit",
        severity="high",
        tier="peer_expert",
        action="hold",
        reason="Even nakijken",
        detail="twee links",
    )
    routed = routing_of("rule", Verdict(action="hold", hits=(hit,)))
    assert (routed.severity, routed.tier, routed.rules, routed.details) == (
        "high",
        "peer_expert",
        ("link_limit",),
        ("twee links",),
    )


def test_a_crisis_signal_is_critical_for_professionals_and_keeps_a_report_a_report() -> None:
    held = routing_of("rule", Verdict(action="hold", crisis=CRISIS))
    assert (held.source, held.severity, held.tier, held.crisis) == ("crisis", "critical", "professional", True)
    reported = routing_of("report", Verdict(action="hold", crisis=CRISIS))
    assert reported.source == "report" and reported.crisis


def test_staff_see_their_own_flavours_and_admins_all() -> None:
    volunteer = staff_of(_staff("volunteer", "psychosenet"))
    admin = staff_of(_staff("admin"))
    assert volunteer is not None and admin is not None
    assert scope_of(volunteer, None) == ["psychosenet"]
    assert scope_of(volunteer, "psychosenet") == ["psychosenet"]
    assert scope_of(volunteer, "dwang") == []
    assert scope_of(admin, None) is None and scope_of(admin, "dwang") == ["dwang"]
    assert staff_of(Actor(account_id=AccountId("lid-1"), pseudonym="Lid", kind="member")) is None


def test_the_audit_note_says_how_long_a_sanction_lasts() -> None:
    assert sanction_note("mute", "Spam", 30, None, False) == "Spam (30 min)"
    assert sanction_note("mute", "Spam", 30, None, True) == "Spam (30 min, bericht verborgen)"
    assert sanction_note("ban", "Herhaald", None, 7, False) == "Herhaald (7 dagen)"
    assert sanction_note("ban", "Herhaald", None, None, False) == "Herhaald (onbepaalde tijd)"
    assert sanction_note("hide", "Kwetsend", None, None, False) == "Kwetsend"


def test_an_item_survives_its_document_and_its_summary_has_no_text_or_author() -> None:
    author = Actor(account_id=AccountId("lid-1"), pseudonym="Schrijver", kind="member", validated=True)
    item = new_item(
        id="i1", flavour="psychosenet", source="rule", severity="low", created_at=to_ms(NOW),
        subject_id="room_message:x", professional_on_shift=True,
    )  # fmt: skip
    assert item_from_doc(item_to_doc(item)) == item
    ref = ItemRef(kind="room_message", id="room:psychosenet:welkom#7", channel="room:psychosenet:welkom")
    details = item_details(
        ref=ref, text="tekst", author=author, reason="", details=(), held_payload=None, crisis=False,
        verdict_crisis=None, reporter=None,
    )  # fmt: skip
    moderator = staff_of(_staff("volunteer", "psychosenet"))
    assert moderator is not None
    claimed = claim(item, moderator, NOW)
    view = view_of(claimed, {**details, "claimed_name": "Mod"})
    assert view.author == actor_from_snapshot(actor_snapshot(author)) and view.text == "tekst"
    summary = item_summary(view, NOW + timedelta(minutes=1))
    assert (summary.state, summary.claimed_by, summary.claimed_name) == ("claimed", "st-1", "Mod")
    assert summary.context_url == "/backoffice/moderatie/i1"
    encoded = msgspec.json.encode(summary)
    assert b"tekst" not in encoded and b"Schrijver" not in encoded
    expired = item_summary(view, NOW + timedelta(hours=1))
    assert (expired.state, expired.claimed_by, expired.claimed_name) == ("open", None, "")


def test_the_offset_of_a_live_message_is_read_from_its_reference() -> None:
    assert message_offset(ItemRef(kind="room_message", id="room:psychosenet:welkom#42")) == 42
    assert message_offset(ItemRef(kind="room_message", id="42")) == 42
    assert message_offset(ItemRef(kind="room_message", id="room:psychosenet:welkom#abc")) is None
