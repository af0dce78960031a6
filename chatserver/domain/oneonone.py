"""Pure rules of staffed 1-on-1 chat: queue order, wait estimates, routing, tiers, capacity, shifts and roster."""

from __future__ import annotations

import math
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from typing import Any, Literal

from chatserver.domain.identity import ROLE_LABELS, ROLE_TIER
from chatserver.domain.identity import Tier as Tier
from chatserver.flavours import TIMEZONE as TIMEZONE
from chatserver.i18n import N_

ChatStatus = Literal["waiting", "active", "ended"]
CHAT_ROLES: tuple[str, ...] = ("volunteer", "peer_expert", "professional", "admin")
TIER_ROLES: dict[Tier, str] = {
    Tier.VOLUNTEER: "volunteer",
    Tier.PEER_EXPERT: "peer_expert",
    Tier.PROFESSIONAL: "professional",
}
TIER_NAMES: dict[Tier, str] = {
    Tier.VOLUNTEER: N_("een vrijwilliger"),
    Tier.PEER_EXPERT: N_("een ervaringsdeskundige"),
    Tier.PROFESSIONAL: N_("een professional"),
}
AVERAGE_CHAT_MIN = 15
DEFAULT_CAPACITY = 3
MAX_CAPACITY = 8
GAP_HORIZON = timedelta(hours=2)
GAP_STEP = timedelta(minutes=15)
OUTCOME_TAGS: dict[str, str] = {
    "gehoord": N_("Gehoord en gesteund"),
    "informatie": N_("Informatie gegeven"),
    "doorverwezen": N_("Doorverwezen"),
    "crisis": N_("Crisis: hulplijn of 112 ingeschakeld"),
    "afgebroken": N_("Bezoeker vertrokken"),
    "anders": N_("Anders"),
}
# i18n: content. What staff send to the visitor, in the community's language whatever the console's language is.
CANNED_REPLIES: tuple[str, ...] = (
    "Hoi, fijn dat je er bent. Ik ben er voor je. Waar wil je het over hebben?",
    "Dank je dat je dit met me deelt. Neem gerust de tijd.",
    "Ik begrijp dat dit zwaar voor je is. Wat zou je nu het meest helpen?",
    "Ben je nu veilig? Als je in direct gevaar bent, bel dan 112. Je kunt ook dag en nacht 113 of 0800-0113 bellen.",
    "Ik ben er nog. Typ maar als je zover bent.",
    "Het gesprek gaat bijna afronden. Is er nog iets dat je kwijt wilt?",
)


def tier_of_role(role: str | None) -> Tier | None:
    return ROLE_TIER.get(role or "")


def role_label(role: str | None) -> str:
    return ROLE_LABELS.get(role or "", "")


@dataclass(frozen=True, slots=True)
class Waiting:
    """A request in the queue, as the ordering rules see it."""

    chat_id: str
    queued_at: datetime
    risk: bool = False
    tier_needed: Tier = Tier.VOLUNTEER


def queue_order(entries: Iterable[Waiting]) -> list[Waiting]:
    """Risk-flagged requests first, then the longest waiting first (ties by id, so the order is stable)."""
    return sorted(entries, key=lambda w: (not w.risk, w.queued_at, w.chat_id))


def position_of(entries: Iterable[Waiting], chat_id: str) -> int | None:
    """1-based position of ``chat_id`` in queue order, or None when it is not waiting."""
    for index, entry in enumerate(queue_order(entries), start=1):
        if entry.chat_id == chat_id:
            return index
    return None


def can_take(staff_tier: Tier | None, needed: Tier) -> bool:
    """A higher tier can take everything below it."""
    return staff_tier is not None and staff_tier >= needed


def pick_next(entries: Iterable[Waiting], staff_tier: Tier | None, professional_free: bool = False) -> Waiting | None:
    """The request a staff member of ``staff_tier`` gets when accepting the next one.

    A request with a crisis signal is offered to a professional first: while one on shift has room
    (``professional_free``), volunteers and peer experts get the next request without one.
    """
    for w in queue_order(entries):
        if not can_take(staff_tier, w.tier_needed):
            continue
        if w.risk and professional_free and staff_tier != Tier.PROFESSIONAL:
            continue
        return w
    return None


def has_capacity(active: int, capacity: int) -> bool:
    return active < capacity


def clamp_capacity(value: int) -> int:
    return max(1, min(MAX_CAPACITY, value))


def estimate_wait_min(
    position: int, staff_on_shift: int, free_slots: int, average_min: int = AVERAGE_CHAT_MIN
) -> int | None:
    """Minutes a visitor at ``position`` will probably wait; None when nobody is on shift (never "0 minutes")."""
    if staff_on_shift <= 0:
        return None
    if position <= free_slots:
        return 1
    ahead = position - max(free_slots, 0)
    return max(1, math.ceil(ahead * average_min / staff_on_shift))


def wait_alert_due(queued_at: datetime, now: datetime, max_wait_min: int) -> bool:
    return now - queued_at >= timedelta(minutes=max_wait_min)


def reply_pending_since(
    assigned_at: datetime, last_staff_at: datetime | None, first_unanswered_visitor_at: datetime | None
) -> datetime | None:
    """Since when the staff member owes a reply: from the assignment until their first message, then from the
    first visitor message after their last one. None when nothing is owed."""
    if last_staff_at is None or last_staff_at < assigned_at:
        return assigned_at
    return first_unanswered_visitor_at


def reply_overdue(pending_since: datetime | None, now: datetime, timeout_min: int) -> bool:
    return pending_since is not None and now - pending_since >= timedelta(minutes=timeout_min)


# An active chat whose visitor has had no live connection for this long (closed tab, lost phone) is ended, so it
# no longer takes one of the staff member's slots; a reload or a short network loss stays well inside it.
VISITOR_GONE_GRACE = timedelta(minutes=2)


def visitor_gone_due(gone_since: datetime | None, now: datetime, grace: timedelta = VISITOR_GONE_GRACE) -> bool:
    """Whether a visitor who was last seen connected before ``gone_since`` has been away for the grace period."""
    return gone_since is not None and now - gone_since >= grace


def escalation_allowed(from_tier: Tier | None, to_tier: Tier) -> bool:
    """Escalation goes up: volunteer → peer expert → professional."""
    return from_tier is not None and to_tier > from_tier


def handoff_line(to_tier: Tier, name: str | None) -> str:
    who = TIER_NAMES[to_tier]
    if name:
        return N_("Je wordt doorverbonden met %(who)s (%(name)s). Je hoeft je verhaal niet opnieuw te vertellen.") % {
            "who": who,
            "name": name,
        }
    return N_("Je wordt doorverbonden met %s. Even geduld; je hoeft je verhaal niet opnieuw te vertellen.") % who


def longest_wait_s(entries: Iterable[Waiting], now: datetime) -> int:
    return max((int((now - w.queued_at).total_seconds()) for w in entries), default=0)


# --- roster ---------------------------------------------------------------------------------


def block_interval(day: date, start: str, end: str) -> tuple[datetime, datetime]:
    """A roster block on ``day`` from ``start`` to ``end`` (HH:MM, Europe/Amsterdam); an end at or before the
    start runs past midnight into the next day."""
    start_t = _hhmm(start)
    end_t = _hhmm(end)
    begin = datetime.combine(day, start_t, tzinfo=TIMEZONE)
    finish_day = day if end_t > start_t else day + timedelta(days=1)
    finish = datetime.combine(finish_day, end_t, tzinfo=TIMEZONE)
    return begin, finish


def _hhmm(value: str) -> time:
    if value == "24:00":
        return time(0, 0)
    hh, _, mm = value.partition(":")
    return time(int(hh), int(mm))


def valid_hhmm(value: str) -> bool:
    hh, sep, mm = value.partition(":")
    return (
        bool(sep)
        and hh.isdigit()
        and mm.isdigit()
        and len(hh) == 2
        and len(mm) == 2
        and (0 <= int(hh) <= 23 and 0 <= int(mm) <= 59)
    )


@dataclass(frozen=True, slots=True)
class Block:
    """A planned shift of one staff member in one flavour."""

    block_id: str
    account_id: str
    role: str
    start_at: datetime
    end_at: datetime

    def covers(self, moment: datetime) -> bool:
        return self.start_at <= moment < self.end_at


@dataclass(frozen=True, slots=True)
class RosterSwitch:
    block_id: str
    account_id: str
    action: Literal["on", "off"]


def roster_switches(blocks: Sequence[Block], started: set[str], ended: set[str], now: datetime) -> list[RosterSwitch]:
    """What the roster job does at ``now``: sign on for blocks that began, sign off for blocks that ended."""
    out: list[RosterSwitch] = []
    for block in blocks:
        if block.end_at <= now:
            if block.block_id not in ended:
                out.append(RosterSwitch(block.block_id, block.account_id, "off"))
        elif block.start_at <= now and block.block_id not in started:
            out.append(RosterSwitch(block.block_id, block.account_id, "on"))
    return out


def tier_gap(
    blocks: Sequence[Block],
    tier: Tier,
    now: datetime,
    is_open_at: Callable[[datetime], bool],
    on_shift_now: bool = False,
    horizon: timedelta = GAP_HORIZON,
) -> datetime | None:
    """The first moment within ``horizon`` at which the chat is open and nobody of ``tier`` is rostered (someone
    signed on counts for now); None when the tier is covered."""
    steps = int(horizon / GAP_STEP)
    for i in range(steps + 1):
        moment = now + GAP_STEP * i
        if not is_open_at(moment):
            continue
        if i == 0 and on_shift_now:
            continue
        if not any(tier_of_role(b.role) == tier and b.covers(moment) for b in blocks):
            return moment
    return None


# --- 1-on-1 chats as stored ------------------------------------------------------------------------------------------

OPEN_STATUSES: tuple[str, ...] = ("waiting", "active")


def participants(doc: Mapping[str, Any]) -> frozenset[str]:
    """Who may read and write the chat's channel now: the visitor and the staff member(s) in it."""
    if doc.get("status") not in OPEN_STATUSES or doc.get("purged"):
        return frozenset()
    ids = {doc.get("visitor_id"), doc.get("staff_id"), doc.get("handoff_from")}
    return frozenset(str(i) for i in ids if i)


def waiting_entry(doc: Mapping[str, Any]) -> Waiting:
    """A stored waiting chat as the queue rules see it."""
    return Waiting(str(doc["_id"]), doc["queued_at"], bool(doc.get("risk")), Tier(int(doc["tier_needed"])))


def block_of(doc: Mapping[str, Any]) -> Block:
    """A stored roster block as the roster rules see it."""
    return Block(str(doc["_id"]), str(doc["account_id"]), str(doc["role"]), doc["start_at"], doc["end_at"])


# i18n: the record of a chat, in the language it was held in
def transcript(community: str, doc: Mapping[str, Any], events: Iterable[Mapping[str, Any]], site: str = "") -> str:
    """The plain-text transcript a visitor downloads: messages, system lines and suggested tools (with their link
    under ``site``, the scheme and host) in Dutch time, nothing else."""
    lines = [
        f"Gesprek bij {community}",
        f"Begonnen: {doc['requested_at'].astimezone(TIMEZONE):%d-%m-%Y %H:%M}",
        "",
    ]
    for event in events:
        at = event["ts"].astimezone(TIMEZONE).strftime("%H:%M")
        data = event.get("data") or {}
        if event.get("kind") == "message":
            role = f" ({event['role']})" if event.get("role") else ""
            text = "[verwijderd]" if data.get("deleted") else str(data.get("text", ""))
            lines.append(f"[{at}] {event.get('pseudonym', '')}{role}: {text}")
        elif event.get("kind") == "system":
            lines.append(f"[{at}] — {data.get('text', '')}")
        elif event.get("kind") == "chat" and data.get("event") == "tool_card":
            role = f" ({data['role']})" if data.get("role") else ""
            lines.append(
                f"[{at}] {data.get('staff', '')}{role} raadt aan: {data.get('title', '')} "
                f"({data.get('kind_label', '')}) – {data.get('summary', '')} {site}{data.get('url', '')}"
            )
    return "\n".join(lines) + "\n"


def queue_rows(waiting: Sequence[Mapping[str, Any]], staff_tier: Tier | None, now: datetime) -> list[dict[str, Any]]:
    """The staff console's queue: every waiting chat in queue order, with whether this staff member can take it."""
    entries = queue_order([waiting_entry(d) for d in waiting])
    by_id = {str(d["_id"]): d for d in waiting}
    rows = []
    for position, entry in enumerate(entries, start=1):
        d = by_id[entry.chat_id]
        rows.append(
            {
                "id": entry.chat_id,
                "flavour": d["flavour"],
                "topic": d.get("topic", ""),
                "risk": entry.risk,
                "position": position,
                "wait_min": int((now - entry.queued_at).total_seconds() // 60),
                "tier_needed": TIER_NAMES[entry.tier_needed],
                "can_take": can_take(staff_tier, entry.tier_needed),
                "handoff": bool(d.get("handoff_from")),
                "pseudonym": d.get("visitor_pseudonym", ""),
            }
        )
    return rows
