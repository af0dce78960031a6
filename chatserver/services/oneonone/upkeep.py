"""The 1-on-1 work that runs by the clock (on the leader): wait alerts, reply time-outs, visitors who are gone,
the retention purge of transcripts, and re-deriving the on-shift sets and positions after a restart."""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable
from datetime import datetime, timedelta
from typing import TYPE_CHECKING

from chatserver.domain import oneonone as rules
from chatserver.domain.accounts import DELETED_PSEUDONYM
from chatserver.flavours import Flavour, FlavourCatalog
from chatserver.i18n import N_

if TYPE_CHECKING:
    from chatserver.clock import Clock
    from chatserver.ports import Document, OneOnOneStore
    from chatserver.services.oneonone.announce import Announcer
    from chatserver.services.oneonone.conversation import Conversations
    from chatserver.services.shifts import ShiftService

log = logging.getLogger("chatserver.oneonone")

# ``online(channel)``: the pseudonyms with a live connection to the channel now (the gateway's presence).
Online = Callable[[str], Awaitable[frozenset[str]]]

REOFFER_LINE = N_(
    "We zoeken een andere medewerker voor je. Je gesprek blijft bewaard "
    "en je hoeft je verhaal niet opnieuw te vertellen."
)


class ChatUpkeep:
    def __init__(
        self,
        repo: OneOnOneStore,
        shifts: ShiftService,
        catalog: FlavourCatalog,
        conversations: Conversations,
        announce: Announcer,
        clock: Clock,
        online: Online | None = None,
    ) -> None:
        self.repo = repo
        self.shifts = shifts
        self.catalog = catalog
        self.conversations = conversations
        self.announce = announce
        self.clock = clock
        self.online = online

    async def tick(self, now: datetime | None = None) -> None:
        """Wait alerts and reply time-outs (run by the leader)."""
        now = now or self.clock()
        for doc in await self.repo.all_waiting():
            f = self.catalog.get(str(doc["flavour"]))
            if f is not None and not doc.get("wait_alerted"):
                await self._wait_alert(f, doc, now)
        for doc in await self.repo.active():
            f = self.catalog.get(str(doc["flavour"]))
            if f is None or not doc.get("staff_id"):
                continue
            if await self._visitor_gone(doc, now):
                continue
            await self._reply_timeout(f, doc, now)

    async def _wait_alert(self, f: Flavour, doc: Document, now: datetime) -> None:
        if not rules.wait_alert_due(doc["queued_at"], now, f.chat.max_wait_alert_min):
            return
        await self.repo.set_fields(str(doc["_id"]), {"wait_alerted": True})
        minutes = int((now - doc["queued_at"]).total_seconds() // 60)
        await self.shifts.raise_alert(
            f.slug, "wait", N_("Iemand wacht al %s minuten op een gesprek.") % minutes, str(doc["_id"])
        )

    async def _reply_timeout(self, f: Flavour, doc: Document, now: datetime) -> None:
        """An active chat whose staff member owes a reply for too long goes back to the queue, with an alert."""
        channel = str(doc["channel"])
        last_staff = await self.repo.last_message_by(channel, str(doc["staff_id"]))
        last_staff_at = last_staff["ts"] if last_staff else None
        after = max(last_staff_at or doc["assigned_at"], doc["assigned_at"])
        first_visitor = await self.repo.first_message_after(channel, str(doc["visitor_id"]), after)
        since = rules.reply_pending_since(
            doc["assigned_at"], last_staff_at, first_visitor["ts"] if first_visitor else None
        )
        if not rules.reply_overdue(since, now, f.chat.reply_timeout_min):
            return
        name = doc.get("staff_pseudonym", "")
        if await self.conversations.reoffer(doc, REOFFER_LINE) is not None:
            await self.shifts.raise_alert(
                f.slug,
                "reply_timeout",
                N_("%s reageerde niet op tijd; het gesprek staat weer in de wachtrij.") % name,
                str(doc["_id"]),
            )

    async def _visitor_gone(self, doc: Document, now: datetime) -> bool:
        """End an active chat whose visitor, once seen connected, has had no live connection for the grace period.

        Presence is read on every tick: ``visitor_seen_at`` and ``visitor_gone_at`` record what the last tick saw,
        so a reload (gone for a second) never ends a chat. True when the chat was ended.
        """
        if self.online is None:
            return False
        chat_id = str(doc["_id"])
        try:
            here = str(doc.get("visitor_pseudonym") or "") in await self.online(str(doc["channel"]))
        except Exception as exc:  # presence unknown: decide nothing this time
            log.warning("presence of 1-on-1 chat not read (%s)", type(exc).__name__)
            return False
        if here:
            await self.repo.set_fields(chat_id, {"visitor_seen_at": now, "visitor_gone_at": None})
            return False
        if doc.get("visitor_seen_at") is None:  # never seen connected (yet): nothing to conclude
            return False
        gone_at = doc.get("visitor_gone_at")
        if gone_at is None:
            await self.repo.set_fields(chat_id, {"visitor_gone_at": now})
            return False
        if not rules.visitor_gone_due(gone_at, now):
            return False
        minutes = int(rules.VISITOR_GONE_GRACE.total_seconds() // 60)
        line = (
            N_("De bezoeker is al %s minuten niet meer verbonden (venster gesloten); het gesprek is beëindigd.")
            % minutes
        )
        ended = await self.conversations.finish(doc, [], line)
        if ended is doc:  # someone else ended or moved it meanwhile
            return False
        await self.announce.tell_staff(str(doc["staff_id"]), "visitor_gone", chat_id)
        log.info("1-on-1 chat %s ended: visitor gone for %d min", chat_id, minutes)
        return True

    async def purge(self, now: datetime | None = None) -> int:
        """Delete the transcripts of chats that ended longer ago than the flavour's retention (not on hold)."""
        now = now or self.clock()
        purged = 0
        for f in self.catalog:
            cutoff = now - timedelta(days=f.chat.transcript_retention_days)
            for doc in await self.repo.purgeable(f.slug, cutoff):
                await self.repo.delete_events(str(doc["channel"]))
                changes: Document = {"purged": True, "topic": "", "notes": [], "feedback.comment": ""}
                if doc.get("erased_visitor"):
                    # The visitor erased their account while a safeguarding hold kept this transcript.
                    changes |= {"visitor_id": "deleted", "visitor_pseudonym": DELETED_PSEUDONYM}
                await self.repo.set_fields(str(doc["_id"]), changes)
                purged += 1
        if purged:
            log.info("purged %d 1-on-1 transcripts", purged)
        return purged

    async def rederive(self) -> None:
        """After a restart: the on-shift sets from MongoDB, then fresh positions for everyone waiting."""
        await self.shifts.rebuild()
        for f in self.catalog:
            await self.announce.notify_positions(f.slug)
