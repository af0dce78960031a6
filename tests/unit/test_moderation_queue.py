"""The moderation queue: routing, visibility, claims, decisions, ordering and ageing."""

from dataclasses import replace
from datetime import UTC, datetime, timedelta

import pytest

from moderation.queue import (
    CLAIM_TTL,
    Decision,
    ModerationItem,
    QueueError,
    Staff,
    age,
    age_ratio,
    allowed_decisions,
    can_see,
    claim,
    decide,
    is_overdue,
    new_item,
    route,
    unclaim,
    visible_queue,
)
from moderation.tiers import max_severity, next_tier

T0 = datetime(2026, 1, 5, 20, 0, tzinfo=UTC)
VOLUNTEER = Staff("v1", "volunteer", frozenset({"proud2bme"}))
VOLUNTEER_2 = Staff("v2", "volunteer", frozenset({"proud2bme"}))
PEER = Staff("p1", "peer_expert", frozenset({"proud2bme"}))
PRO = Staff("pro1", "professional", frozenset({"proud2bme", "psychosenet"}))
ADMIN = Staff("a1", "admin", frozenset())
EDITOR = Staff("e1", "editor", frozenset({"proud2bme"}))


def item(**changes: object) -> ModerationItem:
    base = new_item(
        id="i1",
        flavour="proud2bme",
        source="report",
        severity="low",
        created_at=T0,
        subject_id="post-1",
        professional_on_shift=True,
    )
    return replace(base, **changes)  # type: ignore[arg-type]


def test_crisis_routes_to_professionals_or_flags_peer_experts():
    assert route("crisis", "high", "volunteer", professional_on_shift=True) == ("professional", False)
    assert route("crisis", "high", "volunteer", professional_on_shift=False) == ("peer_expert", True)
    assert route("rule", "critical", "volunteer", professional_on_shift=True) == ("professional", False)
    assert route("report", "medium", "peer_expert", professional_on_shift=False) == ("peer_expert", False)
    crisis = new_item(
        id="c",
        flavour="f",
        source="crisis",
        severity="critical",
        created_at=T0,
        subject_id="m",
        professional_on_shift=False,
    )
    assert (crisis.tier, crisis.no_professional_on_shift, crisis.state) == ("peer_expert", True, "open")


def test_visibility_by_tier_flavour_and_admin():
    pro_item = item(tier="professional")
    assert can_see(PRO, pro_item) and can_see(PRO, item())
    assert not can_see(PEER, pro_item) and can_see(PEER, item(tier="peer_expert"))
    assert not can_see(VOLUNTEER, item(tier="peer_expert"))
    assert not can_see(PRO, item(flavour="jongeren"))
    assert can_see(ADMIN, item(flavour="jongeren", tier="professional"))
    assert can_see(EDITOR, item()) and not can_see(EDITOR, item(tier="peer_expert"))


def test_claim_locks_until_it_expires():
    claimed = claim(item(), VOLUNTEER, T0)
    assert (claimed.state, claimed.claimed_by, claimed.claim_expires_at) == ("claimed", "v1", T0 + CLAIM_TTL)
    with pytest.raises(QueueError, match="collega"):
        claim(claimed, VOLUNTEER_2, T0 + timedelta(minutes=1))
    renewed = claim(claimed, VOLUNTEER, T0 + timedelta(minutes=5))
    assert renewed.claim_expires_at == T0 + timedelta(minutes=5) + CLAIM_TTL
    taken_over = claim(claimed, VOLUNTEER_2, T0 + CLAIM_TTL)
    assert taken_over.claimed_by == "v2"


def test_claim_refuses_invisible_and_decided_items():
    with pytest.raises(QueueError, match="bestaat niet"):
        claim(item(tier="professional"), VOLUNTEER, T0)
    with pytest.raises(QueueError, match="al besloten"):
        claim(item(state="decided"), VOLUNTEER, T0)


def test_unclaim_returns_the_item_to_the_queue():
    claimed = claim(item(), VOLUNTEER, T0)
    assert unclaim(claimed, VOLUNTEER, T0).state == "open"
    with pytest.raises(QueueError):
        unclaim(claimed, VOLUNTEER_2, T0)
    with pytest.raises(QueueError):
        unclaim(claimed, VOLUNTEER, T0 + CLAIM_TTL)


def test_decisions_per_tier():
    assert "ban" not in allowed_decisions(VOLUNTEER) and "release" not in allowed_decisions(VOLUNTEER)
    assert "release" in allowed_decisions(PEER) and "ban" not in allowed_decisions(PEER)
    assert {"ban", "release", "approve"} <= allowed_decisions(PRO)
    assert allowed_decisions(ADMIN) == allowed_decisions(PRO)


def test_decide_records_who_and_when():
    claimed = claim(item(), VOLUNTEER, T0)
    done = decide(claimed, VOLUNTEER, Decision("reject", "Geen cijfers over gewicht."), T0 + timedelta(minutes=1))
    assert (done.state, done.decision, done.decided_by, done.decided_at) == (
        "decided",
        "reject",
        "v1",
        T0 + timedelta(minutes=1),
    )
    assert decide(claimed, VOLUNTEER, Decision("approve"), T0).decision == "approve"


@pytest.mark.parametrize(
    ("staff", "decision", "message"),
    [
        (VOLUNTEER, Decision("ban", "spam"), "rol"),
        (VOLUNTEER, Decision("reject"), "reden"),
        (VOLUNTEER, Decision("mute", "toon"), "duur"),
        (VOLUNTEER, Decision("mute", "toon", timedelta(days=365)), "duur"),
        (PEER, Decision("release", "vals alarm"), "automatisch"),
    ],
)
def test_decide_refuses_invalid_decisions(staff, decision, message):
    claimed = claim(item(tier="volunteer"), staff, T0)
    with pytest.raises(QueueError, match=message):
        decide(claimed, staff, decision, T0)


def test_decide_needs_an_own_live_claim():
    with pytest.raises(QueueError, match="Claim"):
        decide(item(), VOLUNTEER, Decision("approve"), T0)
    claimed = claim(item(), VOLUNTEER, T0)
    with pytest.raises(QueueError, match="Claim"):
        decide(claimed, VOLUNTEER_2, Decision("approve"), T0)


def test_mute_and_release():
    claimed = claim(item(), VOLUNTEER, T0)
    assert decide(claimed, VOLUNTEER, Decision("mute", "toon", timedelta(hours=1)), T0).decision == "mute"
    crisis = claim(item(source="crisis", tier="professional", severity="critical"), PRO, T0)
    assert decide(crisis, PRO, Decision("release", "Sarcasme, geen risico."), T0).decision == "release"


def test_escalate_moves_one_tier_up_and_reopens():
    claimed = claim(item(), VOLUNTEER, T0)
    up = decide(claimed, VOLUNTEER, Decision("escalate", "Twijfel over risico."), T0)
    assert (up.tier, up.state, up.claimed_by) == ("peer_expert", "open", None)
    by_peer = decide(claim(up, PEER, T0), PEER, Decision("escalate", "Risico."), T0)
    assert by_peer.tier == "professional"
    with pytest.raises(QueueError, match="hoogste"):
        decide(claim(by_peer, PRO, T0), PRO, Decision("escalate", "verder"), T0)


def test_queue_orders_by_severity_then_age_and_hides_what_is_not_yours():
    items = [
        item(id="old-low", created_at=T0 - timedelta(hours=3)),
        item(id="new-high", severity="high", created_at=T0),
        item(id="old-high", severity="high", created_at=T0 - timedelta(minutes=1)),
        item(id="pro", tier="professional", severity="critical"),
        item(id="other-flavour", flavour="jongeren"),
        item(id="done", state="decided"),
        item(id="stale", state="claimed", claimed_by="v2", claim_expires_at=T0 - timedelta(seconds=1)),
    ]
    queue = visible_queue(VOLUNTEER, items, T0)
    assert [i.id for i in queue] == ["old-high", "new-high", "old-low", "stale"]
    assert queue[-1].state == "open" and queue[-1].claimed_by is None
    assert visible_queue(PRO, items, T0)[0].id == "pro"


def test_age_against_target():
    critical = item(severity="critical", created_at=T0)
    assert age(critical, T0 - timedelta(minutes=1)) == timedelta(0)
    assert age_ratio(critical, T0 + timedelta(minutes=1)) == 0.5
    assert not is_overdue(critical, T0 + timedelta(minutes=2))
    assert is_overdue(critical, T0 + timedelta(minutes=3))


def test_tier_helpers():
    assert next_tier("volunteer") == "peer_expert" and next_tier("professional") is None
    assert max_severity("low", "critical") == "critical" and max_severity("high", "medium") == "high"
