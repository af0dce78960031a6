"""Staffed 1-on-1 chat: the queue, accepting, transfer, warm escalation, ending, alerts, transcripts, retention."""

from __future__ import annotations

import logging
import secrets
from collections.abc import Awaitable, Callable, Sequence
from datetime import datetime, timedelta
from typing import Any

from chatserver.adapters.mongo_client import Document
from chatserver.adapters.oneonone_repo import OneOnOneRepo
from chatserver.domain import oneonone as rules
from chatserver.domain.accounts import DELETED_PSEUDONYM
from chatserver.domain.channels import (
    ChannelFacts,
    ChannelKind,
    ChannelRef,
    chat_channel,
    queue_channel,
    user_channel,
)
from chatserver.domain.identity import Actor, Tier
from chatserver.flavours import FlavourCatalog, is_open
from chatserver.services.chat import ALLOW, Acked, Screening
from chatserver.services.shifts import ShiftService
from moderation.rules import Verdict

log = logging.getLogger("chatserver.oneonone")

MAX_TOPIC_CHARS = 200
MAX_NOTE_CHARS = 2000
MAX_COMMENT_CHARS = 1000
OPEN_STATUSES = ["waiting", "active"]


class OneOnOneError(Exception):
    def __init__(self, status: int, detail: str) -> None:
        super().__init__(detail)
        self.status = status
        self.detail = detail


def _not_found() -> OneOnOneError:
    return OneOnOneError(404, "Dit gesprek bestaat niet (meer).")


def participants(doc: Document) -> frozenset[str]:
    """Who may read and write the chat's channel now: the visitor and the staff member(s) in it."""
    if doc.get("status") not in OPEN_STATUSES or doc.get("purged"):
        return frozenset()
    ids = {doc.get("visitor_id"), doc.get("staff_id"), doc.get("handoff_from")}
    return frozenset(str(i) for i in ids if i)


class OneOnOneService:
    def __init__(
        self,
        repo: OneOnOneRepo,
        shifts: ShiftService,
        catalog: FlavourCatalog,
        chat: Callable[[], Any],
        clock: Callable[[], datetime],
        moderation: Callable[[], Any] = lambda: None,
        online: Callable[[str], Awaitable[frozenset[str]]] | None = None,
    ) -> None:
        # ``online(channel)``: the pseudonyms with a live connection to the channel now (the gateway's presence).
        self.online = online
        self.repo = repo
        self.shifts = shifts
        self.catalog = catalog
        self.chat = chat
        self.clock = clock
        self.moderation = moderation

    # live helpers -----------------------------------------------------------------------------

    async def _system(self, doc: Document, text: str) -> None:
        chat = self.chat()
        if chat is not None:
            await chat.do_emit(str(doc["channel"]), "system", {"text": text})

    async def _chat_event(self, doc: Document, data: dict[str, Any]) -> None:
        chat = self.chat()
        if chat is not None:
            await chat.do_emit(str(doc["channel"]), "chat", data)

    async def _queue_event(self, flavour: str, event: str, chat_id: str) -> None:
        chat = self.chat()
        if chat is None:
            return
        waiting = await self.repo.waiting([flavour])
        entries = [_waiting(d) for d in waiting]
        data = {
            "event": event,
            "chat_id": chat_id,
            "waiting": len(entries),
            "longest_wait_s": rules.longest_wait_s(entries, self.clock()),
            "staff_on_shift": await self.shifts.staff_count(flavour),
        }
        await chat.do_emit(queue_channel(flavour), "queue", data)
        await self.notify_positions(flavour, waiting)

    async def _notify_staff(self, account_id: str, event: str, chat_id: str) -> None:
        chat = self.chat()
        if chat is not None:
            await chat.do_notify(user_channel(account_id), "chat", {"event": event, "chat_id": chat_id})

    async def free_slots(self, flavour: str) -> int:
        free = 0
        for doc in await self.shifts.on_shift(flavour):
            free += max(0, int(doc["capacity"]) - await self.repo.count_active_of_staff(str(doc["_id"])))
        return free

    async def position_view(self, doc: Document, waiting: list[Document] | None = None) -> dict[str, Any]:
        """Position, estimate and staff count for the visitor of a waiting chat."""
        flavour = str(doc["flavour"])
        waiting = waiting if waiting is not None else await self.repo.waiting([flavour])
        position = rules.position_of([_waiting(d) for d in waiting], str(doc["_id"])) or 1
        staff = await self.shifts.staff_count(flavour)
        free = await self.free_slots(flavour) if staff else 0
        return {
            "chat_id": str(doc["_id"]),
            "status": "waiting",
            "position": position,
            "estimated_wait_min": rules.estimate_wait_min(position, staff, free),
            "staff_on_shift": staff,
        }

    async def notify_positions(self, flavour: str, waiting: list[Document] | None = None) -> None:
        chat = self.chat()
        if chat is None:
            return
        waiting = waiting if waiting is not None else await self.repo.waiting([flavour])
        for doc in waiting:
            await chat.do_notify(user_channel(str(doc["visitor_id"])), "queue", await self.position_view(doc, waiting))

    # access (the only doors) -------------------------------------------------------------------------

    async def access_visitor(self, actor: Actor | None, flavour: str, chat_id: str) -> Document:
        doc = await self.repo.chat(chat_id)
        if actor is None or doc is None or doc["flavour"] != flavour or doc["visitor_id"] != actor.account_id:
            raise _not_found()
        if doc.get("purged"):
            raise _not_found()
        return doc

    async def access_staff(self, actor: Actor | None, chat_id: str) -> Document:
        doc = await self.repo.chat(chat_id)
        if actor is None or doc is None or not actor.staff_in(str(doc["flavour"])):
            raise _not_found()
        if rules.tier_of_role(actor.role) is None:
            raise _not_found()
        # A professional may look along in a chat with a crisis signal (a volunteer keeps it beside them).
        looks_along = bool(doc.get("risk")) and rules.tier_of_role(actor.role) == Tier.PROFESSIONAL
        if actor.account_id not in doc.get("staff_ids", []) and doc.get("status") != "waiting" and not looks_along:
            raise _not_found()
        return doc

    async def resolve(self, actor: Actor, ref: ChannelRef) -> ChannelFacts:
        doc = await self.repo.chat(ref.ident)
        if doc is None or doc["flavour"] != ref.flavour or doc.get("purged"):
            return ChannelFacts(exists=False)
        return ChannelFacts(participants=participants(doc), exists=True)

    # visitor -----------------------------------------------------------------------------------------

    async def availability(self, flavour: str) -> dict[str, Any]:
        f = self.catalog.get(flavour)
        if f is None:
            raise _not_found()
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
            raise _not_found()
        if actor.is_guest and not f.chat.guests_allowed:
            raise OneOnOneError(403, "Voor een gesprek in deze community heb je een account nodig.")
        existing = await self.repo.open_chat_of_visitor(actor.account_id, flavour)
        if existing is not None:
            return existing
        if not (await self.availability(flavour))["accepting"]:
            raise OneOnOneError(409, "De chat is nu gesloten. Kijk hieronder wanneer we weer open zijn.")
        topic = " ".join(topic.split())[:MAX_TOPIC_CHARS]
        verdict = self._crisis_verdict(actor, flavour, topic) if topic else None
        risk = risk or (verdict is not None and verdict.crisis.flagged)
        now = self.clock()
        chat_id = secrets.token_urlsafe(12)
        doc: Document = {
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
        await self.repo.insert_chat(doc)
        log.info("1-on-1 request in %s (risk=%s)", flavour, risk)
        await self._system(
            doc, "Je staat in de wachtrij. Je kunt alvast typen wat je kwijt wilt; wie je gesprek aanneemt, leest het."
        )
        await self._queue_event(flavour, "joined", chat_id)
        if verdict is not None and verdict.crisis.flagged:
            await self._alert_crisis(doc, actor, topic, verdict, None)
        return doc

    # crisis signals ------------------------------------------------------------------------------------

    def _crisis_verdict(self, actor: Actor, flavour: str, text: str, recent: Sequence[str] = ()) -> Verdict | None:
        moderation = self.moderation()
        if moderation is None:
            return None
        verdict: Verdict = moderation.screen(actor, flavour, "chat_1on1", text, recent=recent)
        return verdict

    async def crisis_screener(
        self, actor: Actor, ref: ChannelRef, client_msg_id: str, text: str, /, *, recent: Sequence[str] = ()
    ) -> Screening:
        """For ``chat.screeners``: a visitor's 1-on-1 line (also while waiting) with a crisis signal is not held —
        a staff member is there — but marked for them, the visitor gets the crisis lines at once and the
        professional on shift is alerted (after the line is stored, so the alert can point at it)."""
        if ref.kind is not ChannelKind.CHAT or actor.is_staff:
            return ALLOW
        verdict = self._crisis_verdict(actor, ref.flavour, text, recent)
        if verdict is None or not verdict.crisis.flagged:
            return ALLOW
        from chatserver.services.moderation import crisis_notice

        staffed = await self.shifts.professional_on_shift(ref.flavour)

        async def after(acked: Acked) -> None:
            doc = await self.repo.chat(ref.ident)
            if doc is not None:
                await self._alert_crisis(doc, actor, text, verdict, acked.offset)

        return Screening("allow", notice=crisis_notice(self.catalog.get(ref.flavour), held=False, staffed=staffed),
                         after=after)  # fmt: skip

    async def _alert_crisis(
        self, doc: Document, author: Actor, text: str, verdict: Verdict, offset: int | None
    ) -> None:
        """Mark the line, put a waiting request first, alert the professional on shift (a moderation item)."""
        from chatserver.services.moderation import ItemRef

        chat_id = str(doc["_id"])
        flavour = str(doc["flavour"])
        channel = str(doc["channel"])
        if not doc.get("risk"):
            doc = await self.repo.set_fields(chat_id, {"risk": True}) or doc
            if doc.get("status") == "waiting":
                await self._queue_event(flavour, "risk", chat_id)
        chat = self.chat()
        if offset is not None and chat is not None:
            await chat.store.update_event(channel, offset, {"data.crisis": True})
            await chat.do_emit(channel, "chat", {"event": "crisis", "offset": offset})
        anchor = f"#bericht-{offset}" if offset is not None else ""
        moderation = self.moderation()
        if moderation is not None:
            await moderation.submit_item(
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
        where = "in de wachtrij" if doc.get("status") == "waiting" else "in een lopend gesprek"
        await self.shifts.raise_alert(flavour, "crisis", f"Crisissignaal {where}: een professional is gewaarschuwd.",
                                      chat_id)  # fmt: skip

    async def leave(self, actor: Actor, flavour: str, chat_id: str) -> Document:
        doc = await self.access_visitor(actor, flavour, chat_id)
        if doc["status"] == "ended":
            return doc
        return await self._end(doc, ["afgebroken"], "De bezoeker heeft het gesprek verlaten.")

    async def consent(self, actor: Actor, flavour: str, chat_id: str, agree: bool) -> Document:
        doc = await self.access_visitor(actor, flavour, chat_id)
        pending = doc.get("pending_escalation")
        if doc["status"] != "active" or not pending:
            raise OneOnOneError(409, "Er is geen doorverbinding om mee in te stemmen.")
        doc = await self.repo.set_fields(chat_id, {"pending_escalation": None}) or doc
        if not agree:
            await self._system(doc, "Je hebt gekozen om niet doorverbonden te worden. Je gesprek gaat gewoon verder.")
            await self._chat_event(doc, {"event": "consent_declined"})
            return doc
        await self._chat_event(doc, {"event": "consent_given"})
        return await self._do_escalate(doc, Tier(int(pending["to_tier"])), pending.get("target_id"))

    async def feedback(self, actor: Actor, flavour: str, chat_id: str, score: int, comment: str) -> None:
        doc = await self.access_visitor(actor, flavour, chat_id)
        if doc["status"] != "ended":
            raise OneOnOneError(409, "Je kunt feedback geven als het gesprek is afgelopen.")
        if not 1 <= score <= 5:
            raise OneOnOneError(422, "Kies een cijfer van 1 tot en met 5.")
        await self.repo.set_fields(
            chat_id, {"feedback": {"score": score, "comment": comment.strip()[:MAX_COMMENT_CHARS], "at": self.clock()}}
        )

    async def transcript(self, doc: Document) -> str:
        f = self.catalog.get(str(doc["flavour"]))
        lines = [
            f"Gesprek bij {f.name if f else doc['flavour']}",
            f"Begonnen: {doc['requested_at'].astimezone(rules.TIMEZONE):%d-%m-%Y %H:%M}",
            "",
        ]
        for event in await self.repo.messages(str(doc["channel"])):
            at = event["ts"].astimezone(rules.TIMEZONE).strftime("%H:%M")
            data = event.get("data") or {}
            if event.get("kind") == "message":
                role = f" ({event['role']})" if event.get("role") else ""
                text = "[verwijderd]" if data.get("deleted") else str(data.get("text", ""))
                lines.append(f"[{at}] {event.get('pseudonym', '')}{role}: {text}")
            elif event.get("kind") == "system":
                lines.append(f"[{at}] — {data.get('text', '')}")
        return "\n".join(lines) + "\n"

    # staff -----------------------------------------------------------------------------------------------

    def scope(self, actor: Actor) -> list[str]:
        return [f.slug for f in self.catalog if actor.staff_in(f.slug)]

    async def queue_view(self, actor: Actor) -> dict[str, Any]:
        now = self.clock()
        flavours = self.scope(actor)
        waiting = await self.repo.waiting(flavours)
        tier = rules.tier_of_role(actor.role)
        entries = rules.queue_order([_waiting(d) for d in waiting])
        by_id = {str(d["_id"]): d for d in waiting}
        rows = []
        for position, entry in enumerate(entries, start=1):
            d = by_id[entry.chat_id]
            rows.append(
                {
                    "id": entry.chat_id,
                    "flavour": d["flavour"],
                    "topic": d.get("topic", ""),
                    "risk": entry.risk,
                    "position": position,
                    "wait_min": int((now - entry.queued_at).total_seconds() // 60),
                    "tier_needed": rules.TIER_NAMES[entry.tier_needed],
                    "can_take": rules.can_take(tier, entry.tier_needed),
                    "handoff": bool(d.get("handoff_from")),
                    "pseudonym": d.get("visitor_pseudonym", ""),
                }
            )
        return {
            "rows": rows,
            "longest_wait_min": rules.longest_wait_s(entries, now) // 60,
            "alerts": await self.repo.recent_alerts(flavours, 10),
        }

    async def my_chats(self, actor: Actor) -> list[Document]:
        return await self.repo.active_of_staff(actor.account_id)

    async def _check_can_hold(self, actor: Actor, flavour: str) -> dict[str, Any]:
        status = await self.shifts.status_of(actor.account_id)
        if status is None or flavour not in status["flavours"]:
            raise OneOnOneError(409, "Meld je eerst aan voor een dienst in deze community.")
        active = await self.repo.count_active_of_staff(actor.account_id)
        if not rules.has_capacity(active, int(status["capacity"])):
            raise OneOnOneError(409, "Je zit aan je maximum aantal gesprekken tegelijk.")
        return status

    async def accept(self, actor: Actor, chat_id: str | None = None) -> Document:
        tier = rules.tier_of_role(actor.role)
        if chat_id is None:
            status = await self.shifts.status_of(actor.account_id)
            flavours = [f for f in (status["flavours"] if status else []) if actor.staff_in(f)]
            waiting = await self.repo.waiting(flavours)
            professional_free = tier != Tier.PROFESSIONAL and any(d.get("risk") for d in waiting)
            if professional_free:
                professional_free = await self._professional_free(flavours)
            entry = rules.pick_next([_waiting(d) for d in waiting], tier, professional_free=professional_free)
            if entry is None:
                raise OneOnOneError(409, "Er wacht niemand die jij kunt aannemen.")
            chat_id = entry.chat_id
        doc = await self.repo.chat(chat_id)
        if doc is None or not actor.staff_in(str(doc["flavour"])) or tier is None:
            raise _not_found()
        if doc["status"] != "waiting":
            raise OneOnOneError(409, "Dit gesprek is al aangenomen.")
        if not rules.can_take(tier, Tier(int(doc["tier_needed"]))):
            raise OneOnOneError(403, f"Dit gesprek wacht op {rules.TIER_NAMES[Tier(int(doc['tier_needed']))]}.")
        await self._check_can_hold(actor, str(doc["flavour"]))
        now = self.clock()
        previous = doc.get("handoff_from")
        updated = await self.repo.update_chat(
            chat_id,
            ["waiting"],
            {
                "status": "active",
                "staff_id": actor.account_id,
                "staff_pseudonym": actor.pseudonym,
                "staff_role": actor.role,
                "assigned_at": now,
                "handoff_from": None,
                "reply_alerted": False,
            },
            extra={"staff_id": None},
        )
        if updated is None:
            raise OneOnOneError(409, "Dit gesprek is al aangenomen.")
        if actor.account_id not in updated.get("staff_ids", []):
            updated = (
                await self.repo.chats.find_one_and_update(
                    {"_id": chat_id}, {"$push": {"staff_ids": actor.account_id}}, return_document=True
                )
                or updated
            )
        if updated.get("escalated_to") and int(updated["escalated_to"]) == int(updated["tier_needed"]) and previous:
            await self._system(updated, rules.handoff_line(Tier(int(updated["tier_needed"])), actor.pseudonym))
        else:
            await self._system(updated, f"{actor.pseudonym} ({rules.role_label(actor.role)}) is er nu voor je.")
        await self._chat_event(
            updated, {"event": "assigned", "staff": actor.pseudonym, "role": rules.role_label(actor.role)}
        )
        if previous:
            await self._notify_staff(str(previous), "taken_over", chat_id)
        chat = self.chat()
        if chat is not None:
            await chat.do_notify(
                user_channel(str(updated["visitor_id"])),
                "queue",
                {
                    "chat_id": chat_id,
                    "status": "active",
                    "staff": actor.pseudonym,
                    "role": rules.role_label(actor.role),
                },
            )
        await self._queue_event(str(updated["flavour"]), "accepted", chat_id)
        return updated

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

    async def add_note(self, actor: Actor, chat_id: str, text: str) -> Document:
        doc = await self.access_staff(actor, chat_id)
        text = text.strip()[:MAX_NOTE_CHARS]
        if not text:
            raise OneOnOneError(422, "Een notitie mag niet leeg zijn.")
        note = {"by": actor.pseudonym, "role": rules.role_label(actor.role), "text": text, "at": self.clock()}
        return await self.repo.push_note(str(doc["_id"]), note) or doc

    async def _active_of(self, actor: Actor, chat_id: str) -> Document:
        doc = await self.access_staff(actor, chat_id)
        if doc["status"] != "active" or doc.get("staff_id") != actor.account_id:
            raise OneOnOneError(409, "Dit gesprek is niet (meer) van jou.")
        return doc

    async def _target(self, flavour: str, target_id: str, needed: Tier) -> Document:
        status = await self.shifts.status_of(target_id)
        if status is None or flavour not in status["flavours"]:
            raise OneOnOneError(409, "Deze collega is nu niet in dienst.")
        if not rules.can_take(rules.tier_of_role(str(status["role"])), needed):
            raise OneOnOneError(409, "Deze collega kan dit gesprek niet aannemen.")
        if not rules.has_capacity(await self.repo.count_active_of_staff(target_id), int(status["capacity"])):
            raise OneOnOneError(409, "Deze collega zit aan het maximum aantal gesprekken.")
        return status

    async def _reassign(self, doc: Document, target: Document, line: str) -> Document:
        chat_id = str(doc["_id"])
        updated = await self.repo.update_chat(
            chat_id,
            ["active"],
            {
                "staff_id": target["_id"],
                "staff_pseudonym": target["pseudonym"],
                "staff_role": target["role"],
                "assigned_at": self.clock(),
                "handoff_from": None,
                "reply_alerted": False,
            },
            extra={"staff_id": doc["staff_id"]},
        )
        if updated is None:
            raise OneOnOneError(409, "Het gesprek is intussen veranderd; probeer het opnieuw.")
        await self.repo.chats.update_one({"_id": chat_id}, {"$addToSet": {"staff_ids": target["_id"]}})
        await self._system(updated, line)
        await self._chat_event(
            updated, {"event": "assigned", "staff": target["pseudonym"], "role": rules.role_label(str(target["role"]))}
        )
        await self._notify_staff(str(target["_id"]), "assigned", chat_id)
        await self._notify_staff(str(doc["staff_id"]), "taken_over", chat_id)
        return updated

    async def transfer(self, actor: Actor, chat_id: str, target_id: str, note: str) -> Document:
        doc = await self._active_of(actor, chat_id)
        if target_id == actor.account_id:
            raise OneOnOneError(422, "Kies een collega.")
        target = await self._target(str(doc["flavour"]), target_id, Tier(int(doc["tier_needed"])))
        if note.strip():
            await self.add_note(actor, chat_id, "Overdracht: " + note)
        line = (
            f"Je gesprek wordt overgenomen door {target['pseudonym']} ({rules.role_label(str(target['role']))}). "
            "Je hoeft je verhaal niet opnieuw te vertellen."
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
            raise OneOnOneError(422, "Je kunt alleen doorverbinden naar een hogere laag.")
        if target_id:
            await self._target(str(doc["flavour"]), target_id, to_tier)
        if note.strip():
            await self.add_note(actor, chat_id, "Doorverbinden: " + note)
        f = self.catalog.get(str(doc["flavour"]))
        if f is not None and f.chat.escalation_needs_consent:
            pending = {"to_tier": int(to_tier), "target_id": target_id or None, "by": actor.account_id}
            doc = await self.repo.set_fields(chat_id, {"pending_escalation": pending}) or doc
            await self._system(
                doc,
                f"{actor.pseudonym} wil je doorverbinden met {rules.TIER_NAMES[to_tier]}. "
                "Wil je dat? Je hoeft je verhaal dan niet opnieuw te vertellen.",
            )
            await self._chat_event(doc, {"event": "consent_requested", "to": rules.TIER_NAMES[to_tier]})
            return doc
        return await self._do_escalate(doc, to_tier, target_id or None)

    async def _do_escalate(self, doc: Document, to_tier: Tier, target_id: str | None) -> Document:
        chat_id = str(doc["_id"])
        if target_id:
            target = await self._target(str(doc["flavour"]), target_id, to_tier)
            updated = await self.repo.set_fields(chat_id, {"tier_needed": int(to_tier), "escalated_to": int(to_tier)})
            return await self._reassign(updated or doc, target, rules.handoff_line(to_tier, str(target["pseudonym"])))
        updated = await self.repo.update_chat(
            chat_id,
            ["active"],
            {
                "status": "waiting",
                "tier_needed": int(to_tier),
                "escalated_to": int(to_tier),
                "handoff_from": doc["staff_id"],
                "staff_id": None,
                "queued_at": doc["requested_at"],
            },
        )
        if updated is None:
            raise OneOnOneError(409, "Het gesprek is intussen veranderd; probeer het opnieuw.")
        await self._system(updated, rules.handoff_line(to_tier, None))
        await self._chat_event(updated, {"event": "escalating", "to": rules.TIER_NAMES[to_tier]})
        await self._queue_event(str(updated["flavour"]), "escalated", chat_id)
        return updated

    async def end(self, actor: Actor, chat_id: str, tags: list[str]) -> Document:
        doc = await self._active_of(actor, chat_id)
        chosen = [t for t in tags if t in rules.OUTCOME_TAGS]
        if not chosen:
            raise OneOnOneError(422, "Kies minstens één uitkomst.")
        return await self._end(doc, chosen, f"{actor.pseudonym} heeft het gesprek afgesloten.")

    async def _end(self, doc: Document, tags: list[str], line: str) -> Document:
        chat_id = str(doc["_id"])
        updated = await self.repo.update_chat(
            chat_id,
            OPEN_STATUSES,
            {"status": "ended", "ended_at": self.clock(), "outcome_tags": tags, "pending_escalation": None},
        )
        if updated is None:
            return doc
        await self._system(updated, line + " Bedankt voor het gesprek.")
        await self._chat_event(updated, {"event": "ended"})
        if doc["status"] == "waiting":
            await self._queue_event(str(doc["flavour"]), "left", chat_id)
        else:
            await self._queue_event(str(doc["flavour"]), "ended", chat_id)
        return updated

    async def set_hold(self, actor: Actor, chat_id: str, on: bool, reason: str) -> Document:
        """A safeguarding hold keeps the transcript from the retention purge; professionals only, audited."""
        doc = await self.access_staff(actor, chat_id)
        if rules.tier_of_role(actor.role) != Tier.PROFESSIONAL:
            raise OneOnOneError(403, "Alleen een professional kan een gesprek bewaren voor veiligheid.")
        reason = reason.strip()[:MAX_NOTE_CHARS]
        if on and not reason:
            raise OneOnOneError(422, "Geef een reden voor het bewaren.")
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

    async def colleagues(self, actor: Actor, doc: Document) -> list[Document]:
        return [s for s in await self.shifts.on_shift(str(doc["flavour"])) if s["_id"] != actor.account_id]

    # re-offering --------------------------------------------------------------------------------------------

    async def reoffer(self, doc: Document, line: str, note: str | None = None) -> Document | None:
        chat_id = str(doc["_id"])
        push = None
        if note:
            push = {
                "notes": {
                    "by": doc.get("staff_pseudonym") or "",
                    "role": rules.role_label(doc.get("staff_role")),
                    "text": "Overdracht: " + note,
                    "at": self.clock(),
                }
            }
        updated = await self.repo.update_chat(
            chat_id,
            ["active"],
            {"status": "waiting", "staff_id": None, "handoff_from": None, "queued_at": doc["requested_at"]},
            push=push,
            extra={"staff_id": doc["staff_id"]},
        )
        if updated is None:
            return None
        await self._system(updated, line)
        await self._chat_event(updated, {"event": "reoffered"})
        await self._notify_staff(str(doc["staff_id"]), "taken_over", chat_id)
        await self._queue_event(str(updated["flavour"]), "reoffered", chat_id)
        return updated

    async def handover(self, account_id: str, flavours: list[str], note: str) -> None:
        """Someone signs off: their open chats in ``flavours`` go to the next shift with the handover note."""
        for doc in await self.repo.active_of_staff(account_id):
            if doc["flavour"] in flavours:
                await self.reoffer(
                    doc,
                    "Je gesprek wordt overgedragen aan een collega van de volgende dienst. "
                    "Je hoeft je verhaal niet opnieuw te vertellen.",
                    note or "Einde dienst.",
                )

    async def tick(self, now: datetime | None = None) -> None:
        """Wait alerts and reply time-outs (run by the leader)."""
        now = now or self.clock()
        for doc in await self.repo.all_waiting():
            f = self.catalog.get(str(doc["flavour"]))
            if f is None or doc.get("wait_alerted"):
                continue
            if rules.wait_alert_due(doc["queued_at"], now, f.chat.max_wait_alert_min):
                await self.repo.set_fields(str(doc["_id"]), {"wait_alerted": True})
                minutes = int((now - doc["queued_at"]).total_seconds() // 60)
                await self.shifts.raise_alert(
                    f.slug, "wait", f"Iemand wacht al {minutes} minuten op een gesprek.", str(doc["_id"])
                )
        for doc in await self.repo.active():
            f = self.catalog.get(str(doc["flavour"]))
            if f is None or not doc.get("staff_id"):
                continue
            if await self._visitor_gone(doc, now):
                continue
            channel = str(doc["channel"])
            last_staff = await self.repo.last_message_by(channel, str(doc["staff_id"]))
            last_staff_at = last_staff["ts"] if last_staff else None
            after = max(last_staff_at or doc["assigned_at"], doc["assigned_at"])
            first_visitor = await self.repo.first_message_after(channel, str(doc["visitor_id"]), after)
            since = rules.reply_pending_since(
                doc["assigned_at"], last_staff_at, first_visitor["ts"] if first_visitor else None
            )
            if rules.reply_overdue(since, now, f.chat.reply_timeout_min):
                name = doc.get("staff_pseudonym", "")
                updated = await self.reoffer(
                    doc,
                    "We zoeken een andere medewerker voor je. Je gesprek blijft bewaard "
                    "en je hoeft je verhaal niet opnieuw te vertellen.",
                )
                if updated is not None:
                    await self.shifts.raise_alert(
                        f.slug,
                        "reply_timeout",
                        f"{name} reageerde niet op tijd; het gesprek staat weer in de wachtrij.",
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
        ended = await self._end(
            doc,
            [],
            f"De bezoeker is al {minutes} minuten niet meer verbonden (venster gesloten); het gesprek is beëindigd.",
        )
        if ended is doc:  # someone else ended or moved it meanwhile
            return False
        await self._notify_staff(str(doc["staff_id"]), "visitor_gone", chat_id)
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
            await self.notify_positions(f.slug)


def _waiting(doc: Document) -> rules.Waiting:
    return rules.Waiting(str(doc["_id"]), doc["queued_at"], bool(doc.get("risk")), Tier(int(doc["tier_needed"])))
