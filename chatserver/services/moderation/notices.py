"""What moderation tells people: live updates to the consoles (``mod:<flavour>``), the outcome to the author and the
reporters (their ``user:<id>`` channels), and the crisis alert to the staff on shift.

A notice that cannot be sent never undoes what was decided: the item is stored, consoles see it on refresh and a
person's notifications are logged as lost.
"""

from __future__ import annotations

import asyncio
import logging
from typing import Literal

from msgspec import UNSET

from chatserver.clock import Clock
from chatserver.domain.channels import mod_channel, user_channel
from chatserver.domain.moderation import (
    AUTHOR_NOTICE_DEFAULT,
    AUTHOR_NOTICES,
    REPORTER_OUTCOMES,
    muted_text,
    nl_until,
    resources_of,
)
from chatserver.domain.moderation_items import ModerationItemView, item_summary
from chatserver.flavours import FlavourCatalog
from chatserver.i18n import N_
from chatserver.ports import OnShiftSets
from chatserver.protocol.events import (
    CrisisAlert,
    ModerationItemSummary,
    ModerationOutcome,
    ModerationUpdate,
    ReportOutcome,
    StoredEvent,
)
from chatserver.services.chat import ChatService
from chatserver.services.moderation.audit import AuditTrail
from moderation.queue import Decision, DecisionKind
from moderation.tiers import StaffRole, Tier

log = logging.getLogger("chatserver.moderation")

EMIT_TIMEOUT_S = 3.0
# The moderation events of the consoles (ModerationUpdate.event).
ConsoleEvent = Literal["new", "crisis", "claimed", "escalated", "decided"]


class Notices:
    def __init__(
        self, chat: ChatService, catalog: FlavourCatalog, on_shift: OnShiftSets, audit: AuditTrail, clock: Clock
    ) -> None:
        self.chat = chat
        self.catalog = catalog
        self.on_shift = on_shift
        self.audit = audit
        self.clock = clock

    def summary(self, view: ModerationItemView) -> ModerationItemSummary:
        """The item as the consoles see it now (no text, no author)."""
        return item_summary(view, self.clock())

    async def to_consoles(self, event: ConsoleEvent, view: ModerationItemView) -> None:
        """A live update of the item on its flavour's moderation channel."""
        update = ModerationUpdate(event=event, item=self.summary(view))
        try:
            async with asyncio.timeout(EMIT_TIMEOUT_S):
                await self.chat.emit(mod_channel(view.flavour), update)
        except Exception as exc:  # the item is stored: consoles see it on refresh
            log.warning("moderation event %s not sent (%s)", event, type(exc).__name__)

    async def to_author(self, view: ModerationItemView, decision: Decision) -> None:
        """The decision, its reason and the crisis lines to the author; a mute says until when, in Dutch time."""
        assert view.author is not None
        flavour = self.catalog.get(view.flavour)
        mute_for = decision.mute_for if decision.kind == "mute" else None
        until = self.clock() + mute_for if mute_for is not None else None
        notice = ModerationOutcome(
            decision=decision.kind,
            title=AUTHOR_NOTICES.get(decision.kind, AUTHOR_NOTICE_DEFAULT),
            reason=decision.reason,
            flavour=view.flavour,
            resources=resources_of(flavour) if decision.kind != "approve" or view.crisis else [],
            item_id=view.id,
            until=until.isoformat() if until is not None else UNSET,
            until_text=nl_until(until) if until is not None else UNSET,  # Dutch time, ready to show
            text=muted_text(until, decision.reason) if until is not None else UNSET,
        )
        await self._to_person(user_channel(view.author.account_id), notice)

    async def to_reporters(self, view: ModerationItemView, kind: DecisionKind) -> None:
        """What became of their report, to everyone who reported the item (never who decided or why)."""
        outcome = REPORTER_OUTCOMES.get(kind)
        if outcome is None:
            return
        for report in view.reports:
            reporter = report.get("reporter_id")
            if reporter:
                notice = ReportOutcome(decision=kind, title=outcome, flavour=view.flavour, item_id=view.id)
                await self._to_person(user_channel(reporter), notice)

    async def _to_person(self, channel: str, notice: StoredEvent) -> None:
        try:
            async with asyncio.timeout(EMIT_TIMEOUT_S):
                await self.chat.emit(channel, notice)
        except Exception as exc:
            log.warning("notification not sent (%s)", type(exc).__name__)

    async def alert_on_shift(self, view: ModerationItemView) -> None:
        """A live notice to each professional on shift (or peer expert when none is) on their private channel."""
        tier: Tier = "peer_expert" if view.item.no_professional_on_shift else view.item.tier
        roles: list[StaffRole] = [tier, "admin"] if tier == "professional" else [tier]
        members: set[str] = set()
        try:
            for role in roles:
                members |= await self.on_shift.members(view.flavour, role)
        except Exception as exc:
            log.warning("on-shift lookup failed (%s)", type(exc).__name__)
            return
        alert = CrisisAlert(
            flavour=view.flavour,
            item_id=view.id,
            url=f"/backoffice/moderatie/{view.id}",
            context_url=view.context_url,
            no_professional_on_shift=view.item.no_professional_on_shift,
        )
        for account in members:
            await self.chat.notify(user_channel(account), alert)
        who = (
            N_("geen professional in dienst: naar ervaringsdeskundigen en beheerders")
            if view.item.no_professional_on_shift
            else N_("naar de professional in dienst")
        )
        # i18n: an audit record, stored as written
        await self.audit.record_system("alert", f"crisisalert {who} ({len(members)} in dienst)", view.item, tier)
