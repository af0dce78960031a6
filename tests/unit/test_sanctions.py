"""The sanction policy as one table: role × own/other/all flavours × target role × duration → allowed or refused."""

from __future__ import annotations

import itertools
from datetime import UTC, datetime, timedelta

import pytest

from chatserver.domain import sanctions
from chatserver.domain.identity import STAFF_ROLES, AccountId, Actor
from chatserver.domain.sanctions import (
    MAX_PROFESSIONAL_SANCTION,
    MAX_SHORT_SANCTION,
    Sanction,
    Target,
    invalid,
    refusal,
)

OWN, OTHER = "trauma", "psychosenet"
TARGETS = ("guest", "member", *STAFF_ROLES)
WHERE = ("own", "other", "platform")
DURATIONS = {
    "1h": timedelta(hours=1),
    "24h": MAX_SHORT_SANCTION,
    "25h": MAX_SHORT_SANCTION + timedelta(hours=1),
    "7d": MAX_PROFESSIONAL_SANCTION,
    "8d": MAX_PROFESSIONAL_SANCTION + timedelta(days=1),
    "permanent": None,
}
RANK = {"volunteer": 1, "peer_expert": 2, "professional": 3, "editor": 3, "admin": 5}
LONGEST = {"volunteer": "24h", "peer_expert": "24h", "editor": "24h", "professional": "7d", "admin": "permanent"}
ORDER = list(DURATIONS)


def expected(role: str, where: str, target: str, duration: str) -> bool:
    """The rule in words, written independently of the code under test."""
    if target in STAFF_ROLES and (role != "admin" or RANK[target] >= RANK[role]):
        return False
    if role != "admin" and where != "own":
        return False
    return ORDER.index(duration) <= ORDER.index(LONGEST[role])


def actor(role: str) -> Actor:
    flavours = frozenset() if role == "admin" else frozenset({OWN})
    return Actor(AccountId(f"a-{role}"), role, "staff", role=role, flavours=flavours, verified=True)  # type: ignore[arg-type]


def target(kind: str) -> Target:
    if kind in STAFF_ROLES:
        return Target(f"t-{kind}", "staff", kind)
    return Target(f"t-{kind}", kind)


def scope(where: str) -> frozenset[str] | None:
    return {"own": frozenset({OWN}), "other": frozenset({OTHER}), "platform": None}[where]


CASES = list(itertools.product(STAFF_ROLES, WHERE, TARGETS, DURATIONS))


@pytest.mark.parametrize(("role", "where", "target_kind", "duration"), CASES)
def test_ban_table(role: str, where: str, target_kind: str, duration: str) -> None:
    sanction = Sanction("ban", DURATIONS[duration], scope(where))
    reason = refusal(actor(role), target(target_kind), sanction)
    assert (reason is None) == expected(role, where, target_kind, duration), reason
    if reason is not None:
        assert reason[0].isupper() and reason.endswith(".")  # a Dutch sentence for the 403


@pytest.mark.parametrize(("role", "where", "target_kind"), list(itertools.product(STAFF_ROLES, WHERE, TARGETS)))
def test_mutes_follow_the_same_table(role: str, where: str, target_kind: str) -> None:
    sanction = Sanction("mute", timedelta(hours=1), scope(where))
    allowed = refusal(actor(role), target(target_kind), sanction) is None
    assert allowed == expected(role, where, target_kind, "1h")


def test_nobody_sanctions_themselves_and_members_sanction_nobody() -> None:
    admin = actor("admin")
    assert refusal(admin, Target(admin.account_id, "staff", "admin"), Sanction("ban", timedelta(hours=1), None))
    member = Actor(AccountId("m"), "m", "member")
    assert refusal(member, target("guest"), Sanction("mute", timedelta(hours=1), frozenset({OWN})))
    unverified = Actor(AccountId("u"), "u", "staff", role="admin", verified=False)
    assert refusal(unverified, target("member"), Sanction("ban", timedelta(hours=1), None))


def test_malformed_sanctions_are_invalid_whoever_asks() -> None:
    assert invalid(Sanction("mute", None, frozenset({OWN})))
    assert invalid(Sanction("ban", timedelta(0), frozenset({OWN})))
    assert invalid(Sanction("ban", timedelta(days=4000), None))
    assert invalid(Sanction("ban", timedelta(hours=1), frozenset()))
    assert invalid(Sanction("ban", None, None)) is None  # permanent: asked for explicitly, allowed for admins


def test_a_ban_sticks_to_the_account_its_validation_and_its_devices() -> None:
    account = {"_id": "a1", "validation": {"hash": "v"}, "device_hashes": ["d1", "d2"]}
    assert sanctions.ban_subjects(account, sanctions.BAN_SCOPES) == [
        ("account", "a1"),
        ("validation", "v"),
        ("device", "d1"),
        ("device", "d2"),
    ]
    assert sanctions.ban_subjects(account, ("device",)) == [("device", "d1"), ("device", "d2")]
    assert sanctions.ban_subjects({"_id": "a2"}, ("validation", "device")) == []


def test_the_banned_person_is_told_until_when_and_where_to_object() -> None:
    until = datetime(2030, 1, 9, 11, 0, tzinfo=UTC)
    assert "tot 09-01-2030 11:00 UTC" in sanctions.ban_notice(until, "spam")
    assert "(permanent)" in sanctions.ban_notice(None, "spam") and "bezwaar" in sanctions.ban_notice(None, "spam")
    assert "tijdelijk" in sanctions.flavour_ban_notice(until)
    assert "geen toegang meer" in sanctions.flavour_ban_notice(None)
