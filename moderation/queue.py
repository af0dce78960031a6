"""The moderation queue: items, routing to tiers, visibility, expiring claims, decisions, ordering and ageing."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, replace
from datetime import datetime, timedelta
from typing import Literal

from moderation.i18n import N_
from moderation.tiers import Severity, StaffRole, Tier, max_tier, next_tier, role_tier, severity_rank, tier_rank

ItemSource = Literal["report", "rule", "premoderation", "crisis", "spreekuur_question"]
ItemState = Literal["open", "claimed", "decided"]
DecisionKind = Literal["approve", "reject", "redact", "hide", "warn", "mute", "ban", "escalate", "release"]

CLAIM_TTL = timedelta(minutes=10)
# How long an item may wait before it is overdue, per severity.
TARGET_AGE: dict[Severity, timedelta] = {
    "critical": timedelta(minutes=2),
    "high": timedelta(minutes=15),
    "medium": timedelta(hours=4),
    "low": timedelta(hours=24),
}
_BASE_DECISIONS: frozenset[DecisionKind] = frozenset(
    {"approve", "reject", "redact", "hide", "warn", "mute", "escalate"}
)
ALLOWED_DECISIONS: dict[Tier, frozenset[DecisionKind]] = {
    "volunteer": _BASE_DECISIONS,
    "peer_expert": _BASE_DECISIONS | {"release"},
    "professional": _BASE_DECISIONS | {"release", "ban"},
}
_NEEDS_REASON: frozenset[DecisionKind] = frozenset({"reject", "warn", "mute", "ban", "escalate", "release"})
MAX_MUTE = timedelta(days=90)


class QueueError(Exception):
    """A refused queue operation; the message is Dutch and may be shown to staff."""


@dataclass(frozen=True, slots=True)
class Staff:
    id: str
    role: StaffRole
    flavours: frozenset[str]

    @property
    def is_admin(self) -> bool:
        return self.role == "admin"

    @property
    def tier(self) -> Tier:
        return role_tier(self.role)


@dataclass(frozen=True, slots=True)
class ModerationItem:
    id: str
    flavour: str
    source: ItemSource
    tier: Tier
    severity: Severity
    created_at: datetime
    subject_id: str
    rules: tuple[str, ...] = ()
    no_professional_on_shift: bool = False
    state: ItemState = "open"
    claimed_by: str | None = None
    claim_expires_at: datetime | None = None
    decision: DecisionKind | None = None
    decided_by: str | None = None
    decided_at: datetime | None = None


@dataclass(frozen=True, slots=True)
class Decision:
    kind: DecisionKind
    reason: str = ""
    mute_for: timedelta | None = None


def route(source: ItemSource, severity: Severity, tier: Tier, professional_on_shift: bool) -> tuple[Tier, bool]:
    """The tier an item goes to and whether it is flagged "no professional on shift"."""
    if source == "crisis" or severity == "critical":
        if professional_on_shift:
            return "professional", False
        return "peer_expert", True
    return tier, False


def new_item(
    *,
    id: str,
    flavour: str,
    source: ItemSource,
    severity: Severity,
    created_at: datetime,
    subject_id: str,
    professional_on_shift: bool,
    tier: Tier = "volunteer",
    rules: tuple[str, ...] = (),
) -> ModerationItem:
    """A fresh open item, routed."""
    routed, unstaffed = route(source, severity, tier, professional_on_shift)
    return ModerationItem(
        id=id,
        flavour=flavour,
        source=source,
        tier=routed,
        severity=severity,
        created_at=created_at,
        subject_id=subject_id,
        rules=rules,
        no_professional_on_shift=unstaffed,
    )


def can_see(staff: Staff, item: ModerationItem) -> bool:
    """A higher tier sees everything below it; staff only in their flavours; admins everything."""
    if staff.is_admin:
        return True
    if item.flavour not in staff.flavours:
        return False
    return tier_rank(staff.tier) >= tier_rank(item.tier)


def is_claimed(item: ModerationItem, now: datetime) -> bool:
    """True while someone's claim has not expired."""
    return item.state == "claimed" and item.claim_expires_at is not None and now < item.claim_expires_at


def claim(item: ModerationItem, staff: Staff, now: datetime, ttl: timedelta = CLAIM_TTL) -> ModerationItem:
    """Take an item (or renew one's own claim); an expired claim by someone else may be taken over."""
    if not can_see(staff, item):
        raise QueueError(N_("Dit item bestaat niet of je mag het niet zien."))
    if item.state == "decided":
        raise QueueError(N_("Over dit item is al besloten."))
    if is_claimed(item, now) and item.claimed_by != staff.id:
        raise QueueError(N_("Een collega behandelt dit item al."))
    return replace(item, state="claimed", claimed_by=staff.id, claim_expires_at=now + ttl)


def unclaim(item: ModerationItem, staff: Staff, now: datetime) -> ModerationItem:
    """Give an item back to the queue."""
    if item.claimed_by != staff.id or not is_claimed(item, now):
        raise QueueError(N_("Je hebt dit item niet (meer) geclaimd."))
    return replace(item, state="open", claimed_by=None, claim_expires_at=None)


def allowed_decisions(staff: Staff) -> frozenset[DecisionKind]:
    """The decisions a staff member may take."""
    if staff.is_admin:
        return ALLOWED_DECISIONS["professional"]
    return ALLOWED_DECISIONS[staff.tier]


def decide(item: ModerationItem, staff: Staff, decision: Decision, now: datetime) -> ModerationItem:
    """Apply a decision to an item the staff member holds; escalation reopens it one tier up."""
    if not is_claimed(item, now) or item.claimed_by != staff.id:
        raise QueueError(N_("Claim dit item eerst."))
    if decision.kind not in allowed_decisions(staff):
        raise QueueError(N_("Deze beslissing mag jouw rol niet nemen."))
    if decision.kind in _NEEDS_REASON and not decision.reason.strip():
        raise QueueError(N_("Geef een reden op."))
    if decision.kind == "mute" and (decision.mute_for is None or not timedelta(0) < decision.mute_for <= MAX_MUTE):
        raise QueueError(N_("Kies een duur voor het dempen tussen een minuut en 90 dagen."))
    if decision.kind == "release" and item.source not in ("crisis", "rule", "premoderation"):
        raise QueueError(N_("Alleen automatisch tegengehouden berichten kunnen worden vrijgegeven."))
    if decision.kind == "escalate":
        higher = next_tier(max_tier(item.tier, staff.tier))
        if higher is None:
            raise QueueError(N_("Dit item staat al bij de hoogste laag."))
        return replace(item, tier=higher, state="open", claimed_by=None, claim_expires_at=None)
    return replace(
        item,
        state="decided",
        claim_expires_at=None,
        decision=decision.kind,
        decided_by=staff.id,
        decided_at=now,
    )


def age(item: ModerationItem, now: datetime) -> timedelta:
    """How long an item has waited (never negative, even if clocks disagree)."""
    return max(now - item.created_at, timedelta(0))


def age_ratio(item: ModerationItem, now: datetime) -> float:
    """Age against the target for its severity: 1.0 means the target is reached."""
    return age(item, now) / TARGET_AGE[item.severity]


def is_overdue(item: ModerationItem, now: datetime) -> bool:
    return age(item, now) > TARGET_AGE[item.severity]


def order_key(item: ModerationItem) -> tuple[int, datetime, str]:
    """Most severe first, then oldest first; the id breaks ties so the order is stable."""
    return (-severity_rank(item.severity), item.created_at, item.id)


def visible_queue(staff: Staff, items: Iterable[ModerationItem], now: datetime) -> list[ModerationItem]:
    """The undecided items a staff member sees, in working order (claims that expired show as open)."""
    out: list[ModerationItem] = []
    for item in items:
        if item.state == "decided" or not can_see(staff, item):
            continue
        if item.state == "claimed" and not is_claimed(item, now):
            item = replace(item, state="open", claimed_by=None, claim_expires_at=None)
        out.append(item)
    return sorted(out, key=order_key)
