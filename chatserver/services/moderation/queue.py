"""The moderation queue: items submitted (held messages, reports, crisis signals) and routed to a tier, the queue
and the items each staff member may see, and claims as short locks (the rules: ``moderation.queue``)."""

from __future__ import annotations

import logging
import uuid
from collections.abc import Awaitable, Callable
from dataclasses import replace
from typing import TYPE_CHECKING, Any

from chatserver.clock import Clock
from chatserver.domain.channels import ChannelKind, parse_channel
from chatserver.domain.identity import AccountId, Actor
from chatserver.domain.moderation import NOT_FOUND, ModerationError, routing_of, scope_of, staff_of
from chatserver.domain.moderation_items import (
    MAX_ITEM_TEXT,
    ItemRef,
    ModerationItemView,
    ReportedObject,
    item_details,
    item_from_doc,
    message_offset,
    to_ms,
    view_of,
)
from chatserver.domain.reflectie import MODERATION_SOURCE_OF, open_variant
from chatserver.flavours import FlavourCatalog
from chatserver.i18n import N_
from chatserver.ports import Document, ModerationRecords
from chatserver.ports.reflectie import Counter
from chatserver.services.chat import ChatService
from chatserver.services.moderation.audit import AuditTrail
from chatserver.services.moderation.notices import Notices
from moderation.crisis import detect
from moderation.queue import (
    ItemSource,
    ModerationItem,
    QueueError,
    Staff,
    can_see,
    is_claimed,
    new_item,
    visible_queue,
)
from moderation.queue import claim as claim_item
from moderation.queue import unclaim as unclaim_item
from moderation.rules import Verdict
from moderation.tiers import TIERS, Tier, tier_rank

if TYPE_CHECKING:
    from chatserver.services.shifts import ShiftService

log = logging.getLogger("chatserver.moderation")

QUEUE_LIMIT = 500
MAX_REASON_CHARS = 500
# For reports through the API: the owner of ``kind`` looks up the object (text, author, staff link, flavour).
ReportResolver = Callable[[ItemRef], Awaitable[ReportedObject | None]]


class ItemQueue:
    def __init__(
        self,
        records: ModerationRecords,
        catalog: FlavourCatalog,
        shifts: ShiftService,
        chat: ChatService,
        notices: Notices,
        audit: AuditTrail,
        clock: Clock,
        counter: Counter,
    ) -> None:
        self.records = records
        self.catalog = catalog
        self.shifts = shifts
        self.chat = chat
        self.notices = notices
        self.audit = audit
        self.clock = clock
        self.counter = counter
        self.report_resolvers: dict[str, ReportResolver] = {}

    def register_report_resolver(self, kind: str, resolver: ReportResolver) -> None:
        """How a report of ``kind`` finds the object (text, author, flavour) without trusting the reporter."""
        self.report_resolvers[kind] = resolver

    # --- submitting ------------------------------------------------------------------------------------------------

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
        """Create (or, for a repeated report, join) a moderation item, route it and tell the consoles; the item's
        routing says whether a professional is on shift."""
        if self.catalog.get(flavour) is None:
            raise ModerationError(404, N_("Deze community bestaat niet."))
        subject_id = f"{ref.kind}:{ref.id}"
        reason = str(reason).strip()[:MAX_REASON_CHARS]
        if source == "report" and reporter is not None:
            joined = await self._join_report(flavour, subject_id, reporter, reason)
            if joined is not None:
                return joined
        if verdict is None and source in ("report", "spreekuur_question"):
            crisis = detect(text)
            if crisis.flagged:
                verdict = Verdict(action="hold", crisis=crisis)
        routing = routing_of(source, verdict)
        item = new_item(
            id=uuid.uuid4().hex,
            flavour=flavour,
            source=routing.source,
            severity=routing.severity,
            created_at=to_ms(self.clock()),
            subject_id=subject_id,
            professional_on_shift=await self.shifts.professional_on_shift(flavour),
            tier=routing.tier,
            rules=routing.rules,
        )
        if routing.crisis and item.tier != "professional" and not item.no_professional_on_shift:
            item = replace(item, tier="professional")
        details = item_details(
            ref=ref,
            text=text,
            author=author,
            reason=reason,
            details=routing.details,
            held_payload=held_payload,
            crisis=routing.crisis,
            verdict_crisis=verdict.crisis if verdict is not None else None,
            reporter=reporter,
        )
        await self.records.add_item(item, details)
        log.info("moderation item %s: %s/%s in %s", item.id, item.source, item.severity, flavour)
        self.counter.count("moderation.item", flavour, variant=MODERATION_SOURCE_OF.get(item.source))
        if routing.crisis and held_payload is not None and verdict is not None:  # a message kept out of sight
            self.counter.count("crisis.held", flavour, variant=open_variant(verdict.crisis.version))
        view = view_of(item, details)
        if routing.crisis:
            await self.notices.to_consoles("crisis", view)
            await self.notices.alert_on_shift(view)
        else:
            await self.notices.to_consoles("new", view)
        return item

    async def revise_open_item(self, item_id: str, text: str, held_payload: dict[str, Any]) -> bool:
        """An author edited a held text before anyone took up its item: the item shows the newest version, so no
        older one waits beside it. False when it was claimed or decided meanwhile (the caller submits a new item;
        a moderator never decides a text other than the one they read)."""
        changes = {"text": str(text)[:MAX_ITEM_TEXT], "held_payload": held_payload}
        revised = await self.records.revise_unclaimed(item_id, changes)
        if revised:
            log.info("moderation item %s: revised by its author before review", item_id)
        return revised

    async def _join_report(self, flavour: str, subject_id: str, reporter: Actor, reason: str) -> ModerationItem | None:
        """The open item of an object reported before, with this reporter added; None when there is none."""
        existing = await self.records.open_item_for_subject(flavour, subject_id)
        if existing is None:
            return None
        await self.records.add_reporter(str(existing["_id"]), str(reporter.account_id), reason)
        return item_from_doc(existing)

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
            raise ModerationError(404, N_("Dit bericht bestaat niet (meer)."))
        if found.author is not None and found.author.account_id == reporter.account_id:
            raise ModerationError(422, N_("Je kunt je eigen bericht niet melden."))
        item = await self.submit_item(
            flavour=found.flavour,
            source="report",
            ref=replace(ref, url=found.url or ref.url),
            text=found.text,
            author=found.author,
            reporter=reporter,
            reason=reason,
        )
        return item.id

    async def _resolve_room_message(self, ref: ItemRef) -> ReportedObject | None:
        """A live message in a room or spreekuur, as stored (a removed one cannot be reported)."""
        parsed = parse_channel(ref.channel or "")
        offset = message_offset(ref)
        if parsed is None or parsed.kind not in (ChannelKind.ROOM, ChannelKind.SPREEKUUR) or offset is None:
            return None
        doc = await self.chat.store.find_event(parsed.name, offset)
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
        flavours = scope_of(staff, flavour)
        if flavours == []:
            return []
        tiers = [t for t in TIERS if tier_rank(t) <= tier_rank(staff.tier)]
        if tier is not None:
            tiers = [t for t in tiers if t == tier]
        docs = await self.records.open_docs(flavours, tiers, [source] if source else None, limit)
        by_id = {str(doc["_id"]): doc for doc in docs}
        items = visible_queue(staff, (item_from_doc(doc) for doc in docs), self.clock())
        return [view_of(item, by_id[item.id]) for item in items]

    async def get(self, actor: Actor, item_id: str) -> ModerationItemView:
        """One item, if this staff member may see it (else 404, whether or not it exists)."""
        _, item, doc = await self.load(actor, item_id)
        return view_of(item, doc)

    async def load(self, actor: Actor, item_id: str) -> tuple[Staff, ModerationItem, Document]:
        """The staff member, the item and its document, if they may see it (else 404)."""
        staff = staff_of(actor)
        doc = await self.records.get_doc(item_id) if staff is not None else None
        if staff is None or doc is None:
            raise ModerationError(404, NOT_FOUND)
        item = item_from_doc(doc)
        if not can_see(staff, item):
            raise ModerationError(404, NOT_FOUND)
        return staff, item, doc

    # --- claims ----------------------------------------------------------------------------------------------------

    async def claim(self, actor: Actor, item_id: str) -> ModerationItemView:
        """Take an item (or renew one's own claim); an expired claim may be taken over."""
        staff, item, doc = await self.load(actor, item_id)
        now = self.clock()
        try:
            claimed = claim_item(item, staff, now)
        except QueueError as exc:
            raise ModerationError(409, str(exc)) from exc
        extra: dict[str, Any] = {"claimed_name": actor.pseudonym}
        first = doc.get("time_to_claim_ms") is None
        if first:
            # The item is created when the message arrives: its age at the first claim is the time to claim.
            extra["time_to_claim_ms"] = max(0, int((to_ms(now) - item.created_at).total_seconds() * 1000))
            extra["first_claimed_at"] = to_ms(now)
        if not await self.records.replace_item(item, claimed, extra):
            raise ModerationError(409, N_("Een collega was je net voor. Ververs de lijst."))
        doc.update(extra)
        view = view_of(claimed, doc)
        if first:
            seconds = (view.time_to_claim_ms or 0) / 1000
            await self.audit.record(actor, staff, "claim", f"opgepakt na {seconds:.1f} s", claimed)  # i18n: audit
            if view.crisis:
                self.counter.count("crisis.claim_time", item.flavour, value=seconds)
        await self.notices.to_consoles("claimed", view)
        return view

    async def unclaim(self, actor: Actor, item_id: str) -> ModerationItemView:
        """Give an item back to the colleagues."""
        staff, item, doc = await self.load(actor, item_id)
        try:
            opened = unclaim_item(item, staff, self.clock())
        except QueueError as exc:
            raise ModerationError(409, str(exc)) from exc
        if not await self.records.replace_item(item, opened, {"claimed_name": ""}):
            raise ModerationError(409, N_("Dit item is intussen veranderd. Ververs de lijst."))
        doc["claimed_name"] = ""
        view = view_of(opened, doc)
        await self.notices.to_consoles("claimed", view)
        return view

    async def claim_unless_mine(self, actor: Actor, item_id: str) -> None:
        """Claim the item unless this staff member holds a live claim on it already (for one-click decisions)."""
        view = await self.get(actor, item_id)
        if view.item.claimed_by != str(actor.account_id) or not is_claimed(view.item, self.clock()):
            await self.claim(actor, item_id)
