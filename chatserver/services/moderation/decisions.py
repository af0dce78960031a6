"""Deciding: a staff member's decision on a claimed item, its effects (the owning feature's handler, mutes and
bans, the notices), one-click release, bulk decisions and the crisis outcome counters.

What a decision does to an object belongs to the feature that owns it: each registers a handler for its kind
(``register_handler``, in the composition root); :func:`apply_to_chat_message` is the one for room and 1-on-1
messages.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import replace
from datetime import timedelta
from typing import TYPE_CHECKING, Any

from chatserver.clock import Clock
from chatserver.domain.identity import Actor
from chatserver.domain.moderation import (
    BULK_KINDS,
    DECISION_ORDER,
    MAX_MUTE_REASON_CHARS,
    OUTCOME_OF,
    ModerationError,
    sanction_note,
    staff_of,
)
from chatserver.domain.moderation_items import (
    MAX_ITEM_TEXT,
    BulkResult,
    ModerationItemView,
    StaffDecision,
    actor_from_snapshot,
    message_offset,
    to_ms,
    view_of,
)
from chatserver.domain.reflectie import MODERATION_OUTCOME_OF, open_variant
from chatserver.domain.sanctions import Sanction
from chatserver.domain.sanctions import Target as SanctionTarget
from chatserver.i18n import N_
from chatserver.ports import Document, ModerationRecords, MuteStore
from chatserver.ports.reflectie import Counter
from chatserver.protocol.events import MessageDeleted, MessageEdited
from chatserver.services.chat import ChatError, ChatService
from chatserver.services.identity import IdentityError
from chatserver.services.moderation.audit import AuditTrail
from chatserver.services.moderation.notices import Notices
from chatserver.services.moderation.queue import ItemQueue
from moderation.queue import Decision, DecisionKind, QueueError, Staff, allowed_decisions, decide

if TYPE_CHECKING:
    from chatserver.services.identity import IdentityService

log = logging.getLogger("chatserver.moderation")

MAX_DECISION_REASON_CHARS = 1000
MAX_BAN_DAYS = 3650
UNKNOWN_VERSION = "onbekend"

Handler = Callable[[ModerationItemView, Decision], Awaitable[None]]


class Decisions:
    def __init__(
        self,
        records: ModerationRecords,
        queue: ItemQueue,
        audit: AuditTrail,
        notices: Notices,
        identity: IdentityService,
        mutes: MuteStore,
        clock: Clock,
        counter: Counter,
    ) -> None:
        self.records = records
        self.queue = queue
        self.audit = audit
        self.notices = notices
        self.identity = identity
        self.mutes = mutes
        self.clock = clock
        self.counter = counter
        self.handlers: dict[str, Handler] = {}

    def register_handler(self, kind: str, handler: Handler) -> None:
        """What a decision does to objects of ``kind`` (the owning feature registers it once)."""
        self.handlers[kind] = handler

    def decisions_for(self, actor: Actor) -> list[DecisionKind]:
        """The decisions this staff member may take, in the console's order."""
        staff = staff_of(actor)
        if staff is None:
            return []
        allowed = allowed_decisions(staff)
        return [kind for kind in DECISION_ORDER if kind in allowed]

    # --- deciding --------------------------------------------------------------------------------------------------

    async def decide(self, actor: Actor, item_id: str, request: StaffDecision) -> ModerationItemView:
        """Apply a decision to an item the staff member has claimed; effects, notices, audit and live update."""
        staff, item, doc = await self.queue.load(actor, item_id)
        decision = await self._checked(actor, staff, item.flavour, doc, request)
        try:
            decided = decide(item, staff, decision, self.clock())
        except QueueError as exc:
            raise ModerationError(409 if "Claim" in str(exc) else 422, str(exc)) from exc
        if decided.decided_at is not None:
            decided = replace(decided, decided_at=to_ms(decided.decided_at))
        extra: dict[str, Any] = {"decision_reason": decision.reason}
        if request.kind == "redact":
            extra["redacted_text"] = request.redacted_text.strip()[:MAX_ITEM_TEXT]
        if request.kind == "escalate":
            extra["claimed_name"] = ""
        if not await self.records.replace_item(item, decided, extra):
            raise ModerationError(409, N_("Dit item is intussen veranderd. Ververs de lijst."))
        doc.update(extra)
        view = view_of(decided, doc)
        note = sanction_note(request.kind, decision.reason, request.mute_minutes, request.ban_days, request.also_hide)
        await self.audit.record(actor, staff, request.kind, note, decided)
        outcome = OUTCOME_OF.get(request.kind)
        if view.crisis and outcome is not None:
            await self.count_outcome(view.detector_version or UNKNOWN_VERSION, outcome)
        self._count(view, request.kind)
        await self._effects(actor, view, decision, request)
        await self.notices.to_consoles("escalated" if request.kind == "escalate" else "decided", view)
        return view

    def _count(self, view: ModerationItemView, kind: DecisionKind) -> None:
        """For the Reflectietafel: the decision by outcome, the time a final one took since the item came in, and
        a crisis hold released or confirmed (per detector version)."""
        item = view.item
        self.counter.count("moderation.decision", item.flavour, variant=MODERATION_OUTCOME_OF.get(kind))
        if item.decided_at is not None:
            seconds = max(0.0, (item.decided_at - item.created_at).total_seconds())
            self.counter.count("moderation.decision_time", item.flavour, value=seconds)
        outcome = OUTCOME_OF.get(kind)
        if view.crisis and outcome is not None:
            version = open_variant(view.detector_version or UNKNOWN_VERSION)
            self.counter.count(f"crisis.{outcome}", item.flavour, variant=version)

    async def _checked(
        self, actor: Actor, staff: Staff, flavour: str, doc: Document, request: StaffDecision
    ) -> Decision:
        """The pure decision for a request this staff member may make on this item, or the refusal."""
        if request.kind not in allowed_decisions(staff):
            raise ModerationError(403, N_("Deze beslissing mag jouw rol niet nemen."))
        mute_for = timedelta(minutes=request.mute_minutes) if request.mute_minutes else None
        decision = Decision(
            kind=request.kind, reason=str(request.reason).strip()[:MAX_DECISION_REASON_CHARS], mute_for=mute_for
        )
        if request.kind == "redact" and not request.redacted_text.strip():
            raise ModerationError(422, N_("Geef de aangepaste tekst op."))
        if request.kind in ("mute", "ban", "warn") and not doc.get("author_id"):
            raise ModerationError(422, N_("Bij dit item hoort geen schrijver."))
        if request.kind == "ban" and (request.ban_days is None or not 1 <= request.ban_days <= MAX_BAN_DAYS):
            raise ModerationError(
                422, N_("Kies een duur tussen 1 en 3650 dagen; voorgoed weren gaat via twee beheerders.")
            )
        if request.kind in ("mute", "ban"):
            await self._authorise_sanction(actor, flavour, str(doc["author_id"]), request)
        return decision

    async def _authorise_sanction(self, actor: Actor, flavour: str, author_id: str, request: StaffDecision) -> None:
        """The same who-whom-where-how-long table as bans through the API (chatserver.domain.sanctions)."""
        if request.kind == "mute":
            sanction = Sanction("mute", timedelta(minutes=request.mute_minutes or 0), frozenset({flavour}))
        else:
            sanction = Sanction("ban", timedelta(days=request.ban_days or 0), frozenset({flavour}))
        try:
            target = await self.identity.sanction_target(author_id)
        except IdentityError:  # an erased author: judged as a guest, so the role's limits still hold
            target = SanctionTarget(author_id, "guest")
        try:
            self.identity.authorise_sanction(actor, target, sanction)
        except IdentityError as exc:
            raise ModerationError(exc.status, exc.detail) from None

    async def _effects(
        self, actor: Actor, view: ModerationItemView, decision: Decision, request: StaffDecision
    ) -> None:
        """What the decision does beyond the item: the object, the author's mute or ban, the notices."""
        kind = decision.kind
        if kind == "escalate":
            if view.crisis or view.item.severity == "critical":
                await self.notices.alert_on_shift(view)
            return
        await self._apply(view, decision, request)
        author_id = view.author.account_id if view.author is not None else None
        if kind == "mute" and author_id and decision.mute_for is not None:
            duration_ms = int(decision.mute_for.total_seconds() * 1000)
            await self.mutes.mute(view.flavour, author_id, decision.reason[:MAX_MUTE_REASON_CHARS], duration_ms)
        is_report = view.item.source == "report"
        if author_id and (kind not in ("approve", "release") or not is_report):
            await self.notices.to_author(view, decision)
        if kind == "ban" and author_id and request.ban_days is not None:
            await self.identity.ban(
                actor, author_id, decision.reason, duration=timedelta(days=request.ban_days), flavours=[view.flavour]
            )
        if is_report:
            await self.notices.to_reporters(view, kind)

    async def _apply(self, view: ModerationItemView, decision: Decision, request: StaffDecision) -> None:
        """The owning feature's handler; "mute and hide" also hides the message in the same action."""
        handler = self.handlers.get(view.ref.kind)
        if handler is None:
            return
        applied = [decision]
        if decision.kind == "mute" and request.also_hide:
            applied.append(replace(decision, kind="hide", mute_for=None))
        for step in applied:
            try:
                await handler(view, step)
            except Exception:
                log.exception("moderation handler for %s failed on item %s", view.ref.kind, view.id)

    # --- one click, many items -------------------------------------------------------------------------------------

    async def release(self, actor: Actor, item_id: str, reason: str = "") -> ModerationItemView:
        """One click for a false positive: claim (when needed) and release, audited and counted."""
        await self.queue.claim_unless_mine(actor, item_id)
        # i18n: the audit record's reason, kept in Dutch like the rest of the record
        return await self.decide(actor, item_id, StaffDecision("release", reason=reason or "Vals alarm"))

    async def bulk(self, actor: Actor, item_ids: Sequence[str], kind: DecisionKind, reason: str = "") -> BulkResult:
        """Claim and decide several items at once (approve, hide or reject); each one is audited."""
        if kind not in BULK_KINDS:
            raise ModerationError(422, N_("Deze beslissing kan niet voor meerdere items tegelijk."))
        result = BulkResult()
        for item_id in dict.fromkeys(item_ids):
            try:
                await self.queue.claim_unless_mine(actor, item_id)
                # i18n: the audit record's reason
                await self.decide(actor, item_id, StaffDecision(kind=kind, reason=reason or "Bulkactie"))
                result.done.append(item_id)
            except ModerationError as exc:
                result.failed[item_id] = exc.detail
        return result

    # --- crisis outcomes -------------------------------------------------------------------------------------------

    async def count_outcome(self, version: str, outcome: str) -> None:
        """One more release (false positive) or confirmation for a detector version; counts only, no texts."""
        try:
            await self.records.count_outcome(version, outcome)
        except Exception as exc:  # the decision stands; a lost count is logged
            log.warning("crisis outcome not counted (%s)", type(exc).__name__)

    async def outcome_counts(self) -> dict[str, dict[str, int]]:
        """Releases and confirmations per detector version: ``{version: {"released": n, "confirmed": m}}``."""
        return await self.records.outcome_counts()


async def apply_to_chat_message(chat: ChatService, view: ModerationItemView, decision: Decision) -> None:
    """Room and 1-on-1 messages: a release publishes the held message; hide/reject/redact change a published one."""
    payload = view.held_payload
    if payload and view.item.source != "report":
        await _publish_held(chat, view, payload, decision)
        return
    channel = view.ref.channel
    offset = message_offset(view.ref)
    if not channel or offset is None:
        return
    if decision.kind in ("hide", "reject"):
        if await chat.store.update_event(channel, offset, {"data.deleted": True, "data.text": ""}):
            await chat.emit(channel, MessageDeleted(offset=offset))
    elif decision.kind == "redact" and view.redacted_text:
        fields = {"data.text": view.redacted_text, "data.edited": True}
        if await chat.store.update_event(channel, offset, fields):
            await chat.emit(channel, MessageEdited(offset=offset, text=view.redacted_text))


async def _publish_held(
    chat: ChatService, view: ModerationItemView, payload: dict[str, Any], decision: Decision
) -> None:
    """Approve, release or redact a held message: it is published now (redacted: the moderator's text)."""
    author = actor_from_snapshot(payload.get("author"))
    if author is None or decision.kind not in ("approve", "release", "redact"):
        return
    text = view.redacted_text if decision.kind == "redact" else str(payload.get("text", ""))
    try:
        await chat.do_publish(author, str(payload["channel"]), str(payload["client_msg_id"]), text, screen=False)
    except ChatError as exc:
        log.warning("releasing a held message failed (%s)", exc.code.name)
