"""Crisis signals in 1-on-1 chats: the same detector as every channel, but nothing is held.

A staff member is there, so a visitor's line (or the topic of a request) with a crisis signal is marked for them;
the visitor gets the crisis lines at once, a waiting request goes first in the queue, and the professional on
shift is alerted through a moderation item and a queue alert.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING

from chatserver.domain.channels import ChannelKind, ChannelRef
from chatserver.domain.identity import Actor
from chatserver.flavours import FlavourCatalog
from chatserver.i18n import N_
from chatserver.protocol.events import ChatCrisis
from chatserver.services.chat import ALLOW, Acked, Screening
from moderation.rules import Verdict

if TYPE_CHECKING:
    from chatserver.ports import Document, OneOnOneStore
    from chatserver.services.chat import ChatService
    from chatserver.services.moderation import ModerationService
    from chatserver.services.oneonone.announce import Announcer
    from chatserver.services.shifts import ShiftService


class CrisisSignals:
    def __init__(
        self,
        repo: OneOnOneStore,
        shifts: ShiftService,
        catalog: FlavourCatalog,
        chat: ChatService,
        moderation: ModerationService,
        announce: Announcer,
    ) -> None:
        self.repo = repo
        self.shifts = shifts
        self.catalog = catalog
        self.chat = chat
        self.moderation = moderation
        self.announce = announce

    def verdict(self, actor: Actor, flavour: str, text: str, recent: Sequence[str] = ()) -> Verdict:
        verdict: Verdict = self.moderation.screen(actor, flavour, "chat_1on1", text, recent=recent)
        return verdict

    async def screener(
        self, actor: Actor, ref: ChannelRef, client_msg_id: str, text: str, /, *, recent: Sequence[str] = ()
    ) -> Screening:
        """For ``chat.screeners``: a visitor's 1-on-1 line (also while waiting) with a crisis signal is not held —
        a staff member is there — but marked for them, the visitor gets the crisis lines at once and the
        professional on shift is alerted (after the line is stored, so the alert can point at it)."""
        if ref.kind is not ChannelKind.CHAT or actor.is_staff:
            return ALLOW
        verdict = self.verdict(actor, ref.flavour, text, recent)
        if not verdict.crisis.flagged:
            return ALLOW
        from chatserver.services.moderation import crisis_notice

        staffed = await self.shifts.professional_on_shift(ref.flavour)

        async def after(acked: Acked) -> None:
            doc = await self.repo.chat(ref.ident)
            if doc is not None:
                await self.alert(doc, actor, text, verdict, acked.offset)

        notice = crisis_notice(self.catalog.get(ref.flavour), held=False, staffed=staffed)
        return Screening("allow", notice=notice, after=after)

    async def alert(self, doc: Document, author: Actor, text: str, verdict: Verdict, offset: int | None) -> None:
        """Mark the line, put a waiting request first, alert the professional on shift (a moderation item)."""
        from chatserver.services.moderation import ItemRef

        chat_id = str(doc["_id"])
        flavour = str(doc["flavour"])
        channel = str(doc["channel"])
        if not doc.get("risk"):
            doc = await self.repo.set_fields(chat_id, {"risk": True}) or doc
            if doc.get("status") == "waiting":
                await self.announce.queue_changed(flavour, "risk", chat_id)
        if offset is not None:
            await self.chat.store.update_event(channel, offset, {"data.crisis": True})
            await self.chat.emit(channel, ChatCrisis(offset=offset))
        anchor = f"#bericht-{offset}" if offset is not None else ""
        await self.moderation.submit_item(
            flavour=flavour,
            source="crisis",
            ref=ItemRef(
                kind="chat_message",
                id=f"{channel}#{offset if offset is not None else 'onderwerp'}",
                channel=channel,
                url=f"/backoffice/gesprekken/{chat_id}{anchor}",
            ),
            text=text,
            author=author,
            verdict=verdict,
        )
        where = N_("in de wachtrij") if doc.get("status") == "waiting" else N_("in een lopend gesprek")
        line = N_("Crisissignaal %s: een professional is gewaarschuwd.") % where
        await self.shifts.raise_alert(flavour, "crisis", line, chat_id)
