"""Spreekuur questions: asking (screened, seated), the moderators' decisions (approve, reject, merge), the host's
answers, and the question lists visitors and moderators read.

A question waits for a moderator (or, when it signals a crisis, is held for a professional); pending questions go
to the staff-only ``mod:<flavour>`` channel as kind ``spreekuur``. Every public change goes out once as a stored
``qa`` event on ``spreekuur:<flavour>:<id>`` so visitors see it live and recover it by offset. A rejected question's
asker is told why on their own ``user:<account_id>`` channel.
"""

from __future__ import annotations

import logging
import uuid
from datetime import datetime
from typing import TYPE_CHECKING, Any

from chatserver.domain.channels import mod_channel, spreekuur_channel, user_channel
from chatserver.domain.identity import Actor
from chatserver.domain.spreekuur import (
    MAX_ANSWER_CHARS,
    MAX_QUESTION_CHARS,
    MAX_REASON_CHARS,
    MIN_QUESTION_CHARS,
    Asked,
    Phase,
    clean_text,
    crisis_notice,
    is_host_of,
    public_answer,
    public_question,
    staff_question,
)
from chatserver.flavours import Flavour, FlavourCatalog
from chatserver.i18n import N_
from chatserver.ports import Clock, Document, SpreekuurStore
from chatserver.protocol.events import (
    PublicQuestion,
    QaAnswer,
    QaMerged,
    QaQuestion,
    SpreekuurModeration,
    SpreekuurQuestionRejected,
)
from chatserver.services.spreekuur.refusals import DECIDED, FULL_DETAIL, NOT_FOUND, SpreekuurError
from chatserver.services.spreekuur.schedule import SessionSchedule
from chatserver.services.spreekuur.seats import Seating

if TYPE_CHECKING:
    from chatserver.ports.reflectie import Counter
    from chatserver.services.chat import ChatService
    from chatserver.services.moderation import ModerationService
    from moderation.rules import Verdict

log = logging.getLogger("chatserver.spreekuur")

RECEIVED = N_("Dank je wel! Je vraag is ontvangen. Een moderator bekijkt hem; daarna verschijnt hij in het spreekuur.")
OFF_TOPIC = N_("Je vraag past niet binnen de regels van deze community.")


class QuestionDesk:
    def __init__(
        self,
        repo: SpreekuurStore,
        catalog: FlavourCatalog,
        chat: ChatService,
        moderation: ModerationService,
        sessions: SessionSchedule,
        seating: Seating,
        clock: Clock,
        counter: Counter,
    ) -> None:
        self.repo = repo
        self.catalog = catalog
        self.chat = chat
        self.moderation = moderation
        self.sessions = sessions
        self.seating = seating
        self.clock = clock
        self.counter = counter

    # asking ------------------------------------------------------------------------------------------------

    async def ask(self, actor: Actor, doc: Document, text: str, show_name: bool) -> Asked:
        """Screen and store a question; it waits for a moderator (or is held for a professional in a crisis)."""
        flavour = self.catalog.get(str(doc["flavour"]))
        assert flavour is not None
        phase = self.sessions.phase(doc)
        cleaned = _checked_question(actor, flavour, phase, text)
        verdict = self.moderation.screen(actor, flavour.slug, "spreekuur_question", cleaned)
        crisis = bool(verdict.crisis.flagged)
        if verdict.action in ("block", "refuse") and not crisis:
            raise SpreekuurError("refused", 422, verdict.reason or OFF_TOPIC, "text")
        # Last, so a question refused for its text takes no seat; a crisis is never turned away.
        if not (await self.seating.take_seat(actor, doc, force=crisis)).seated:
            raise SpreekuurError("full", 409, FULL_DETAIL, "text")
        question = _question_doc(actor, doc, flavour, cleaned, show_name, crisis, phase, self.clock())
        await self.repo.add_question(question)
        self.counter.count("spreekuur.question", flavour.slug)
        item_id = await self._submit_to_moderation(actor, doc, question, verdict)
        if item_id:
            await self.repo.update_question_where(question["_id"], ["pending"], {"moderation_item_id": item_id})
        await self.chat.emit(
            mod_channel(flavour.slug),
            SpreekuurModeration(event="new", spreekuur_id=doc["_id"], question=staff_question(question)),
        )
        if crisis:
            return Asked("held", crisis_notice(flavour), question["_id"])
        return Asked("pending", RECEIVED, question["_id"])

    async def _submit_to_moderation(self, actor: Actor, doc: Document, question: Document, verdict: Verdict) -> str:
        from chatserver.services.moderation import ItemRef

        try:
            ref = ItemRef(
                kind="spreekuur_question",
                id=question["_id"],
                channel=spreekuur_channel(str(doc["flavour"]), str(doc["_id"])),
                url=f"/backoffice/spreekuren/{doc['_id']}",
            )
            return await self.moderation.submit(
                flavour=str(doc["flavour"]),
                source="crisis" if question["crisis"] else "spreekuur_question",
                ref=ref,
                text=question["text"],
                author=actor,
                verdict=verdict,
                held_payload={"spreekuur_id": doc["_id"], "question_id": question["_id"]},
            )
        except Exception:  # the question is stored and visible in the spreekuur console either way
            log.exception("submitting a spreekuur question to the moderation queue failed")
            return ""

    # reading -----------------------------------------------------------------------------------------------

    async def stream(self, doc: Document) -> list[PublicQuestion]:
        """The approved questions with their answers, in order, as visitors see them."""
        return [public_question(q) for q in await self.repo.questions_of(str(doc["_id"]), ["approved"])]

    async def pending(self, actor: Actor | None, doc: Document) -> list[Document]:
        await self.sessions.staff_get(actor, str(doc["_id"]))
        return await self.repo.questions_of(str(doc["_id"]), ["pending"])

    async def approved(self, actor: Actor | None, doc: Document) -> list[Document]:
        await self.sessions.staff_get(actor, str(doc["_id"]))
        return await self.repo.questions_of(str(doc["_id"]), ["approved"])

    async def mine(self, actor: Actor | None, doc: Document) -> list[Document]:
        if actor is None:
            return []
        return await self.repo.questions_by(str(doc["_id"]), actor.account_id)

    async def question_in(self, doc: Document, question_id: str) -> Document | None:
        """A question of this session, or None."""
        question = await self.repo.question(question_id[:64])
        if question is None or question.get("spreekuur_id") != doc["_id"]:
            return None
        return question

    # decisions ---------------------------------------------------------------------------------------------

    async def _decidable(self, actor: Actor | None, question_id: str) -> tuple[Document, Document]:
        question = await self.repo.question(question_id[:64])
        if question is None:
            raise NOT_FOUND
        doc = await self.sessions.staff_get(actor, str(question["spreekuur_id"]))
        return doc, question

    async def approve(self, actor: Actor | None, question_id: str) -> Document:
        doc, question = await self._decidable(actor, question_id)
        assert actor is not None
        return await self._approve(doc, question, actor.pseudonym)

    async def _approve(self, doc: Document, question: Document, by: str) -> Document:
        changes = {"status": "approved", "decided_by": by, "decided_at": self.clock()}
        updated = await self.repo.update_question_where(str(question["_id"]), ["pending"], changes)
        if updated is None:
            raise SpreekuurError("decided", 409, DECIDED)
        await self.chat.emit(_qa_channel(doc), QaQuestion(question=public_question(updated)))
        await self._decided_event(doc, updated)
        return updated

    async def reject(self, actor: Actor | None, question_id: str, reason: str) -> Document:
        doc, question = await self._decidable(actor, question_id)
        assert actor is not None
        text = clean_text(reason, MAX_REASON_CHARS + 1)
        if not text:
            raise SpreekuurError(
                "reason", 422, N_("Schrijf kort waarom; de vraagsteller krijgt de reden te zien."), "reason"
            )
        if len(text) > MAX_REASON_CHARS:
            raise SpreekuurError(
                "reason", 422, N_("De reden mag hoogstens %s tekens zijn.") % MAX_REASON_CHARS, "reason"
            )
        return await self._reject(doc, question, actor.pseudonym, text)

    async def _reject(self, doc: Document, question: Document, by: str, reason: str) -> Document:
        changes = {"status": "rejected", "decided_by": by, "decided_at": self.clock(), "reject_reason": reason}
        updated = await self.repo.update_question_where(str(question["_id"]), ["pending"], changes)
        if updated is None:
            raise SpreekuurError("decided", 409, DECIDED)
        await self._decided_event(doc, updated)
        await self.chat.emit(
            user_channel(str(updated["author_id"])),
            SpreekuurQuestionRejected(
                text=N_("Je vraag voor ‘%s’ is niet geplaatst. Reden: %s") % (doc["title"], reason),
                url=f"/f/{doc['flavour']}/spreekuur/{doc['_id']}/",
            ),
        )
        return updated

    async def merge(self, actor: Actor | None, question_id: str, into_id: str) -> Document:
        doc, question = await self._decidable(actor, question_id)
        assert actor is not None
        target = await self.repo.question(into_id[:64])
        if (
            target is None
            or target["spreekuur_id"] != doc["_id"]
            or target["_id"] == question["_id"]
            or target.get("status") not in ("pending", "approved")
        ):
            raise SpreekuurError(
                "into", 422, N_("Kies een andere vraag van dit spreekuur om mee samen te voegen."), "into"
            )
        changes = {"status": "merged", "merged_into": target["_id"], "decided_by": actor.pseudonym,
                   "decided_at": self.clock()}  # fmt: skip
        updated = await self.repo.update_question_where(str(question["_id"]), ["pending"], changes)
        if updated is None:
            raise SpreekuurError("decided", 409, DECIDED)
        bumped = await self.repo.bump_merged(str(target["_id"]))
        assert bumped is not None
        if bumped.get("status") == "approved":
            await self.chat.emit(
                _qa_channel(doc), QaMerged(into=bumped["_id"], merged_count=int(bumped.get("merged_count", 0)))
            )
        await self._decided_event(doc, updated)
        return updated

    async def answer(self, actor: Actor | None, question_id: str, text: str) -> Document:
        doc, question = await self._decidable(actor, question_id)
        assert actor is not None
        if not is_host_of(actor, doc):
            raise SpreekuurError("host", 403, N_("Alleen de host van dit spreekuur beantwoordt vragen."), "answer")
        if self.sessions.phase(doc) in ("waiting", "cancelled"):
            raise SpreekuurError("waiting", 409, N_("Het spreekuur is nog niet begonnen. Open het eerst."), "answer")
        cleaned = clean_text(text, MAX_ANSWER_CHARS + 1)
        if not cleaned or len(cleaned) > MAX_ANSWER_CHARS:
            raise SpreekuurError(
                "answer", 422, N_("Schrijf een antwoord van 1 tot %s tekens.") % MAX_ANSWER_CHARS, "answer"
            )
        answer = {"text": cleaned, "host": actor.pseudonym, "role": actor.role_label, "at": self.clock()}
        updated = await self.repo.set_answer(str(question["_id"]), answer)
        if updated is None:
            raise SpreekuurError(
                "not_approved", 409, N_("Alleen goedgekeurde vragen kunnen beantwoord worden."), "answer"
            )
        await self.chat.emit(_qa_channel(doc), QaAnswer(question_id=updated["_id"], answer=public_answer(updated)))
        return updated

    async def _decided_event(self, doc: Document, question: Document) -> None:
        await self.chat.emit(
            mod_channel(str(doc["flavour"])),
            SpreekuurModeration(event="decided", spreekuur_id=doc["_id"], question=staff_question(question)),
        )

    async def apply_moderation_decision(self, question_id: str, decision: str, reason: str, by: str) -> None:
        """A decision taken in the shared moderation queue: approve publishes, reject or hide rejects."""
        question = await self.repo.question(question_id[:64])
        if question is None or question.get("status") != "pending":
            return
        doc = await self.repo.get(str(question["spreekuur_id"]))
        if doc is None:
            return
        if decision in ("approve", "release"):
            await self._approve(doc, question, by)
        elif decision in ("reject", "hide"):
            await self._reject(doc, question, by, reason or OFF_TOPIC)

    async def on_moderation_decision(self, view: Any, decision: Any) -> None:
        """The ``spreekuur_question`` moderation handler."""
        await self.apply_moderation_decision(str(view.ref.id), str(decision.kind), str(decision.reason), "moderatie")


def _qa_channel(doc: Document) -> str:
    return spreekuur_channel(str(doc["flavour"]), str(doc["_id"]))


def _checked_question(actor: Actor, flavour: Flavour, phase: Phase, text: str) -> str:
    """The cleaned question, or the refusal: the session is over, the asker may not ask here, or the length is off."""
    if phase in ("ended", "cancelled"):
        raise SpreekuurError("closed", 409, N_("Dit spreekuur is afgelopen; je kunt geen vragen meer sturen."), "text")
    if actor.is_guest and not flavour.chat.guests_allowed:
        raise SpreekuurError("members", 403, N_("Log in of maak een account om een vraag te stellen."), "text")
    if flavour.validation.spreekuur_question and not actor.validated and not actor.is_staff:
        detail = N_("Bevestig eerst je account (e-mail, telefoon of verwijscode) om een vraag te stellen.")
        raise SpreekuurError("validation", 403, detail, "text")
    cleaned = clean_text(text, MAX_QUESTION_CHARS + 1)
    if len(cleaned) < MIN_QUESTION_CHARS:
        raise SpreekuurError("text", 422, N_("Schrijf je vraag (minstens een paar woorden)."), "text")
    if len(cleaned) > MAX_QUESTION_CHARS:
        raise SpreekuurError("text", 422, N_("Je vraag mag hoogstens %s tekens zijn.") % MAX_QUESTION_CHARS, "text")
    return cleaned


def _question_doc(
    actor: Actor, doc: Document, flavour: Flavour, text: str, show_name: bool, crisis: bool, phase: Phase, now: datetime
) -> Document:
    return {
        "_id": uuid.uuid4().hex[:16],
        "spreekuur_id": doc["_id"],
        "flavour": flavour.slug,
        "text": text,
        "author_id": actor.account_id,
        "author_pseudonym": actor.pseudonym,
        "show_name": bool(show_name),
        "status": "pending",
        "crisis": crisis,
        "phase": "live" if phase == "live" else "before",
        "created_at": now,
        "merged_count": 0,
    }
