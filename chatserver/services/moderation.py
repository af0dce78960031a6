"""The moderation service: screening, the three-tier queue, claims, decisions, notices, crisis routing and audit.

The composition root builds it once (``chatserver.wiring``) and hands it to the features that need it:
``screen()`` before storing, ``submit()`` for a hold or a report, ``register_handler(kind, …)`` to say what a
decision does to their objects, ``chat_screener()`` for live channels. The rules themselves live in the pure
``moderation`` package; this module adds storage, notices, live updates and the audit chain.

Professionals on shift (crisis routing) come from the shifts service it is given (the on-shift sets in Redis,
filled at sign-on and emptied at sign-off).
"""

from __future__ import annotations

import asyncio
import logging
import uuid
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING, Any, Literal

from chatserver.adapters.accounts_repo import AccountsRepo
from chatserver.adapters.moderation_store import MongoModerationStore, to_ms
from chatserver.adapters.recent_lines import RedisRecentLines
from chatserver.adapters.redis_batch import AutoPipeline
from chatserver.domain.channels import ChannelKind, ChannelRef, mod_channel, parse_channel, user_channel
from chatserver.domain.identity import AccountId, Actor
from chatserver.domain.sanctions import Sanction
from chatserver.domain.sanctions import Target as SanctionTarget
from chatserver.flavours import TIMEZONE
from chatserver.services.chat import ChatError, Screener, Screening
from moderation import audit as audit_chain
from moderation.audit import AuditEntry
from moderation.crisis import CrisisResult, detect
from moderation.queue import (
    TARGET_AGE,
    Decision,
    DecisionKind,
    ItemSource,
    ModerationItem,
    QueueError,
    Staff,
    allowed_decisions,
    can_see,
    claim,
    decide,
    is_claimed,
    is_overdue,
    new_item,
    order_key,
    unclaim,
    visible_queue,
)
from moderation.rules import PlaceKind, RuleContext, RuleSettings, Verdict, evaluate, find_contact_details
from moderation.tiers import TIERS, Severity, Tier, max_severity, max_tier, severity_rank, tier_rank

if TYPE_CHECKING:
    from chatserver.adapters.mongo_client import Database
    from chatserver.adapters.redis_client import Redis
    from chatserver.flavours import Flavour, FlavourCatalog
    from chatserver.services.chat import ChatService
    from chatserver.services.identity import IdentityService
    from chatserver.services.shifts import ShiftService

log = logging.getLogger("chatserver.moderation")

Place = Literal["room", "forum", "spreekuur_question", "chat_1on1", "vraagbaak", "story"]
MAX_ITEM_TEXT = 2_000
EMIT_TIMEOUT_S = 3.0
AUDIT_RETRIES = 20
QUEUE_LIMIT = 500
BULK_KINDS: frozenset[DecisionKind] = frozenset({"approve", "hide", "reject"})
ITEM_RETENTION = timedelta(days=90)
ACCOUNT_AGE_CACHE = 10_000

_PLACE_KIND: dict[Place, PlaceKind] = {
    "room": "room",
    "forum": "forum",
    "spreekuur_question": "spreekuur_question",
    "chat_1on1": "one_on_one",
    "vraagbaak": "one_on_one",
    "story": "forum",
}
# Places where visitors write to each other: contact details are blocked there by default.
PEER_TO_PEER_PLACES: frozenset[Place] = frozenset({"room", "forum", "spreekuur_question", "story"})

DECISION_LABELS: dict[str, str] = {
    "approve": "Goedgekeurd",
    "reject": "Afgewezen",
    "redact": "Aangepast",
    "hide": "Verborgen",
    "warn": "Gewaarschuwd",
    "mute": "Tijdelijk gedempt",
    "ban": "Geweerd",
    "escalate": "Doorgezet naar hogere laag",
    "release": "Vrijgegeven (vals alarm)",
}
SOURCE_LABELS: dict[str, str] = {
    "report": "Melding",
    "rule": "Regel",
    "premoderation": "Voormoderatie",
    "crisis": "Crisis",
    "spreekuur_question": "Spreekuurvraag",
}
TIER_LABELS: dict[str, str] = {
    "volunteer": "Vrijwilliger",
    "peer_expert": "Ervaringsdeskundige",
    "professional": "Professional",
    "admin": "Beheerder",
    "editor": "Redacteur",
}
SEVERITY_LABELS: dict[str, str] = {"low": "laag", "medium": "middel", "high": "hoog", "critical": "kritiek"}

AUTHOR_NOTICES: dict[str, str] = {
    "reject": "Je bericht is niet geplaatst.",
    "hide": "Je bericht is verborgen door een moderator.",
    "redact": "Een moderator heeft je bericht aangepast.",
    "warn": "Je hebt een waarschuwing gekregen van een moderator.",
    "mute": "Je kunt een tijdje geen berichten plaatsen.",
    "ban": "Je hebt geen toegang meer tot deze community.",
    "approve": "Je bericht is bekeken en geplaatst.",
    "release": "Je bericht is bekeken en alsnog geplaatst.",
}
REPORTER_OUTCOMES: dict[str, str] = {
    "approve": "We hebben je melding bekeken. Het bericht blijft staan: het past binnen onze huisregels.",
    "reject": "Bedankt voor je melding. We hebben actie ondernomen.",
    "redact": "Bedankt voor je melding. Het bericht is aangepast.",
    "hide": "Bedankt voor je melding. Het bericht is verborgen.",
    "warn": "Bedankt voor je melding. De schrijver heeft een waarschuwing gekregen.",
    "mute": "Bedankt voor je melding. De schrijver kan een tijdje niets plaatsen.",
    "ban": "Bedankt voor je melding. De schrijver heeft geen toegang meer.",
}
_SCREENED_KINDS = (ChannelKind.ROOM, ChannelKind.CHAT, ChannelKind.SPREEKUUR)
# Live channels where an author's last few lines are kept briefly and judged together (a goodbye over short lines).
RECALLED_KINDS = (ChannelKind.ROOM, ChannelKind.CHAT)
CRISIS_OUTCOMES = "crisis_outcomes"
# Counted per detector version when staff decide a crisis item: a release is a false positive, the rest confirm it.
OUTCOME_OF: dict[str, str] = {"release": "released", "approve": "confirmed", "reject": "confirmed",
                              "redact": "confirmed", "hide": "confirmed", "warn": "confirmed", "mute": "confirmed",
                              "ban": "confirmed"}  # fmt: skip
MUTED_REASON = "Je kunt tijdelijk geen berichten plaatsen in deze community (tot {until})."
MUTED_BECAUSE = " Reden van de moderator: {reason}"
MAX_MUTE_REASON_CHARS = 300  # kept with the mute in Redis and shown to the muted person


def nl_until(moment: datetime) -> str:
    """'7-12-2026 om 10:45' in Dutch time (Europe/Amsterdam), for the end of a mute."""
    local = moment.astimezone(TIMEZONE)
    return f"{local.day}-{local.month}-{local.year} om {local:%H:%M}"


def muted_text(until: datetime, reason: str) -> str:
    """What a muted person reads when they try to post: the end in Dutch time and the moderator's reason."""
    text = MUTED_REASON.format(until=nl_until(until))
    return text + MUTED_BECAUSE.format(reason=reason) if reason else text


PUBLIC_ITEM_KEYS = ("id", "flavour", "source", "tier", "severity", "state", "claimed_by")


class ModerationError(Exception):
    """A refused moderation use case; ``detail`` is Dutch and may be shown. 404 also means "not yours to see"."""

    def __init__(self, status: int, detail: str) -> None:
        super().__init__(detail)
        self.status = status
        self.detail = detail


NOT_FOUND = "Dit item bestaat niet of je mag het niet zien."
ERASED_ACCOUNT = "verwijderd account"


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


Handler = Callable[[ModerationItemView, Decision], Awaitable[None]]
# For reports through the API: the owner of ``kind`` looks up the object (text, author, staff link, flavour).
ReportResolver = Callable[[ItemRef], Awaitable["ReportedObject | None"]]


@dataclass(frozen=True)
class ReportedObject:
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


def staff_of(actor: Actor | None) -> Staff | None:
    """The queue's view of a staff member, or None for anyone else."""
    if actor is None or not actor.is_staff or actor.role is None:
        return None
    return Staff(id=str(actor.account_id), role=actor.role, flavours=actor.flavours)


def rule_settings(flavour: Flavour) -> RuleSettings:
    rules = flavour.moderation
    return RuleSettings(
        blocked_words=tuple(rules.blocked_words),
        blocked_patterns=tuple(rules.blocked_patterns),
        no_body_numbers=rules.no_body_numbers,
        block_contact_details=rules.block_contact_details,
        max_links_new_account=rules.max_links_new_account,
        premoderate_new_accounts=rules.premoderate_new_accounts,
        new_account_days=rules.new_account_days,
    )


def crisis_notice(flavour: Flavour | None, *, held: bool = True, staffed: bool = True) -> str:
    """The supportive Dutch notice for a crisis message, with the crisis lines (youth: De Kindertelefoon).

    ``held=False`` in a 1-on-1 chat (nothing is held there); ``staffed=False`` when no professional is on shift:
    the author is then told plainly to call 113 or 112 now.
    """
    if not staffed:
        first = (
            "Er is nu geen professional van ons team in dienst. Wacht niet op ons: bel nu 113 (gratis: 0800-0113) "
            "of chat via 113.nl. Is er direct gevaar? Bel 112."
        )
        lines = [first] if not held else ["Je bericht is even tegengehouden.", first]
        lines.append("Je staat er niet alleen voor: een ervaringsdeskundige van ons team kijkt mee.")
        if flavour is not None and flavour.youth:
            lines.append("Ben je jonger dan 18? Bel of chat gratis met De Kindertelefoon: 0800-0432.")
        return " ".join(lines)
    lines = [
        (
            "Je bericht is even tegengehouden zodat iemand van ons team met je mee kan kijken. "
            if held
            else "We lezen met je mee en een professional van ons team is gewaarschuwd. "
        )
        + "Je staat er niet alleen voor.",
        "Denk je aan zelfmoord? Praat erover met 113 Zelfmoordpreventie: bel 113 of gratis 0800-0113, "
        "of chat via 113.nl.",
        "Is er direct gevaar? Bel 112.",
    ]
    if flavour is not None and flavour.youth:
        lines.append("Ben je jonger dan 18? Bel of chat gratis met De Kindertelefoon: 0800-0432.")
    return " ".join(lines)


def resources_of(flavour: Flavour | None) -> list[dict[str, str]]:
    if flavour is None:
        return []
    return [
        {"name": r.name, "description": r.description, "phone": r.phone, "url": r.url, "chat_url": r.chat_url}
        for r in flavour.crisis_resources
    ]


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


def message_offset(ref: ItemRef) -> int | None:
    """The offset of a stored live message from a reference id ``"<offset>"`` or ``"<channel>#<offset>"``."""
    tail = ref.id.rsplit("#", 1)[-1]
    return int(tail) if tail.isdigit() and len(tail) < 16 else None


def _aware(value: Any) -> datetime | None:
    if isinstance(value, datetime):
        return value if value.tzinfo is not None else value.replace(tzinfo=UTC)
    return None


class ModerationService:
    def __init__(
        self,
        *,
        catalog: FlavourCatalog,
        db: Database,
        redis: Redis,
        key: Callable[..., str],
        batch: AutoPipeline,
        redis_prefix: str,
        chat: ChatService,
        identity: IdentityService,
        shifts: ShiftService,
        clock: Callable[[], datetime] | None = None,
    ) -> None:
        self.catalog = catalog
        self.db = db
        self.redis = redis
        self.key = key
        self.batch = batch
        self.chat = chat
        self.identity = identity
        self.shifts = shifts
        self.store = MongoModerationStore(db)
        self.clock: Callable[[], datetime] = clock or (lambda: datetime.now(UTC))
        self.handlers: dict[str, Handler] = {}
        self.report_resolvers: dict[str, ReportResolver] = {}
        self._account_age: dict[str, datetime] = {}
        self.recent = RedisRecentLines(batch, redis_prefix)

    def mute_key(self, flavour: str, account_id: str) -> str:
        return self.key("mute", flavour, account_id)

    # --- screening -------------------------------------------------------------------------------------------------

    def screen(
        self,
        actor: Actor,
        flavour: str,
        place: Place,
        text: str,
        *,
        account_age_days: float | Literal["unknown"] | None = "unknown",
        recent: Sequence[str] = (),
    ) -> Verdict:
        """The flavour's rules plus the crisis detector; pure (no I/O).

        ``Verdict.action`` is ``"allow"``, ``"hold"`` or ``"block"`` (``"block"`` = refuse, with ``Verdict.reason``
        in Dutch for the author). The account age is taken from ``account_age_days`` when given, else from what
        :meth:`check` last looked up for this account; guests are always new, members not looked up yet count as
        established (use :meth:`check` where pre-moderation of new accounts matters).
        """
        found = self.catalog.get(flavour)
        settings = rule_settings(found) if found is not None else RuleSettings()
        if account_age_days == "unknown":
            account_age_days = self._cached_age(actor)
        context = RuleContext(
            place=_PLACE_KIND[place],
            account_age_days=account_age_days,
            peer_to_peer=place in PEER_TO_PEER_PLACES and not actor.is_staff,
            staff_author=actor.is_staff,
        )
        return evaluate(text, settings, context, recent)

    async def check(self, actor: Actor, flavour: str, place: Place, text: str, recent: Sequence[str] = ()) -> Verdict:
        """:meth:`screen` with the account's real age looked up first (one read, cached)."""
        age_days = await self.account_age_days(actor)
        return self.screen(actor, flavour, place, text, account_age_days=age_days, recent=recent)

    async def recall(self, actor: Actor, ref: ChannelRef, text: str) -> tuple[str, ...]:
        """For ``chat.recall``: the author's previous lines in a room or 1-on-1 chat, recording this one.

        Staff lines are not kept. A line with contact details is not kept either (it is refused anyway, and
        Redis must never hold an e-mail address or phone number).
        """
        if ref.kind not in RECALLED_KINDS or actor.is_staff:
            return ()
        line = None if find_contact_details(text) else text
        return await self.recent.push_and_read(ref.name, str(actor.account_id), line)

    def _cached_age(self, actor: Actor) -> float | None:
        if actor.is_guest:
            return None
        created = self._account_age.get(str(actor.account_id))
        if created is None:
            return 10_000.0
        return (self.clock() - created).total_seconds() / 86_400

    async def account_age_days(self, actor: Actor) -> float | None:
        if actor.is_guest:
            return None
        key = str(actor.account_id)
        if key not in self._account_age:
            doc = await self.db["accounts"].find_one({"_id": key}, projection={"created_at": 1})
            created = _aware(doc.get("created_at")) if doc else None
            if created is None:
                return None
            if len(self._account_age) >= ACCOUNT_AGE_CACHE:
                self._account_age.clear()
            self._account_age[key] = created
        return self._cached_age(actor)

    async def mute_of(self, account_id: str, flavour: str) -> tuple[datetime, str] | None:
        """The end of the account's mute in this flavour and the moderator's reason, or None when not muted."""
        until = await self.muted_until(account_id, flavour)
        return None if until is None else (until, await self._mute_reason(account_id, flavour))

    async def _mute_reason(self, account_id: str, flavour: str) -> str:
        stored = await self.redis.get(self.mute_key(flavour, account_id))
        reason = stored.decode() if isinstance(stored, bytes) else str(stored or "")
        return "" if reason == "1" else reason  # "1": a mute without a reason (or set before reasons were kept)

    async def muted_until(self, account_id: str, flavour: str) -> datetime | None:
        """The end of the account's mute in this flavour, or None."""
        ttl_ms = int(await self.batch.execute("PTTL", self.mute_key(flavour, account_id)))
        if ttl_ms <= 0:
            return None
        return self.clock() + timedelta(milliseconds=ttl_ms)

    async def mute_gate(self, actor: Actor, ref: ChannelRef) -> str | None:
        """A gate for ``chat.gates``: the refusal for a muted visitor, else None (staff are never muted)."""
        if ref.kind not in _SCREENED_KINDS or actor.is_staff:
            return None
        until = await self.muted_until(str(actor.account_id), ref.flavour)
        if until is None:  # the hot path: one PTTL; the reason is read only for someone who is muted
            return None
        return muted_text(until, await self._mute_reason(str(actor.account_id), ref.flavour))

    def chat_screener(self, check_mute: bool = True) -> Screener:
        """A screener for ``chat.screeners``: refuse, hold (as a moderation item) or allow a live message.

        ``check_mute=False`` when :meth:`mute_gate` is registered as a gate for the same channels.
        """

        async def screener(
            actor: Actor, ref: ChannelRef, client_msg_id: str, text: str, /, *, recent: Sequence[str] = ()
        ) -> Screening:
            if ref.kind not in _SCREENED_KINDS:
                return Screening()
            if check_mute:
                refusal = await self.mute_gate(actor, ref)
                if refusal is not None:
                    return Screening("refuse", reason=refusal)
            place: Place = {ChannelKind.ROOM: "room", ChannelKind.CHAT: "chat_1on1"}.get(ref.kind, "room")  # type: ignore[assignment]
            verdict = await self.check(actor, ref.flavour, place, text, recent)
            if verdict.action == "allow":
                return Screening()
            if verdict.action == "block" and not verdict.crisis.flagged:
                return Screening("refuse", reason=verdict.reason)
            kind = "chat_message" if ref.kind is ChannelKind.CHAT else "room_message"
            flavour = self.catalog.get(ref.flavour)
            url = f"/f/{ref.flavour}/chat/{ref.ident}/" if ref.kind is ChannelKind.ROOM else None
            item = await self.submit_item(
                flavour=ref.flavour,
                source="crisis" if verdict.crisis.flagged else "rule",
                ref=ItemRef(kind=kind, id=f"{ref.name}#{client_msg_id}", channel=ref.name, url=url),
                text=text,
                author=actor,
                verdict=verdict,
                held_payload={
                    "channel": ref.name,
                    "client_msg_id": client_msg_id,
                    "text": text,
                    "author": actor_snapshot(actor),
                },
            )
            if verdict.crisis.flagged:
                return Screening("hold", notice=crisis_notice(flavour, staffed=not item.no_professional_on_shift))
            return Screening("hold", notice=verdict.reason)

        return screener

    # --- handlers --------------------------------------------------------------------------------------------------

    def register_handler(self, kind: str, handler: Handler) -> None:
        """What a decision does to objects of ``kind`` (the owning feature registers it once)."""
        self.handlers[kind] = handler

    def register_report_resolver(self, kind: str, resolver: ReportResolver) -> None:
        """How a report of ``kind`` finds the object (text, author, flavour) without trusting the reporter."""
        self.report_resolvers[kind] = resolver

    # --- submitting ------------------------------------------------------------------------------------------------

    async def submit(
        self,
        *,
        flavour: str,
        source: ItemSource,
        ref: ItemRef,
        text: str,
        author: Actor | None,
        verdict: Verdict | None = None,
        reporter: Actor | None = None,
        reason: str = "",
        held_payload: dict[str, Any] | None = None,
    ) -> str:
        """Create (or, for a repeated report, join) a moderation item, route it and tell the consoles."""
        item = await self.submit_item(
            flavour=flavour,
            source=source,
            ref=ref,
            text=text,
            author=author,
            verdict=verdict,
            reporter=reporter,
            reason=reason,
            held_payload=held_payload,
        )
        return item.id

    async def submit_item(
        self,
        *,
        flavour: str,
        source: ItemSource,
        ref: ItemRef,
        text: str,
        author: Actor | None,
        verdict: Verdict | None = None,
        reporter: Actor | None = None,
        reason: str = "",
        held_payload: dict[str, Any] | None = None,
    ) -> ModerationItem:
        """:meth:`submit`, answering the item itself (its routing says whether a professional is on shift)."""
        if self.catalog.get(flavour) is None:
            raise ModerationError(404, "Deze community bestaat niet.")
        subject_id = f"{ref.kind}:{ref.id}"
        reason = str(reason).strip()[:500]
        if source == "report" and reporter is not None:
            existing = await self.store.open_item_for_subject(flavour, subject_id)
            if existing is not None:
                await self.store.add_reporter(str(existing["_id"]), str(reporter.account_id), reason)
                return self._item(existing)
        if verdict is None and source in ("report", "spreekuur_question"):
            crisis = detect(text)
            if crisis.flagged:
                verdict = Verdict(action="hold", crisis=crisis)
        severity: Severity = "medium" if source == "report" else "low"
        tier: Tier = "volunteer"
        rules: tuple[str, ...] = ()
        details: tuple[str, ...] = ()
        crisis_flagged = False
        if verdict is not None:
            for hit in verdict.hits:
                severity = max_severity(severity, hit.severity)
                tier = max_tier(tier, hit.tier)
            rules = tuple(hit.rule for hit in verdict.hits)
            details = tuple(hit.detail for hit in verdict.hits)
            if verdict.crisis.flagged:
                crisis_flagged = True
                severity = (
                    "critical" if verdict.crisis.severity is None else max_severity("high", verdict.crisis.severity)
                )
                tier = "professional"
                if source not in ("report", "spreekuur_question"):
                    source = "crisis"
        staffed = await self.shifts.professional_on_shift(flavour)
        now = to_ms(self.clock())
        item = new_item(
            id=uuid.uuid4().hex,
            flavour=flavour,
            source=source,
            severity="critical" if crisis_flagged else severity,
            created_at=now,
            subject_id=subject_id,
            professional_on_shift=staffed,
            tier=tier,
            rules=rules,
        )
        if crisis_flagged and item.tier != "professional" and not item.no_professional_on_shift:
            item = replace(item, tier="professional")
        extra: dict[str, Any] = {
            "ref": {"kind": ref.kind, "id": ref.id, "channel": ref.channel, "url": ref.url},
            "text": str(text)[:MAX_ITEM_TEXT],
            "author": actor_snapshot(author) if author is not None else None,
            "author_id": str(author.account_id) if author is not None else None,
            "reason": reason,
            "details": list(details),
            "held_payload": held_payload,
            "crisis": crisis_flagged,
            **explanation(verdict.crisis if verdict is not None else None),
            "reports": [{"reporter_id": str(reporter.account_id), "reason": reason}] if reporter else [],
            "reporter_ids": [str(reporter.account_id)] if reporter else [],
        }
        await self.store.add_item(item, extra)
        log.info("moderation item %s: %s/%s in %s", item.id, item.source, item.severity, flavour)
        view = self._view(item, extra)
        if crisis_flagged:
            await self._emit(flavour, "crisis", view)
            await self._alert_on_shift(view)
        else:
            await self._emit(flavour, "new", view)
        return item

    async def report(self, reporter: Actor, kind: str, object_id: str, channel: str | None, reason: str) -> str:
        """A visitor reports a message or post; the object is looked up, never taken from the reporter."""
        ref = ItemRef(kind=kind, id=str(object_id), channel=channel)
        found: ReportedObject | None
        if kind == "room_message":
            found = await self._resolve_room_message(ref)
        else:
            resolver = self.report_resolvers.get(kind)
            found = await resolver(ref) if resolver is not None else None
        if found is None:
            raise ModerationError(404, "Dit bericht bestaat niet (meer).")
        if found.author is not None and found.author.account_id == reporter.account_id:
            raise ModerationError(422, "Je kunt je eigen bericht niet melden.")
        ref = replace(ref, url=found.url or ref.url)
        return await self.submit(
            flavour=found.flavour,
            source="report",
            ref=ref,
            text=found.text,
            author=found.author,
            reporter=reporter,
            reason=reason,
        )

    async def _resolve_room_message(self, ref: ItemRef) -> ReportedObject | None:
        parsed = parse_channel(ref.channel or "")
        offset = message_offset(ref)
        if parsed is None or parsed.kind not in (ChannelKind.ROOM, ChannelKind.SPREEKUUR) or offset is None:
            return None
        chat = self.chat
        doc = await chat.store.find_event(parsed.name, offset)
        if doc is None or doc.get("kind", "message") != "message" or (doc.get("data") or {}).get("deleted"):
            return None
        author = Actor(
            account_id=AccountId(str(doc.get("sender", ""))), pseudonym=str(doc.get("pseudonym", "")), kind="member"
        )
        url = f"/f/{parsed.flavour}/chat/{parsed.ident}/" if parsed.kind is ChannelKind.ROOM else None
        return ReportedObject(parsed.flavour, str((doc.get("data") or {}).get("text", "")), author, url)

    # --- reading ---------------------------------------------------------------------------------------------------

    async def queue(
        self,
        actor: Actor,
        *,
        flavour: str | None = None,
        tier: Tier | None = None,
        source: str | None = None,
        limit: int = QUEUE_LIMIT,
    ) -> list[ModerationItemView]:
        """The undecided items this staff member sees, most severe and oldest first, optionally filtered."""
        staff = staff_of(actor)
        if staff is None:
            raise ModerationError(404, NOT_FOUND)
        flavours: list[str] | None = None if staff.is_admin else sorted(staff.flavours)
        if flavour is not None:
            if flavours is not None and flavour not in flavours:
                return []
            flavours = [flavour]
        tiers = [t for t in TIERS if tier_rank(t) <= tier_rank(staff.tier)]
        if tier is not None:
            tiers = [t for t in tiers if t == tier]
        docs = await self.store.open_docs(flavours, tiers, [source] if source else None, limit)
        now = self.clock()
        by_id = {str(doc["_id"]): doc for doc in docs}
        items = visible_queue(staff, (self._item(doc) for doc in docs), now)
        return [self._view(item, by_id[item.id]) for item in items]

    async def get(self, actor: Actor, item_id: str) -> ModerationItemView:
        """One item, if this staff member may see it (else 404, whether or not it exists)."""
        staff = staff_of(actor)
        doc = await self.store.get_doc(item_id) if staff is not None else None
        if staff is None or doc is None:
            raise ModerationError(404, NOT_FOUND)
        item = self._item(doc)
        if not can_see(staff, item):
            raise ModerationError(404, NOT_FOUND)
        return self._view(item, doc)

    async def history(self, actor: Actor, item_id: str) -> list[AuditEntry]:
        await self.get(actor, item_id)
        return await self.store.audit_for_item(item_id)

    def decisions_for(self, actor: Actor) -> list[DecisionKind]:
        staff = staff_of(actor)
        if staff is None:
            return []
        order: list[DecisionKind] = [
            "approve",
            "reject",
            "redact",
            "hide",
            "warn",
            "mute",
            "ban",
            "escalate",
            "release",
        ]
        allowed = allowed_decisions(staff)
        return [kind for kind in order if kind in allowed]

    # --- claims ----------------------------------------------------------------------------------------------------

    async def claim(self, actor: Actor, item_id: str) -> ModerationItemView:
        """Take an item (or renew one's own claim); an expired claim may be taken over."""
        staff, item, doc = await self._load(actor, item_id)
        now = self.clock()
        try:
            claimed = claim(item, staff, now)
        except QueueError as exc:
            raise ModerationError(409, str(exc)) from exc
        extra: dict[str, Any] = {"claimed_name": actor.pseudonym}
        first = doc.get("time_to_claim_ms") is None
        if first:
            # The item is created when the message arrives: its age at the first claim is the time to claim.
            extra["time_to_claim_ms"] = max(0, int((to_ms(now) - item.created_at).total_seconds() * 1000))
            extra["first_claimed_at"] = to_ms(now)
        if not await self.store.replace_item(item, claimed, extra):
            raise ModerationError(409, "Een collega was je net voor. Ververs de lijst.")
        doc.update(extra)
        view = self._view(claimed, doc)
        if first:
            seconds = (view.time_to_claim_ms or 0) / 1000
            await self._audit(actor, staff, "claim", f"opgepakt na {seconds:.1f} s", claimed)
        await self._emit(item.flavour, "claimed", view)
        return view

    async def unclaim(self, actor: Actor, item_id: str) -> ModerationItemView:
        staff, item, doc = await self._load(actor, item_id)
        try:
            opened = unclaim(item, staff, self.clock())
        except QueueError as exc:
            raise ModerationError(409, str(exc)) from exc
        if not await self.store.replace_item(item, opened, {"claimed_name": ""}):
            raise ModerationError(409, "Dit item is intussen veranderd. Ververs de lijst.")
        doc["claimed_name"] = ""
        view = self._view(opened, doc)
        await self._emit(item.flavour, "claimed", view)
        return view

    # --- deciding --------------------------------------------------------------------------------------------------

    async def decide(self, actor: Actor, item_id: str, request: StaffDecision) -> ModerationItemView:
        """Apply a decision to an item the staff member has claimed; effects, notices, audit and live update."""
        staff, item, doc = await self._load(actor, item_id)
        if request.kind not in allowed_decisions(staff):
            raise ModerationError(403, "Deze beslissing mag jouw rol niet nemen.")
        mute_for = timedelta(minutes=request.mute_minutes) if request.mute_minutes else None
        decision = Decision(kind=request.kind, reason=str(request.reason).strip()[:1000], mute_for=mute_for)
        if request.kind == "redact" and not request.redacted_text.strip():
            raise ModerationError(422, "Geef de aangepaste tekst op.")
        if request.kind in ("mute", "ban", "warn") and not doc.get("author_id"):
            raise ModerationError(422, "Bij dit item hoort geen schrijver.")
        if request.kind == "ban" and (request.ban_days is None or not 1 <= request.ban_days <= 3650):
            raise ModerationError(422, "Kies een duur tussen 1 en 3650 dagen; voorgoed weren gaat via twee beheerders.")
        if request.kind in ("mute", "ban"):
            await self._authorise_sanction(actor, item.flavour, str(doc["author_id"]), request)
        now = self.clock()
        try:
            decided = decide(item, staff, decision, now)
        except QueueError as exc:
            raise ModerationError(409 if "Claim" in str(exc) else 422, str(exc)) from exc
        if decided.decided_at is not None:
            decided = replace(decided, decided_at=to_ms(decided.decided_at))
        extra: dict[str, Any] = {"decision_reason": decision.reason}
        if request.kind == "redact":
            extra["redacted_text"] = request.redacted_text.strip()[:MAX_ITEM_TEXT]
        if request.kind == "escalate":
            extra["claimed_name"] = ""
        if not await self.store.replace_item(item, decided, extra):
            raise ModerationError(409, "Dit item is intussen veranderd. Ververs de lijst.")
        doc.update(extra)
        view = self._view(decided, doc)
        audit_reason = decision.reason
        if request.kind == "mute" and mute_for is not None:
            audit_reason = (
                f"{audit_reason} ({request.mute_minutes} min{', bericht verborgen' if request.also_hide else ''})"
            )
        if request.kind == "ban":
            audit_reason = (
                f"{audit_reason} ({request.ban_days or 'onbepaalde tijd'} dagen)"
                if request.ban_days
                else (f"{audit_reason} (onbepaalde tijd)")
            )
        await self._audit(actor, staff, request.kind, audit_reason, decided)
        outcome = OUTCOME_OF.get(request.kind)
        if view.crisis and outcome is not None:
            await self.count_outcome(view.detector_version or "onbekend", outcome)
        await self._effects(actor, view, decision, request)
        await self._emit(item.flavour, "escalated" if request.kind == "escalate" else "decided", view)
        return view

    async def count_outcome(self, version: str, outcome: str) -> None:
        """One more release (false positive) or confirmation for a detector version; counts only, no texts."""
        try:
            await self.db[CRISIS_OUTCOMES].update_one(
                {"_id": f"{version}:{outcome}"},
                {"$inc": {"count": 1}, "$set": {"version": version, "outcome": outcome}},
                upsert=True,
            )
        except Exception as exc:  # the decision stands; a lost count is logged
            log.warning("crisis outcome not counted (%s)", type(exc).__name__)

    async def outcome_counts(self) -> dict[str, dict[str, int]]:
        """Releases and confirmations per detector version: ``{version: {"released": n, "confirmed": m}}``."""
        counts: dict[str, dict[str, int]] = {}
        async for doc in self.db[CRISIS_OUTCOMES].find({}):
            counts.setdefault(str(doc.get("version")), {})[str(doc.get("outcome"))] = int(doc.get("count", 0))
        return counts

    async def release(self, actor: Actor, item_id: str, reason: str = "") -> ModerationItemView:
        """One click for a false positive: claim (when needed) and release, audited and counted."""
        view = await self.get(actor, item_id)
        if view.item.claimed_by != str(actor.account_id) or not is_claimed(view.item, self.clock()):
            await self.claim(actor, item_id)
        return await self.decide(actor, item_id, StaffDecision("release", reason=reason or "Vals alarm"))

    async def _authorise_sanction(self, actor: Actor, flavour: str, author_id: str, request: StaffDecision) -> None:
        """The same who-whom-where-how-long table as bans through the API (chatserver.domain.sanctions)."""
        from chatserver.services.identity import IdentityError

        if request.kind == "mute":
            sanction = Sanction("mute", timedelta(minutes=request.mute_minutes or 0), frozenset({flavour}))
        else:
            sanction = Sanction("ban", timedelta(days=request.ban_days or 0), frozenset({flavour}))
        identity = self.identity
        try:
            target = await identity.sanction_target(author_id)
        except IdentityError:  # an erased author: judged as a guest, so the role's limits still hold
            target = SanctionTarget(author_id, "guest")
        try:
            identity.authorise_sanction(actor, target, sanction)
        except IdentityError as exc:
            raise ModerationError(exc.status, exc.detail) from None

    async def bulk(self, actor: Actor, item_ids: Sequence[str], kind: DecisionKind, reason: str = "") -> BulkResult:
        """Claim and decide several items at once (approve, hide or reject); each one is audited."""
        if kind not in BULK_KINDS:
            raise ModerationError(422, "Deze beslissing kan niet voor meerdere items tegelijk.")
        result = BulkResult()
        for item_id in dict.fromkeys(item_ids):
            try:
                view = await self.get(actor, item_id)
                if view.item.claimed_by != str(actor.account_id) or not is_claimed(view.item, self.clock()):
                    await self.claim(actor, item_id)
                await self.decide(actor, item_id, StaffDecision(kind=kind, reason=reason or "Bulkactie"))
                result.done.append(item_id)
            except ModerationError as exc:
                result.failed[item_id] = exc.detail
        return result

    async def _effects(
        self, actor: Actor, view: ModerationItemView, decision: Decision, request: StaffDecision
    ) -> None:
        kind = decision.kind
        if kind == "escalate":
            if view.crisis or view.item.severity == "critical":
                await self._alert_on_shift(view)
            return
        handler = self.handlers.get(view.ref.kind)
        applied = [decision]
        if kind == "mute" and request.also_hide:  # "mute and hide": the message goes in the same action
            applied.append(replace(decision, kind="hide", mute_for=None))
        for step in applied:
            if handler is None:
                break
            try:
                await handler(view, step)
            except Exception:
                log.exception("moderation handler for %s failed on item %s", view.ref.kind, view.id)
        author_id = view.author.account_id if view.author is not None else None
        if kind == "mute" and author_id and decision.mute_for is not None:
            ms = int(decision.mute_for.total_seconds() * 1000)
            kept = decision.reason[:MAX_MUTE_REASON_CHARS] or "1"
            await self.redis.set(self.mute_key(view.flavour, author_id), kept, px=ms)
        is_report = view.item.source == "report"
        if author_id and (kind not in ("approve", "release") or not is_report):
            await self._notify_author(view, decision)
        if kind == "ban" and author_id and request.ban_days is not None:
            await self.identity.ban(
                actor, author_id, decision.reason, duration=timedelta(days=request.ban_days), flavours=[view.flavour]
            )
        if is_report:
            await self._notify_reporters(view, kind)

    async def _notify_author(self, view: ModerationItemView, decision: Decision) -> None:
        assert view.author is not None
        flavour = self.catalog.get(view.flavour)
        data: dict[str, Any] = {
            "type": "moderation",
            "decision": decision.kind,
            "title": AUTHOR_NOTICES.get(decision.kind, "Een moderator heeft naar je bericht gekeken."),
            "reason": decision.reason,
            "flavour": view.flavour,
            "resources": resources_of(flavour) if decision.kind != "approve" or view.crisis else [],
            "item_id": view.id,
        }
        if decision.kind == "mute" and decision.mute_for is not None:
            until = self.clock() + decision.mute_for
            data["until"] = until.isoformat()
            data["until_text"] = nl_until(until)  # Dutch time, ready to show
            data["text"] = muted_text(until, decision.reason)
        await self._emit_to(user_channel(view.author.account_id), data)

    async def _notify_reporters(self, view: ModerationItemView, kind: DecisionKind) -> None:
        outcome = REPORTER_OUTCOMES.get(kind)
        if outcome is None:
            return
        for report in view.reports:
            reporter = report.get("reporter_id")
            if reporter:
                await self._emit_to(
                    user_channel(reporter),
                    {
                        "type": "report_outcome",
                        "decision": kind,
                        "title": outcome,
                        "flavour": view.flavour,
                        "item_id": view.id,
                    },
                )

    # --- audit -----------------------------------------------------------------------------------------------------

    async def _audit(self, actor: Actor, staff: Staff, action: str, reason: str, item: ModerationItem) -> AuditEntry:
        for _ in range(AUDIT_RETRIES):
            previous = await self.store.last_audit_entry()
            entry = audit_chain.append(
                previous,
                actor_id=str(actor.account_id),
                role=staff.role,
                at=to_ms(self.clock()),
                action=action,
                reason=reason,
                item_id=item.id,
                flavour=item.flavour,
            )
            if await self.store.append_audit(entry):
                return entry
            await asyncio.sleep(0.005)
        raise ModerationError(503, "Het auditlog is even niet bij te werken. Probeer het opnieuw.")

    async def _audit_system(self, action: str, reason: str, item: ModerationItem, role: Tier) -> None:
        """An entry by the server itself (an alert sent); ``role`` is the role it went to. Never raises."""
        for _ in range(AUDIT_RETRIES):
            try:
                previous = await self.store.last_audit_entry()
                entry = audit_chain.append(
                    previous,
                    actor_id="systeem",
                    role=role,
                    at=to_ms(self.clock()),
                    action=action,
                    reason=reason,
                    item_id=item.id,
                    flavour=item.flavour,
                )
                if await self.store.append_audit(entry):
                    return
            except Exception as exc:
                log.warning("audit entry %s not written (%s)", action, type(exc).__name__)
                return
            await asyncio.sleep(0.005)

    async def audit_page(
        self, actor: Actor, flavour: str | None, before_seq: int | None, limit: int = 50
    ) -> list[AuditEntry]:
        staff = staff_of(actor)
        if staff is None:
            raise ModerationError(404, NOT_FOUND)
        flavours: list[str] | None = None if staff.is_admin else sorted(staff.flavours)
        if flavour is not None:
            if flavours is not None and flavour not in flavours:
                return []
            flavours = [flavour]
        return await self.store.audit_page(flavours, before_seq, limit)

    async def staff_names(self, entries: Sequence[AuditEntry]) -> dict[str, str]:
        """The pseudonym of each entry's actor, looked up now (the entries store only the id and the role then);
        an erased account reads "verwijderd account"."""
        found = await AccountsRepo(self.db).pseudonyms([e.actor_id for e in entries])
        return {account_id: name or ERASED_ACCOUNT for account_id, name in found.items()}

    async def verify_chain(self, batch: int = 1000) -> int | None:
        """Check the whole audit log; the ``seq`` of the first bad entry, or None when the chain is intact."""
        previous: AuditEntry | None = None
        after = 0
        while True:
            entries = await self.store.audit_entries(after, batch)
            if not entries:
                return None
            bad = audit_chain.verify(entries, previous)
            if bad is not None:
                return entries[bad].seq
            previous = entries[-1]
            after = previous.seq

    async def purge_once(self) -> int:
        """Remove decided items past retention (their texts are personal data); the audit log stays."""
        return await self.store.purge_decided_before(self.clock() - ITEM_RETENTION)

    # --- helpers ---------------------------------------------------------------------------------------------------

    async def _load(self, actor: Actor, item_id: str) -> tuple[Staff, ModerationItem, dict[str, Any]]:
        staff = staff_of(actor)
        doc = await self.store.get_doc(item_id) if staff is not None else None
        if staff is None or doc is None:
            raise ModerationError(404, NOT_FOUND)
        item = self._item(doc)
        if not can_see(staff, item):
            raise ModerationError(404, NOT_FOUND)
        return staff, item, doc

    @staticmethod
    def _item(doc: dict[str, Any]) -> ModerationItem:
        from chatserver.adapters.moderation_store import item_from_doc

        return item_from_doc(doc)

    def _view(self, item: ModerationItem, doc: dict[str, Any]) -> ModerationItemView:
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

    def public_view(self, view: ModerationItemView) -> dict[str, Any]:
        """What goes to the consoles over ``mod:<flavour>``: no text and no author (the row is fetched with access
        checks), only what places and ages the item."""
        item = view.item
        now = self.clock()
        return {
            "id": item.id,
            "flavour": item.flavour,
            "source": item.source,
            "tier": item.tier,
            "tier_rank": tier_rank(item.tier),
            "severity": item.severity,
            "severity_rank": severity_rank(item.severity),
            "state": "claimed" if is_claimed(item, now) else ("decided" if item.state == "decided" else "open"),
            "claimed_by": item.claimed_by if is_claimed(item, now) else None,
            "claimed_name": view.claimed_name if is_claimed(item, now) else "",
            "decision": item.decision,
            "created_at": int(item.created_at.timestamp() * 1000),
            "target_s": int(TARGET_AGE[item.severity].total_seconds()),
            "crisis": view.crisis,
            "no_professional_on_shift": item.no_professional_on_shift,
            "context_url": view.context_url,
        }

    async def _emit(self, flavour: str, event: str, view: ModerationItemView) -> None:
        data = {"event": event, "item": self.public_view(view)}
        try:
            async with asyncio.timeout(EMIT_TIMEOUT_S):
                await self.chat.do_emit(mod_channel(flavour), "moderation", data)
        except Exception as exc:  # the item is stored: consoles see it on refresh
            log.warning("moderation event %s not sent (%s)", event, type(exc).__name__)

    async def _emit_to(self, channel: str, data: dict[str, Any]) -> None:
        try:
            async with asyncio.timeout(EMIT_TIMEOUT_S):
                await self.chat.do_emit(channel, "notification", data)
        except Exception as exc:
            log.warning("notification not sent (%s)", type(exc).__name__)

    async def _alert_on_shift(self, view: ModerationItemView) -> None:
        """A live notice to each professional on shift (or peer expert when none is) on their private channel."""
        tier: Tier = "peer_expert" if view.item.no_professional_on_shift else view.item.tier
        roles = [tier, "admin"] if tier == "professional" else [tier]
        members: set[Any] = set()
        try:
            for role in roles:
                members |= set(await self.redis.smembers(self.key("onshift", view.flavour, role)))
        except Exception as exc:
            log.warning("on-shift lookup failed (%s)", type(exc).__name__)
            return
        data = {
            "type": "crisis_alert",
            "flavour": view.flavour,
            "item_id": view.id,
            "url": f"/backoffice/moderatie/{view.id}",
            "context_url": view.context_url,
            "no_professional_on_shift": view.item.no_professional_on_shift,
        }
        for member in members:
            account = member.decode() if isinstance(member, bytes) else str(member)
            await self.chat.do_notify(user_channel(account), "notification", data)
        who = (
            "geen professional in dienst: naar ervaringsdeskundigen en beheerders"
            if view.item.no_professional_on_shift
            else "naar de professional in dienst"
        )
        await self._audit_system("alert", f"crisisalert {who} ({len(members)} in dienst)", view.item, tier)


def is_item_overdue(view: ModerationItemView, now: datetime) -> bool:
    return is_overdue(view.item, now)


def sort_views(views: list[ModerationItemView]) -> list[ModerationItemView]:
    return sorted(views, key=lambda view: order_key(view.item))


async def apply_to_chat_message(chat: ChatService, view: ModerationItemView, decision: Decision) -> None:
    """Room and 1-on-1 messages: a release publishes the held message; hide/reject/redact change a published one."""
    payload = view.held_payload
    held = bool(payload) and view.item.source != "report"
    if held and payload is not None:
        author = actor_from_snapshot(payload.get("author"))
        if author is None:
            return
        text = view.redacted_text if decision.kind == "redact" else str(payload.get("text", ""))
        if decision.kind in ("approve", "release", "redact"):
            try:
                await chat.do_publish(
                    author, str(payload["channel"]), str(payload["client_msg_id"]), text, screen=False
                )
            except ChatError as exc:
                log.warning("releasing a held message failed (%s)", exc.code.name)
        return
    channel = view.ref.channel
    offset = message_offset(view.ref)
    if not channel or offset is None:
        return
    if decision.kind in ("hide", "reject"):
        if await chat.store.update_event(channel, offset, {"data.deleted": True, "data.text": ""}):
            await chat.do_emit(channel, "delete", {"offset": offset})
    elif decision.kind == "redact" and view.redacted_text:
        fields = {"data.text": view.redacted_text, "data.edited": True}
        if await chat.store.update_event(channel, offset, fields):
            await chat.do_emit(channel, "edit", {"offset": offset, "text": view.redacted_text})
