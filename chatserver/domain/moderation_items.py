"""Moderation items as the features and the consoles see them: references, views, the stored details, summaries.

Pure: an item document from the store becomes a :class:`ModerationItemView` (:func:`view_of`), a view becomes the
summary the consoles get live (:func:`item_summary`, never the text or the author), and a submission becomes the
details stored beside the queue fields (:func:`item_details`).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import asdict, dataclass, field, fields
from datetime import UTC, datetime
from typing import Any

from chatserver.domain.identity import AccountId, Actor
from chatserver.protocol.events import ModerationItemSummary
from moderation.crisis import CrisisResult
from moderation.queue import TARGET_AGE, DecisionKind, ModerationItem, is_claimed, is_overdue, order_key
from moderation.tiers import severity_rank, tier_rank

MAX_ITEM_TEXT = 2_000
_ITEM_FIELDS = tuple(f.name for f in fields(ModerationItem))


@dataclass(frozen=True)
class ItemRef:
    kind: str
    id: str
    channel: str | None = None
    url: str | None = None


@dataclass(frozen=True)
class ModerationItemView:
    """An item with what the feature and the console need: the object, its text, author, reporters and payload."""

    item: ModerationItem
    ref: ItemRef
    text: str
    author: Actor | None
    held_payload: dict[str, Any] | None
    reason: str = ""
    details: tuple[str, ...] = ()
    reports: tuple[dict[str, str], ...] = ()
    claimed_name: str = ""
    decision_reason: str = ""
    crisis: bool = False
    redacted_text: str = ""
    # Why the detector flagged it (plain words for staff), its probability (None: no model score) and version.
    crisis_reasons: tuple[str, ...] = ()
    crisis_score: float | None = None
    detector_version: str = ""
    # Milliseconds from the message to the first claim, for the metrics (None until claimed).
    time_to_claim_ms: int | None = None

    @property
    def score_percent(self) -> int | None:
        return None if self.crisis_score is None else round(self.crisis_score * 100)

    @property
    def context_url(self) -> str:
        """Where staff see the message in its context: the chat line itself, else the item page."""
        if self.ref.kind in ("chat_message", "vraagbaak_question") and self.ref.url:
            return self.ref.url
        return f"/backoffice/moderatie/{self.item.id}"

    @property
    def id(self) -> str:
        return self.item.id

    @property
    def flavour(self) -> str:
        return self.item.flavour


@dataclass(frozen=True)
class ReportedObject:
    """What the owner of a reported object says it is (never what the reporter says)."""

    flavour: str
    text: str
    author: Actor | None
    url: str | None = None


@dataclass(frozen=True)
class StaffDecision:
    """What a moderator asks for; turned into the pure :class:`Decision` plus the further fields some kinds need."""

    kind: DecisionKind
    reason: str = ""
    mute_minutes: int | None = None
    ban_days: int | None = None
    redacted_text: str = ""
    also_hide: bool = False  # "mute and hide": the offending message is hidden in the same action


@dataclass
class BulkResult:
    done: list[str] = field(default_factory=list)
    failed: dict[str, str] = field(default_factory=dict)


# --- actors kept with an item ---------------------------------------------------------------------------------------


def actor_snapshot(actor: Actor) -> dict[str, Any]:
    return {
        "account_id": str(actor.account_id),
        "pseudonym": actor.pseudonym,
        "kind": actor.kind,
        "role": actor.role,
        "flavours": sorted(actor.flavours),
        "validated": actor.validated,
        "verified": actor.verified,
    }


def actor_from_snapshot(snap: dict[str, Any] | None) -> Actor | None:
    if not snap:
        return None
    return Actor(
        account_id=AccountId(str(snap.get("account_id", ""))),
        pseudonym=str(snap.get("pseudonym", "")),
        kind=snap.get("kind") or "member",
        role=snap.get("role"),
        flavours=frozenset(snap.get("flavours") or ()),
        validated=bool(snap.get("validated")),
        verified=bool(snap.get("verified")),
    )


# --- stored documents -------------------------------------------------------------------------------------------


def to_ms(at: datetime) -> datetime:
    """A UTC time truncated to milliseconds: what MongoDB keeps, so hashes computed before and after storing agree."""
    at = at.astimezone(UTC)
    return at.replace(microsecond=at.microsecond // 1000 * 1000)


def aware(value: Any) -> Any:
    """A stored datetime with its time zone (naive values are UTC); anything else as it is."""
    if isinstance(value, datetime) and value.tzinfo is None:
        return value.replace(tzinfo=UTC)
    return value


def item_to_doc(item: ModerationItem) -> dict[str, Any]:
    doc = asdict(item)
    doc["_id"] = doc.pop("id")
    doc["rules"] = list(item.rules)
    return doc


def item_from_doc(doc: Mapping[str, Any]) -> ModerationItem:
    values = {name: aware(doc.get(name)) for name in _ITEM_FIELDS if name != "id"}
    values["rules"] = tuple(doc.get("rules") or ())
    values["no_professional_on_shift"] = bool(doc.get("no_professional_on_shift"))
    values["state"] = doc.get("state") or "open"
    return ModerationItem(id=str(doc["_id"]), **values)


def explanation(crisis: CrisisResult | None) -> dict[str, Any]:
    """What a moderation item keeps of the detector's verdict: reasons, score and version, never the text."""
    if crisis is None or not (crisis.flagged or crisis.needs_review):
        return {}
    return {
        "crisis_reasons": [str(reason)[:200] for reason in crisis.reasons[:8]],
        "crisis_score": float(crisis.score) if crisis.score > 0 else None,
        "crisis_category": crisis.category,
        "detector_version": crisis.version,
    }


def item_details(
    *,
    ref: ItemRef,
    text: str,
    author: Actor | None,
    reason: str,
    details: tuple[str, ...],
    held_payload: dict[str, Any] | None,
    crisis: bool,
    verdict_crisis: CrisisResult | None,
    reporter: Actor | None,
) -> dict[str, Any]:
    """What is stored beside the queue fields of a new item: the object, its text and author, the first report."""
    return {
        "ref": {"kind": ref.kind, "id": ref.id, "channel": ref.channel, "url": ref.url},
        "text": str(text)[:MAX_ITEM_TEXT],
        "author": actor_snapshot(author) if author is not None else None,
        "author_id": str(author.account_id) if author is not None else None,
        "reason": reason,
        "details": list(details),
        "held_payload": held_payload,
        "crisis": crisis,
        **explanation(verdict_crisis),
        "reports": [{"reporter_id": str(reporter.account_id), "reason": reason}] if reporter else [],
        "reporter_ids": [str(reporter.account_id)] if reporter else [],
    }


def view_of(item: ModerationItem, doc: Mapping[str, Any]) -> ModerationItemView:
    """The view of an item from its stored document (the queue fields are taken from ``item``)."""
    ref = doc.get("ref") or {}
    return ModerationItemView(
        item=item,
        ref=ItemRef(
            kind=str(ref.get("kind", "")), id=str(ref.get("id", "")), channel=ref.get("channel"), url=ref.get("url")
        ),
        text=str(doc.get("text") or ""),
        author=actor_from_snapshot(doc.get("author")),
        held_payload=doc.get("held_payload"),
        reason=str(doc.get("reason") or ""),
        details=tuple(doc.get("details") or ()),
        reports=tuple(doc.get("reports") or ()),
        claimed_name=str(doc.get("claimed_name") or "") if item.claimed_by else "",
        decision_reason=str(doc.get("decision_reason") or ""),
        crisis=bool(doc.get("crisis")),
        redacted_text=str(doc.get("redacted_text") or ""),
        crisis_reasons=tuple(str(r) for r in doc.get("crisis_reasons") or ()),
        crisis_score=float(doc["crisis_score"]) if isinstance(doc.get("crisis_score"), (int, float)) else None,
        detector_version=str(doc.get("detector_version") or ""),
        time_to_claim_ms=int(doc["time_to_claim_ms"]) if isinstance(doc.get("time_to_claim_ms"), int) else None,
    )


def item_summary(view: ModerationItemView, now: datetime) -> ModerationItemSummary:
    """What goes to the consoles over ``mod:<flavour>``: no text and no author (the row is fetched with access
    checks), only what places and ages the item."""
    item = view.item
    claimed = is_claimed(item, now)
    return ModerationItemSummary(
        id=item.id,
        flavour=item.flavour,
        source=item.source,
        tier=item.tier,
        tier_rank=tier_rank(item.tier),
        severity=item.severity,
        severity_rank=severity_rank(item.severity),
        state="claimed" if claimed else ("decided" if item.state == "decided" else "open"),
        claimed_by=item.claimed_by if claimed else None,
        claimed_name=view.claimed_name if claimed else "",
        decision=item.decision,
        created_at=int(item.created_at.timestamp() * 1000),
        target_s=int(TARGET_AGE[item.severity].total_seconds()),
        crisis=view.crisis,
        no_professional_on_shift=item.no_professional_on_shift,
        context_url=view.context_url,
    )


def message_offset(ref: ItemRef) -> int | None:
    """The offset of a stored live message from a reference id ``"<offset>"`` or ``"<channel>#<offset>"``."""
    tail = ref.id.rsplit("#", 1)[-1]
    return int(tail) if tail.isdigit() and len(tail) < 16 else None


def is_item_overdue(view: ModerationItemView, now: datetime) -> bool:
    return is_overdue(view.item, now)


def sort_views(views: list[ModerationItemView]) -> list[ModerationItemView]:
    return sorted(views, key=lambda view: order_key(view.item))
