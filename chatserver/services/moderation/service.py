"""The moderation service: one door to screening, the queue, decisions, the audit log and the notices.

The composition root builds it once (``chatserver.wiring``) with the ports it uses and hands it to the features
that need it: ``screen()``/``check()`` before storing, ``submit()`` for a hold or a report, ``register_handler(kind,
…)`` to say what a decision does to their objects, ``chat_screener()`` and ``mute_gate`` for live channels. Each
concept lives in its own module of this package; this class builds them and passes calls through.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any, Literal

from chatserver.clock import Clock
from chatserver.domain.channels import ChannelRef
from chatserver.domain.identity import Actor
from chatserver.domain.moderation import Place
from chatserver.domain.moderation_items import BulkResult, ItemRef, ModerationItemView, StaffDecision
from chatserver.flavours import FlavourCatalog
from chatserver.ports import AccountStore, ModerationRecords, MuteStore, OnShiftSets, RecentLines
from chatserver.ports.reflectie import Counter
from chatserver.protocol.events import ModerationItemSummary
from chatserver.services.chat import ChatService, Screener
from chatserver.services.moderation.audit import AuditTrail
from chatserver.services.moderation.decisions import Decisions, Handler
from chatserver.services.moderation.notices import Notices
from chatserver.services.moderation.queue import QUEUE_LIMIT, ItemQueue, ReportResolver
from chatserver.services.moderation.screening import Gatekeeper
from moderation.audit import AuditEntry
from moderation.queue import DecisionKind, ItemSource
from moderation.rules import Verdict
from moderation.tiers import Tier

if TYPE_CHECKING:
    from chatserver.services.identity import IdentityService
    from chatserver.services.shifts import ShiftService

ITEM_RETENTION = timedelta(days=90)


class ModerationService:
    def __init__(
        self,
        *,
        catalog: FlavourCatalog,
        records: ModerationRecords,
        accounts: AccountStore,
        mutes: MuteStore,
        recent: RecentLines,
        on_shift: OnShiftSets,
        chat: ChatService,
        identity: IdentityService,
        shifts: ShiftService,
        clock: Clock,
        counter: Counter,
    ) -> None:
        self.catalog = catalog
        self.store = records
        self.chat = chat
        self.clock = clock
        # The parts read the time through the service, so that a test that moves this service's clock moves theirs.
        now: Clock = self._now
        self.audit = AuditTrail(records, accounts, now)
        self.notices = Notices(chat, catalog, on_shift, self.audit, now)
        self.items = ItemQueue(records, catalog, shifts, chat, self.notices, self.audit, now, counter)
        # :meth:`submit`, answering the item itself (its routing says whether a professional is on shift).
        self.submit_item = self.items.submit_item
        self.revise_open_item = self.items.revise_open_item
        self.gate = Gatekeeper(catalog, accounts, mutes, recent, self.items, now)
        self.decisions = Decisions(records, self.items, self.audit, self.notices, identity, mutes, now, counter)

    def _now(self) -> datetime:
        return self.clock()

    # --- screening (screening.py) ----------------------------------------------------------------------------------

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
        """The flavour's rules plus the crisis detector, without I/O (see :meth:`Gatekeeper.screen`)."""
        return self.gate.screen(actor, flavour, place, text, account_age_days=account_age_days, recent=recent)

    async def check(self, actor: Actor, flavour: str, place: Place, text: str, recent: Sequence[str] = ()) -> Verdict:
        """:meth:`screen` with the account's real age looked up first (one read, cached)."""
        return await self.gate.check(actor, flavour, place, text, recent)

    async def recall(self, actor: Actor, ref: ChannelRef, text: str) -> tuple[str, ...]:
        """For ``chat.recall``: the author's previous lines in a room or 1-on-1 chat, recording this one."""
        return await self.gate.recall(actor, ref, text)

    async def account_age_days(self, actor: Actor) -> float | None:
        return await self.gate.account_age_days(actor)

    async def mute_of(self, account_id: str, flavour: str) -> tuple[datetime, str] | None:
        """The end of the account's mute in this flavour and the moderator's reason, or None when not muted."""
        return await self.gate.mute_of(account_id, flavour)

    async def muted_until(self, account_id: str, flavour: str) -> datetime | None:
        return await self.gate.muted_until(account_id, flavour)

    async def mute_gate(self, actor: Actor, ref: ChannelRef) -> str | None:
        """A gate for ``chat.gates``: the refusal for a muted visitor, else None (staff are never muted)."""
        return await self.gate.mute_gate(actor, ref)

    def chat_screener(self, check_mute: bool = True) -> Screener:
        """A screener for ``chat.screeners``: refuse, hold (as a moderation item) or allow a live message."""
        return self.gate.chat_screener(check_mute)

    # --- the queue (queue.py) --------------------------------------------------------------------------------------

    def register_report_resolver(self, kind: str, resolver: ReportResolver) -> None:
        """How a report of ``kind`` finds the object (text, author, flavour) without trusting the reporter."""
        self.items.register_report_resolver(kind, resolver)

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
        """Create (or, for a repeated report, join) a moderation item, route it and tell the consoles; its id."""
        item = await self.items.submit_item(
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

    async def report(self, reporter: Actor, kind: str, object_id: str, channel: str | None, reason: str) -> str:
        """A visitor reports a message or post; the object is looked up, never taken from the reporter."""
        return await self.items.report(reporter, kind, object_id, channel, reason)

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
        return await self.items.queue(actor, flavour=flavour, tier=tier, source=source, limit=limit)

    async def get(self, actor: Actor, item_id: str) -> ModerationItemView:
        """One item, if this staff member may see it (else 404, whether or not it exists)."""
        return await self.items.get(actor, item_id)

    async def history(self, actor: Actor, item_id: str) -> list[AuditEntry]:
        """The audit entries of one item this staff member may see."""
        await self.items.get(actor, item_id)
        return await self.audit.for_item(item_id)

    async def claim(self, actor: Actor, item_id: str) -> ModerationItemView:
        """Take an item (or renew one's own claim); an expired claim may be taken over."""
        return await self.items.claim(actor, item_id)

    async def unclaim(self, actor: Actor, item_id: str) -> ModerationItemView:
        return await self.items.unclaim(actor, item_id)

    def public_view(self, view: ModerationItemView) -> ModerationItemSummary:
        """What the consoles get live of an item: no text and no author."""
        return self.notices.summary(view)

    # --- decisions (decisions.py) ----------------------------------------------------------------------------------

    def register_handler(self, kind: str, handler: Handler) -> None:
        """What a decision does to objects of ``kind`` (the owning feature registers it once)."""
        self.decisions.register_handler(kind, handler)

    def decisions_for(self, actor: Actor) -> list[DecisionKind]:
        return self.decisions.decisions_for(actor)

    async def decide(self, actor: Actor, item_id: str, request: StaffDecision) -> ModerationItemView:
        """Apply a decision to an item the staff member has claimed; effects, notices, audit and live update."""
        return await self.decisions.decide(actor, item_id, request)

    async def release(self, actor: Actor, item_id: str, reason: str = "") -> ModerationItemView:
        """One click for a false positive: claim (when needed) and release, audited and counted."""
        return await self.decisions.release(actor, item_id, reason)

    async def bulk(self, actor: Actor, item_ids: Sequence[str], kind: DecisionKind, reason: str = "") -> BulkResult:
        """Claim and decide several items at once (approve, hide or reject); each one is audited."""
        return await self.decisions.bulk(actor, item_ids, kind, reason)

    async def count_outcome(self, version: str, outcome: str) -> None:
        await self.decisions.count_outcome(version, outcome)

    async def outcome_counts(self) -> dict[str, dict[str, int]]:
        """Releases and confirmations per detector version: ``{version: {"released": n, "confirmed": m}}``."""
        return await self.decisions.outcome_counts()

    # --- the audit log (audit.py) ----------------------------------------------------------------------------------

    async def audit_page(
        self, actor: Actor, flavour: str | None, before_seq: int | None, limit: int = 50
    ) -> list[AuditEntry]:
        return await self.audit.page(actor, flavour, before_seq, limit)

    async def staff_names(self, entries: Sequence[AuditEntry]) -> dict[str, str]:
        """The pseudonym of each entry's actor, looked up now; an erased account reads "verwijderd account"."""
        return await self.audit.staff_names(entries)

    async def verify_chain(self, batch: int = 1000) -> int | None:
        """Check the whole audit log; the ``seq`` of the first bad entry, or None when the chain is intact."""
        return await self.audit.verify_chain(batch)

    # --- retention -------------------------------------------------------------------------------------------------

    async def purge_once(self) -> int:
        """Remove decided items past retention (their texts are personal data); the audit log stays."""
        return await self.store.purge_decided_before(self.clock() - ITEM_RETENTION)
