"""The conversation and its handoffs: the doors to a chat, what the visitor and the staff member do in it,
transfer to a colleague, warm escalation to a higher tier (with the visitor's consent where the flavour asks it),
re-offering to the next shift, ending, the transcript and the safeguarding hold.

Every change of a chat is one conditional write on its status (and staff member), so two people acting at once
never both succeed; the side that lost gets a Dutch "it changed meanwhile".
"""

from __future__ import annotations

import secrets
from typing import TYPE_CHECKING, Any

from chatserver.domain import oneonone as rules
from chatserver.domain.channels import ChannelFacts, ChannelRef
from chatserver.domain.identity import Actor, Tier
from chatserver.flavours import FlavourCatalog
from chatserver.i18n import N_
from chatserver.protocol.events import ChatAssigned, ChatStep, ChatTransfer
from chatserver.services.oneonone.errors import MAX_COMMENT_CHARS, MAX_NOTE_CHARS, OneOnOneError, not_found

if TYPE_CHECKING:
    from datetime import datetime

    from chatserver.clock import Clock
    from chatserver.ports import Document, OneOnOneStore
    from chatserver.ports.reflectie import Counter
    from chatserver.services.oneonone.announce import Announcer, QueueEvent
    from chatserver.services.shifts import ShiftService

CHANGED = N_("Het gesprek is intussen veranderd; probeer het opnieuw.")
HANDOVER_LINE = N_(
    "Je gesprek wordt overgedragen aan een collega van de volgende dienst. "
    "Je hoeft je verhaal niet opnieuw te vertellen."
)


class Conversations:
    def __init__(
        self,
        repo: OneOnOneStore,
        shifts: ShiftService,
        catalog: FlavourCatalog,
        announce: Announcer,
        clock: Clock,
        counter: Counter,
    ) -> None:
        self.repo = repo
        self.shifts = shifts
        self.catalog = catalog
        self.announce = announce
        self.clock = clock
        self.counter = counter

    # the doors ---------------------------------------------------------------------------------------------

    async def access_visitor(self, actor: Actor | None, flavour: str, chat_id: str) -> Document:
        doc = await self.repo.chat(chat_id)
        if actor is None or doc is None or doc["flavour"] != flavour or doc["visitor_id"] != actor.account_id:
            raise not_found()
        if doc.get("purged"):
            raise not_found()
        return doc

    async def access_staff(self, actor: Actor | None, chat_id: str) -> Document:
        doc = await self.repo.chat(chat_id)
        if actor is None or doc is None or not actor.staff_in(str(doc["flavour"])):
            raise not_found()
        if rules.tier_of_role(actor.role) is None:
            raise not_found()
        # A professional may look along in a chat with a crisis signal (a volunteer keeps it beside them).
        looks_along = bool(doc.get("risk")) and rules.tier_of_role(actor.role) == Tier.PROFESSIONAL
        if actor.account_id not in doc.get("staff_ids", []) and doc.get("status") != "waiting" and not looks_along:
            raise not_found()
        return doc

    async def resolve(self, actor: Actor, ref: ChannelRef) -> ChannelFacts:
        """The channel resolver for 1-on-1 chats: who takes part now."""
        doc = await self.repo.chat(ref.ident)
        if doc is None or doc["flavour"] != ref.flavour or doc.get("purged"):
            return ChannelFacts(exists=False)
        return ChannelFacts(participants=rules.participants(doc), exists=True)

    # the visitor -------------------------------------------------------------------------------------------

    async def leave(self, actor: Actor, flavour: str, chat_id: str) -> Document:
        doc = await self.access_visitor(actor, flavour, chat_id)
        if doc["status"] == "ended":
            return doc
        return await self.finish(doc, ["afgebroken"], N_("De bezoeker heeft het gesprek verlaten."))

    async def consent(self, actor: Actor, flavour: str, chat_id: str, agree: bool) -> Document:
        doc = await self.access_visitor(actor, flavour, chat_id)
        pending = doc.get("pending_escalation")
        if doc["status"] != "active" or not pending:
            raise OneOnOneError(409, N_("Er is geen doorverbinding om mee in te stemmen."))
        doc = await self.repo.set_fields(chat_id, {"pending_escalation": None}) or doc
        if not agree:
            await self.announce.line(
                doc, N_("Je hebt gekozen om niet doorverbonden te worden. Je gesprek gaat gewoon verder.")
            )
            await self.announce.step(doc, ChatStep(event="consent_declined"))
            return doc
        await self.announce.step(doc, ChatStep(event="consent_given"))
        return await self._escalate_now(doc, Tier(int(pending["to_tier"])), pending.get("target_id"))

    async def feedback(self, actor: Actor, flavour: str, chat_id: str, score: int, comment: str) -> None:
        doc = await self.access_visitor(actor, flavour, chat_id)
        if doc["status"] != "ended":
            raise OneOnOneError(409, N_("Je kunt feedback geven als het gesprek is afgelopen."))
        if not 1 <= score <= 5:
            raise OneOnOneError(422, N_("Kies een cijfer van 1 tot en met 5."))
        feedback = {"score": score, "comment": comment.strip()[:MAX_COMMENT_CHARS], "at": self.clock()}
        await self.repo.set_fields(chat_id, {"feedback": feedback})
        if not doc.get("feedback"):  # a changed score is not counted twice
            self.counter.count("oneonone.feedback", flavour, value=score)

    async def history(self, doc: Document, limit: int) -> list[Document]:
        """The chat's last ``limit`` stored events, oldest first (what its pages show on load; the page's live
        position is the last of them)."""
        return await self.repo.messages(str(doc["channel"]), limit)

    async def transcript(self, doc: Document, site: str = "") -> str:
        f = self.catalog.get(str(doc["flavour"]))
        community = f.name if f else str(doc["flavour"])
        return rules.transcript(community, doc, await self.repo.messages(str(doc["channel"])), site)

    # the staff member --------------------------------------------------------------------------------------

    async def add_note(self, actor: Actor, chat_id: str, text: str) -> Document:
        doc = await self.access_staff(actor, chat_id)
        text = text.strip()[:MAX_NOTE_CHARS]
        if not text:
            raise OneOnOneError(422, N_("Een notitie mag niet leeg zijn."))
        note = {"by": actor.pseudonym, "role": rules.role_label(actor.role), "text": text, "at": self.clock()}
        return await self.repo.push_note(str(doc["_id"]), note) or doc

    async def colleagues(self, actor: Actor, doc: Document) -> list[Document]:
        return [s for s in await self.shifts.on_shift(str(doc["flavour"])) if s["_id"] != actor.account_id]

    async def active_of(self, actor: Actor, chat_id: str) -> Document:
        """The chat while it is active and assigned to ``actor``: not found for anyone else, "not yours (any
        more)" for a colleague who had it."""
        return await self._active_of(actor, chat_id)

    async def _active_of(self, actor: Actor, chat_id: str) -> Document:
        doc = await self.access_staff(actor, chat_id)
        if doc["status"] != "active" or doc.get("staff_id") != actor.account_id:
            raise OneOnOneError(409, N_("Dit gesprek is niet (meer) van jou."))
        return doc

    async def set_hold(self, actor: Actor, chat_id: str, on: bool, reason: str) -> Document:
        """A safeguarding hold keeps the transcript from the retention purge; professionals only, audited."""
        doc = await self.access_staff(actor, chat_id)
        if rules.tier_of_role(actor.role) != Tier.PROFESSIONAL:
            raise OneOnOneError(403, N_("Alleen een professional kan een gesprek bewaren voor veiligheid."))
        reason = reason.strip()[:MAX_NOTE_CHARS]
        if on and not reason:
            raise OneOnOneError(422, N_("Geef een reden voor het bewaren."))
        now = self.clock()
        hold = {"by": actor.account_id, "by_pseudonym": actor.pseudonym, "reason": reason, "at": now} if on else None
        await self.repo.add_audit(
            {
                "_id": secrets.token_hex(8),
                "chat_id": chat_id,
                "at": now,
                "actor": actor.account_id,
                "pseudonym": actor.pseudonym,
                "role": actor.role,
                "action": "hold_on" if on else "hold_off",
                "reason": reason,
            }
        )
        return await self.repo.set_fields(chat_id, {"hold": hold}) or doc

    # transfer and escalation -------------------------------------------------------------------------------

    async def _target(self, flavour: str, target_id: str, needed: Tier) -> Document:
        """The colleague a chat goes to: on shift in the flavour, of a tier that may take it, with room."""
        status = await self.shifts.status_of(target_id)
        if status is None or flavour not in status["flavours"]:
            raise OneOnOneError(409, N_("Deze collega is nu niet in dienst."))
        if not rules.can_take(rules.tier_of_role(str(status["role"])), needed):
            raise OneOnOneError(409, N_("Deze collega kan dit gesprek niet aannemen."))
        if not rules.has_capacity(await self.repo.count_active_of_staff(target_id), int(status["capacity"])):
            raise OneOnOneError(409, N_("Deze collega zit aan het maximum aantal gesprekken."))
        return status

    async def _reassign(self, doc: Document, target: Document, line: str) -> Document:
        chat_id = str(doc["_id"])
        changes = {
            "staff_id": target["_id"],
            "staff_pseudonym": target["pseudonym"],
            "staff_role": target["role"],
            "assigned_at": self.clock(),
            "handoff_from": None,
            "reply_alerted": False,
        }
        updated = await self.repo.update_chat(chat_id, ["active"], changes, extra={"staff_id": doc["staff_id"]})
        if updated is None:
            raise OneOnOneError(409, CHANGED)
        self.counter.count("oneonone.handoff", str(doc["flavour"]))  # to a colleague or a higher tier, by name
        await self.repo.add_staff(chat_id, str(target["_id"]))
        await self.announce.line(updated, line)
        role = rules.role_label(str(target["role"]))
        await self.announce.step(updated, ChatAssigned(staff=str(target["pseudonym"]), role=role))
        await self.announce.tell_staff(str(target["_id"]), "assigned", chat_id)
        await self.announce.tell_staff(str(doc["staff_id"]), "taken_over", chat_id)
        return updated

    async def transfer(self, actor: Actor, chat_id: str, target_id: str, note: str) -> Document:
        doc = await self._active_of(actor, chat_id)
        if target_id == actor.account_id:
            raise OneOnOneError(422, N_("Kies een collega."))
        target = await self._target(str(doc["flavour"]), target_id, Tier(int(doc["tier_needed"])))
        if note.strip():
            await self.add_note(actor, chat_id, "Overdracht: " + note)
        line = N_("Je gesprek wordt overgenomen door %s (%s). Je hoeft je verhaal niet opnieuw te vertellen.") % (
            target["pseudonym"],
            rules.role_label(str(target["role"])),
        )
        return await self._reassign(doc, target, line)

    async def escalate(
        self, actor: Actor, chat_id: str, to_role: str, note: str, target_id: str | None = None
    ) -> Document:
        doc = await self._active_of(actor, chat_id)
        to_tier = rules.tier_of_role(to_role)
        if (
            to_tier is None
            or to_role == "admin"
            or not rules.escalation_allowed(rules.tier_of_role(actor.role), to_tier)
        ):
            raise OneOnOneError(422, N_("Je kunt alleen doorverbinden naar een hogere laag."))
        if target_id:
            await self._target(str(doc["flavour"]), target_id, to_tier)
        if note.strip():
            await self.add_note(actor, chat_id, "Doorverbinden: " + note)
        f = self.catalog.get(str(doc["flavour"]))
        if f is not None and f.chat.escalation_needs_consent:
            return await self._ask_consent(actor, doc, to_tier, target_id)
        return await self._escalate_now(doc, to_tier, target_id or None)

    async def _ask_consent(self, actor: Actor, doc: Document, to_tier: Tier, target_id: str | None) -> Document:
        pending = {"to_tier": int(to_tier), "target_id": target_id or None, "by": actor.account_id}
        doc = await self.repo.set_fields(str(doc["_id"]), {"pending_escalation": pending}) or doc
        await self.announce.line(
            doc,
            N_("%s wil je doorverbinden met %s. Wil je dat? Je hoeft je verhaal dan niet opnieuw te vertellen.")
            % (actor.pseudonym, rules.TIER_NAMES[to_tier]),
        )
        await self.announce.step(doc, ChatTransfer(event="consent_requested", to=rules.TIER_NAMES[to_tier]))
        return doc

    async def _escalate_now(self, doc: Document, to_tier: Tier, target_id: str | None) -> Document:
        chat_id = str(doc["_id"])
        if target_id:
            target = await self._target(str(doc["flavour"]), target_id, to_tier)
            updated = await self.repo.set_fields(chat_id, {"tier_needed": int(to_tier), "escalated_to": int(to_tier)})
            return await self._reassign(updated or doc, target, rules.handoff_line(to_tier, str(target["pseudonym"])))
        back_in_queue = {
            "status": "waiting",
            "tier_needed": int(to_tier),
            "escalated_to": int(to_tier),
            "handoff_from": doc["staff_id"],
            "staff_id": None,
            "queued_at": doc["requested_at"],
        }
        updated = await self.repo.update_chat(chat_id, ["active"], back_in_queue)
        if updated is None:
            raise OneOnOneError(409, CHANGED)
        self.counter.count("oneonone.handoff", str(doc["flavour"]))  # to whoever of the higher tier takes it
        await self.announce.line(updated, rules.handoff_line(to_tier, None))
        await self.announce.step(updated, ChatTransfer(event="escalating", to=rules.TIER_NAMES[to_tier]))
        await self.announce.queue_changed(str(updated["flavour"]), "escalated", chat_id)
        return updated

    # ending and re-offering --------------------------------------------------------------------------------

    async def end(self, actor: Actor, chat_id: str, tags: list[str]) -> Document:
        doc = await self._active_of(actor, chat_id)
        chosen = [t for t in tags if t in rules.OUTCOME_TAGS]
        if not chosen:
            raise OneOnOneError(422, N_("Kies minstens één uitkomst."))
        return await self.finish(doc, chosen, N_("%s heeft het gesprek afgesloten.") % actor.pseudonym)

    async def finish(self, doc: Document, tags: list[str], line: str) -> Document:
        """End a waiting or active chat with ``line``; the chat unchanged when someone else ended or moved it."""
        chat_id = str(doc["_id"])
        now = self.clock()
        ended = {"status": "ended", "ended_at": now, "outcome_tags": tags, "pending_escalation": None}
        updated = await self.repo.update_chat(chat_id, list(rules.OPEN_STATUSES), ended)
        if updated is None:
            return doc
        self._count_end(updated, now)
        await self.announce.line(updated, line + " " + N_("Bedankt voor het gesprek."))
        await self.announce.step(updated, ChatStep(event="ended"))
        event: QueueEvent = "left" if doc["status"] == "waiting" else "ended"
        await self.announce.queue_changed(str(doc["flavour"]), event, chat_id)
        return updated

    def _count_end(self, doc: Document, now: datetime) -> None:
        """For the Reflectietafel: how long an answered conversation lasted, or, when nobody had answered it yet,
        that the visitor left the queue and after how long."""
        flavour = str(doc["flavour"])
        started = doc.get("answered_at") or doc.get("assigned_at")  # chats from before ``answered_at``: the last
        if started is not None:
            self.counter.count("oneonone.duration", flavour, value=max(0.0, (now - started).total_seconds()))
            return
        waited = max(0.0, (now - doc["requested_at"]).total_seconds())
        self.counter.count("oneonone.abandoned", flavour)
        self.counter.count("oneonone.abandon_wait", flavour, value=waited)

    async def reoffer(self, doc: Document, line: str, note: str | None = None) -> Document | None:
        """An active chat goes back to the queue (keeping its place), with a handover note when there is one."""
        chat_id = str(doc["_id"])
        push: dict[str, Any] | None = None
        if note:
            by = doc.get("staff_pseudonym") or ""
            role = rules.role_label(doc.get("staff_role"))
            push = {"notes": {"by": by, "role": role, "text": "Overdracht: " + note, "at": self.clock()}}
        waiting = {"status": "waiting", "staff_id": None, "handoff_from": None, "queued_at": doc["requested_at"]}
        updated = await self.repo.update_chat(
            chat_id, ["active"], waiting, push=push, extra={"staff_id": doc["staff_id"]}
        )
        if updated is None:
            return None
        await self.announce.line(updated, line)
        await self.announce.step(updated, ChatStep(event="reoffered"))
        await self.announce.tell_staff(str(doc["staff_id"]), "taken_over", chat_id)
        await self.announce.queue_changed(str(updated["flavour"]), "reoffered", chat_id)
        return updated

    async def handover(self, account_id: str, flavours: list[str], note: str) -> None:
        """Someone signs off: their open chats in ``flavours`` go to the next shift with the handover note."""
        for doc in await self.repo.active_of_staff(account_id):
            if doc["flavour"] in flavours and await self.reoffer(doc, HANDOVER_LINE, note or N_("Einde dienst.")):
                self.counter.count("oneonone.handoff", str(doc["flavour"]))  # to the next shift, with the note
