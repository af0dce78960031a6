"""Requests and the queue: asking for a chat, the queue as staff see it, accepting the next or a chosen request.

Who waits where is the pure queue order of :mod:`chatserver.domain.oneonone` (a crisis signal first, then the
longest waiting); accepting checks the staff member's tier, shift and capacity and moves the chat from
``waiting`` to ``active`` in one conditional write, so two staff members never take the same chat.
"""

from __future__ import annotations

import logging
import secrets
from datetime import datetime
from typing import TYPE_CHECKING, Any

from chatserver.domain import oneonone as rules
from chatserver.domain.channels import chat_channel, user_channel
from chatserver.domain.identity import Actor, Tier
from chatserver.flavours import FlavourCatalog, is_open
from chatserver.i18n import N_
from chatserver.protocol.events import ChatAccepted, ChatAssigned
from chatserver.services.oneonone.errors import MAX_TOPIC_CHARS, OneOnOneError, not_found

if TYPE_CHECKING:
    from chatserver.clock import Clock
    from chatserver.ports import Document, OneOnOneStore
    from chatserver.ports.reflectie import Counter
    from chatserver.services.chat import ChatService
    from chatserver.services.oneonone.announce import Announcer
    from chatserver.services.oneonone.crisis import CrisisSignals
    from chatserver.services.shifts import ShiftService

log = logging.getLogger("chatserver.oneonone")

QUEUED_LINE = N_("Je staat in de wachtrij. Je kunt alvast typen wat je kwijt wilt; wie je gesprek aanneemt, leest het.")


def new_chat(actor: Actor, flavour: str, topic: str, risk: bool, now: datetime) -> Document:
    chat_id = secrets.token_urlsafe(12)
    return {
        "_id": chat_id,
        "flavour": flavour,
        "channel": chat_channel(flavour, chat_id),
        "visitor_id": actor.account_id,
        "visitor_pseudonym": actor.pseudonym,
        "topic": topic,
        "risk": risk,
        "tier_needed": int(Tier.VOLUNTEER),
        "status": "waiting",
        "requested_at": now,
        "queued_at": now,
        "staff_id": None,
        "staff_ids": [],
        "handoff_from": None,
        "notes": [],
        "outcome_tags": [],
        "hold": None,
    }


class ChatQueue:
    def __init__(
        self,
        repo: OneOnOneStore,
        shifts: ShiftService,
        catalog: FlavourCatalog,
        chat: ChatService,
        announce: Announcer,
        crisis: CrisisSignals,
        clock: Clock,
        counter: Counter,
    ) -> None:
        self.repo = repo
        self.shifts = shifts
        self.catalog = catalog
        self.chat = chat
        self.announce = announce
        self.crisis = crisis
        self.clock = clock
        self.counter = counter

    # visitors ----------------------------------------------------------------------------------------------

    async def availability(self, flavour: str) -> dict[str, Any]:
        f = self.catalog.get(flavour)
        if f is None:
            raise not_found()
        staff = await self.shifts.staff_count(flavour)
        open_now = is_open(f, self.clock())
        return {"open": open_now, "staff_on_shift": staff, "accepting": open_now or staff > 0}

    async def current(self, actor: Actor | None, flavour: str) -> Document | None:
        if actor is None:
            return None
        return await self.repo.open_chat_of_visitor(actor.account_id, flavour)

    async def request(self, actor: Actor, flavour: str, topic: str, risk: bool = False) -> Document:
        f = self.catalog.get(flavour)
        if f is None:
            raise not_found()
        if actor.is_guest and not f.chat.guests_allowed:
            raise OneOnOneError(403, N_("Voor een gesprek in deze community heb je een account nodig."))
        existing = await self.repo.open_chat_of_visitor(actor.account_id, flavour)
        if existing is not None:
            return existing
        if not (await self.availability(flavour))["accepting"]:
            raise OneOnOneError(409, N_("De chat is nu gesloten. Kijk hieronder wanneer we weer open zijn."))
        topic = " ".join(topic.split())[:MAX_TOPIC_CHARS]
        verdict = self.crisis.verdict(actor, flavour, topic) if topic else None
        flagged = verdict is not None and verdict.crisis.flagged
        doc = new_chat(actor, flavour, topic, risk or flagged, self.clock())
        await self.repo.insert_chat(doc)
        self.counter.count("oneonone.requested", flavour)
        log.info("1-on-1 request in %s (risk=%s)", flavour, doc["risk"])
        await self.announce.line(doc, QUEUED_LINE)
        await self.announce.queue_changed(flavour, "joined", str(doc["_id"]))
        if verdict is not None and flagged:
            await self.crisis.alert(doc, actor, topic, verdict, None)
        return doc

    # staff -------------------------------------------------------------------------------------------------

    def scope(self, actor: Actor) -> list[str]:
        """The flavours whose queue this staff member sees."""
        return [f.slug for f in self.catalog if actor.staff_in(f.slug)]

    async def queue_view(self, actor: Actor) -> dict[str, Any]:
        now = self.clock()
        flavours = self.scope(actor)
        waiting = await self.repo.waiting(flavours)
        entries = [rules.waiting_entry(d) for d in waiting]
        return {
            "rows": rules.queue_rows(waiting, rules.tier_of_role(actor.role), now),
            "longest_wait_min": rules.longest_wait_s(entries, now) // 60,
            "alerts": await self.repo.recent_alerts(flavours, 10),
        }

    async def my_chats(self, actor: Actor) -> list[Document]:
        return await self.repo.active_of_staff(actor.account_id)

    async def check_can_hold(self, actor: Actor, flavour: str) -> dict[str, Any]:
        """The staff member's shift, when they are on shift in ``flavour`` and have room for one more chat."""
        status = await self.shifts.status_of(actor.account_id)
        if status is None or flavour not in status["flavours"]:
            raise OneOnOneError(409, N_("Meld je eerst aan voor een dienst in deze community."))
        active = await self.repo.count_active_of_staff(actor.account_id)
        if not rules.has_capacity(active, int(status["capacity"])):
            raise OneOnOneError(409, N_("Je zit aan je maximum aantal gesprekken tegelijk."))
        return status

    async def _next_for(self, actor: Actor, tier: Tier | None) -> str:
        """The chat this staff member gets when they accept the next one."""
        status = await self.shifts.status_of(actor.account_id)
        flavours = [f for f in (status["flavours"] if status else []) if actor.staff_in(f)]
        waiting = await self.repo.waiting(flavours)
        professional_free = tier != Tier.PROFESSIONAL and any(d.get("risk") for d in waiting)
        if professional_free:
            professional_free = await self._professional_free(flavours)
        entry = rules.pick_next([rules.waiting_entry(d) for d in waiting], tier, professional_free=professional_free)
        if entry is None:
            raise OneOnOneError(409, N_("Er wacht niemand die jij kunt aannemen."))
        return entry.chat_id

    async def _professional_free(self, flavours: list[str]) -> bool:
        """Whether a professional on shift in one of ``flavours`` can take another chat now."""
        for flavour in flavours:
            for status in await self.shifts.on_shift(flavour):
                if rules.tier_of_role(str(status.get("role"))) != Tier.PROFESSIONAL:
                    continue
                active = await self.repo.count_active_of_staff(str(status["_id"]))
                if rules.has_capacity(active, int(status["capacity"])):
                    return True
        return False

    async def accept(self, actor: Actor, chat_id: str | None = None) -> Document:
        tier = rules.tier_of_role(actor.role)
        if chat_id is None:
            chat_id = await self._next_for(actor, tier)
        doc = await self.repo.chat(chat_id)
        if doc is None or not actor.staff_in(str(doc["flavour"])) or tier is None:
            raise not_found()
        if doc["status"] != "waiting":
            raise OneOnOneError(409, N_("Dit gesprek is al aangenomen."))
        needed = Tier(int(doc["tier_needed"]))
        if not rules.can_take(tier, needed):
            raise OneOnOneError(403, N_("Dit gesprek wacht op %s.") % rules.TIER_NAMES[needed])
        flavour = str(doc["flavour"])
        await self.check_can_hold(actor, flavour)
        now = self.clock()
        taken = {
            "status": "active",
            "staff_id": actor.account_id,
            "staff_pseudonym": actor.pseudonym,
            "staff_role": actor.role,
            "assigned_at": now,
            "handoff_from": None,
            "reply_alerted": False,
        }
        answered_now = doc.get("assigned_at") is None  # an escalated or re-offered chat was answered before
        if answered_now:
            taken["answered_at"] = now  # where the conversation's duration starts
        updated = await self.repo.update_chat(chat_id, ["waiting"], taken, extra={"staff_id": None})
        if updated is None:
            raise OneOnOneError(409, N_("Dit gesprek is al aangenomen."))
        if answered_now:
            self.counter.count("oneonone.answered", flavour)
            self.counter.count("oneonone.wait", flavour, value=(now - doc["requested_at"]).total_seconds())
        if actor.account_id not in updated.get("staff_ids", []):
            updated = await self.repo.add_staff(chat_id, actor.account_id) or updated
        await self._accepted(actor, updated, doc.get("handoff_from"))
        return updated

    async def _accepted(self, actor: Actor, doc: Document, previous: Any) -> None:
        """Tell the visitor who is there now, the staff member who had it that it moved, the consoles the change."""
        chat_id = str(doc["_id"])
        role = rules.role_label(actor.role)
        if doc.get("escalated_to") and int(doc["escalated_to"]) == int(doc["tier_needed"]) and previous:
            await self.announce.line(doc, rules.handoff_line(Tier(int(doc["tier_needed"])), actor.pseudonym))
        else:
            await self.announce.line(doc, N_("%s (%s) is er nu voor je.") % (actor.pseudonym, role))
        await self.announce.step(doc, ChatAssigned(staff=actor.pseudonym, role=role))
        if previous:
            await self.announce.tell_staff(str(previous), "taken_over", chat_id)
        notice = ChatAccepted(chat_id=chat_id, staff=actor.pseudonym, role=role)
        await self.chat.notify(user_channel(str(doc["visitor_id"])), notice)
        await self.announce.queue_changed(str(doc["flavour"]), "accepted", chat_id)
