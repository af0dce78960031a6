"""VraagBaak use cases: ask anonymously, read the answer through a private link; staff claim, answer, route, close.

No account is needed and none is stored with a question: the visitor holds an
unguessable token (only its SHA-256 is stored). Staff see questions routed to
their flavours and every unrouted portal question. Questions and answers are
deleted :data:`RETENTION_DAYS` days after the answer or closing (and questions
nobody handled after :data:`UNHANDLED_RETENTION_DAYS` days) by a periodic purge.
"""

from __future__ import annotations

import logging
import secrets
import uuid
from collections.abc import Awaitable, Callable
from datetime import datetime, timedelta
from typing import TYPE_CHECKING

from chatserver.domain.content import clean_text
from chatserver.domain.identity import ROLE_LABELS, Actor
from chatserver.domain.reflectie import vraagbaak_route
from chatserver.domain.vraagbaak import (
    ACTIVE_STATUSES,
    MAX_ANSWER_CHARS,
    MAX_NOTE_CHARS,
    MAX_QUESTION_CHARS,
    MAX_URL_CHARS,
    MIN_QUESTION_CHARS,
    OUTCOME_TEXTS,
    RECENTLY_DONE_LIMIT,
    RETENTION_DAYS,
    STAFF_LIST_LIMIT,
    STATUSES,
    TOKEN_RE,
    UNHANDLED_RETENTION_DAYS,
    hash_token,
    may_see,
)
from chatserver.i18n import N_
from chatserver.ports import Clock, Document, Limit, RateLimiter, VraagbaakStore
from chatserver.ports.reflectie import Counter
from chatserver.services.refusal import Refused
from moderation.crisis import detect

if TYPE_CHECKING:
    from chatserver.services.moderation import ModerationService

__all__ = [
    "ACTIVE_STATUSES",
    "ASK_LIMIT",
    "MAX_ANSWER_CHARS",
    "MAX_NOTE_CHARS",
    "MAX_QUESTION_CHARS",
    "MAX_URL_CHARS",
    "MIN_QUESTION_CHARS",
    "NOT_FOUND",
    "PURGE_INTERVAL_S",
    "RETENTION_DAYS",
    "STAFF_LIST_LIMIT",
    "STATUSES",
    "TOKEN_RE",
    "UNHANDLED_RETENTION_DAYS",
    "Notifier",
    "VraagbaakError",
    "VraagbaakService",
    "hash_token",
    "safe_link",
]

log = logging.getLogger("chatserver.vraagbaak")

# (account id, Dutch text, url): an in-app notification, the forum's list, counter and live event.
Notifier = Callable[[str, str, str], Awaitable[None]]

PURGE_INTERVAL_S = 10 * 60
ASK_LIMIT = Limit("vraagbaak_ip", burst=5, rate=10, period_s=3600)


class VraagbaakError(Refused):
    """A refused VraagBaak use case; ``retry_after`` (seconds) when rate-limited."""

    def __init__(self, code: str, status: int, detail: str, field: str = "", retry_after: int = 0) -> None:
        super().__init__(code, status, detail, field)
        self.retry_after = retry_after


NOT_FOUND = VraagbaakError("not_found", 404, N_("Deze vraag bestaat niet (meer)."))


BAD_LINK = N_("Deze link is niet geldig. Gebruik een pad op deze site of een https-adres.")


def safe_link(value: str) -> str:
    """A local path or an https URL; anything else (javascript:, data:, //host) is refused."""
    value = value.strip()[: MAX_URL_CHARS + 1]
    if not value:
        return ""
    if len(value) > MAX_URL_CHARS or any(ch.isspace() or ord(ch) < 32 for ch in value) or "\\" in value:
        raise VraagbaakError("url", 422, BAD_LINK, "url")
    if (value.startswith("/") and not value.startswith("//")) or value.lower().startswith("https://"):
        return value
    raise VraagbaakError("url", 422, BAD_LINK, "url")


class VraagbaakService:
    def __init__(
        self,
        repo: VraagbaakStore,
        limiter: RateLimiter,
        catalog_names: dict[str, str],
        *,
        clock: Clock,
        counter: Counter,
        retention_days: int = RETENTION_DAYS,
        notify: Notifier | None = None,
        moderation: ModerationService | None = None,
    ) -> None:
        self.notify = notify
        self.moderation = moderation
        self.counter = counter
        self.repo = repo
        self.limiter = limiter
        self.catalog_names = catalog_names
        self.clock = clock
        self.retention_days = retention_days

    # visitors --------------------------------------------------------------------------

    async def ask(
        self, text: str, flavour: str | None, ip_subject: str, author: Actor | None = None
    ) -> tuple[str, Document]:
        """Store a question; returns the private token (shown once, never stored) and the document.

        A question asked while logged in keeps the account id (never shown to staff), so that the
        account's export and erasure find it.
        """
        body = clean_text(text, MAX_QUESTION_CHARS + 1)
        if len(body) < MIN_QUESTION_CHARS:
            raise VraagbaakError(
                "text", 422, N_("Schrijf je vraag in minstens %s tekens.") % MIN_QUESTION_CHARS, "text"
            )
        if len(body) > MAX_QUESTION_CHARS:
            raise VraagbaakError(
                "text", 422, N_("Je vraag is te lang (hoogstens %s tekens).") % MAX_QUESTION_CHARS, "text"
            )
        chosen = flavour if flavour in self.catalog_names else None
        decision = await self.limiter.hit(ASK_LIMIT, ip_subject or "unknown")
        if not decision.allowed:
            minutes = (decision.retry_after_s + 59) // 60
            raise VraagbaakError(
                "rate_limited", 429,
                N_(
                    "Je hebt de afgelopen tijd veel vragen gesteld. Probeer het over %s minuten opnieuw. Heb je nu "
                    "hulp nodig? Bel 113 of gratis 0800-0113."
                ) % minutes,
                "text", decision.retry_after_s,
            )  # fmt: skip
        crisis = detect(body)
        token = secrets.token_urlsafe(32)
        now = self.clock()
        doc: Document = {
            "_id": uuid.uuid4().hex,
            "token_hash": hash_token(token),
            "text": body,
            "flavour": chosen,
            "status": "open",
            "urgent": crisis.flagged,
            "crisis_severity": crisis.severity,
            "asked_at": now,
            "claimed_by": None,
            "claimed_pseudonym": "",
            "answer": "",
            "answered_by": "",
            "answered_role": "",
            "route_note": "",
            "route_url": "",
            "routed_to": None,
            "done_at": None,
            "expires_at": now + timedelta(days=UNHANDLED_RETENTION_DAYS),
        }
        if author is not None:
            doc["author_id"] = str(author.account_id)
        await self.repo.insert(doc)
        if chosen is not None:  # a portal question is counted when it is routed to a community
            self.counter.count("vraagbaak.question", chosen)
        log.info("vraagbaak question asked (urgent=%s)", crisis.flagged)
        return token, doc

    async def by_token(self, token: str) -> Document:
        if not TOKEN_RE.match(token):
            raise NOT_FOUND
        doc = await self.repo.by_token_hash(hash_token(token))
        if doc is None:
            raise NOT_FOUND
        return doc

    async def of_author(self, actor: Actor | None, question_id: str) -> Document:
        """A question its logged-in asker opens from a notification (no token needed: the account asked it)."""
        doc = await self.repo.get(question_id[:64]) if actor is not None and not actor.is_guest else None
        if doc is None or actor is None or doc.get("author_id") != str(actor.account_id):
            raise NOT_FOUND
        return doc

    async def _tell_asker(self, doc: Document) -> None:
        """A member who asked while logged in gets a notification when their question has an outcome."""
        author = doc.get("author_id")
        if not author or self.notify is None:
            return
        text = OUTCOME_TEXTS.get(str(doc.get("status")))
        if text is None:
            return
        try:
            await self.notify(str(author), text, f"/vraagbaak/mijn/{doc['_id']}")
        except Exception as exc:  # the answer stands; the page shows it anyway
            log.warning("vraagbaak notification not sent (%s)", type(exc).__name__)

    async def withdraw(self, token: str) -> None:
        """The visitor deletes their own question and answer now."""
        doc = await self.by_token(token)
        await self.repo.delete(str(doc["_id"]))
        log.info("vraagbaak question withdrawn by its asker")

    # staff -----------------------------------------------------------------------------

    @staticmethod
    def may_see(actor: Actor | None, doc: Document) -> bool:
        return may_see(actor, doc)

    async def staff_queue(self, actor: Actor | None) -> tuple[list[Document], list[Document]]:
        """Active questions (urgent first, then oldest) and recently handled ones, within the actor's scope."""
        if actor is None or not actor.is_staff:
            raise NOT_FOUND
        active = [d for d in await self.repo.active(STAFF_LIST_LIMIT) if may_see(actor, d)]
        done = [d for d in await self.repo.recently_done(RECENTLY_DONE_LIMIT) if may_see(actor, d)]
        return active, done

    async def access(self, actor: Actor | None, question_id: str) -> Document:
        doc = await self.repo.get(question_id)
        if doc is None or not may_see(actor, doc):
            raise NOT_FOUND
        return doc

    def _check_claim(self, actor: Actor, doc: Document) -> None:
        holder = doc.get("claimed_by")
        if holder and holder != actor.account_id and not actor.is_admin:
            raise VraagbaakError(
                "claimed", 409, N_("%s behandelt deze vraag al.") % (doc.get("claimed_pseudonym") or N_("Een collega"))
            )

    async def _update(self, doc: Document, changes: Document) -> Document:
        updated = await self.repo.update_where(str(doc["_id"]), list(ACTIVE_STATUSES), changes)
        if updated is None:
            raise VraagbaakError("done", 409, N_("Deze vraag is intussen al afgehandeld."))
        return updated

    def _done(self, changes: Document) -> Document:
        now = self.clock()
        changes["done_at"] = now
        changes["expires_at"] = now + timedelta(days=self.retention_days)
        return changes

    def _count_outcome(self, doc: Document, route: str) -> None:
        """For the Reflectietafel: how a community's question was handled and how long the asker waited for it (a
        portal question no community took is not counted per community)."""
        flavour, asked, done = doc.get("flavour"), doc.get("asked_at"), doc.get("done_at")
        if not flavour:
            return
        self.counter.count("vraagbaak.routed", str(flavour), variant=route)
        if isinstance(asked, datetime) and isinstance(done, datetime):
            self.counter.count("vraagbaak.answer_time", str(flavour), value=max(0.0, (done - asked).total_seconds()))

    async def claim(self, actor: Actor | None, question_id: str) -> Document:
        doc = await self.access(actor, question_id)
        assert actor is not None
        self._check_claim(actor, doc)
        return await self._update(
            doc, {"status": "claimed", "claimed_by": actor.account_id, "claimed_pseudonym": actor.pseudonym}
        )

    async def release(self, actor: Actor | None, question_id: str) -> Document:
        doc = await self.access(actor, question_id)
        assert actor is not None
        self._check_claim(actor, doc)
        return await self._update(doc, {"status": "open", "claimed_by": None, "claimed_pseudonym": ""})

    async def answer(self, actor: Actor | None, question_id: str, text: str) -> Document:
        doc = await self.access(actor, question_id)
        assert actor is not None
        self._check_claim(actor, doc)
        body = clean_text(text, MAX_ANSWER_CHARS + 1)
        if not body:
            raise VraagbaakError("answer", 422, N_("Schrijf een antwoord."), "answer")
        if len(body) > MAX_ANSWER_CHARS:
            raise VraagbaakError("answer", 422, N_("Het antwoord is te lang (hoogstens %s tekens).") % MAX_ANSWER_CHARS,
                                 "answer")  # fmt: skip
        changes = self._done(
            {
                "status": "answered",
                "answer": body,
                "answered_by": actor.pseudonym,
                "answered_role": ROLE_LABELS.get(actor.role or "", ""),
                "claimed_by": actor.account_id,
                "claimed_pseudonym": actor.pseudonym,
            }
        )
        updated = await self._update(doc, changes)
        log.info("vraagbaak question answered")
        self._count_outcome(updated, "beantwoord")
        await self._tell_asker(updated)
        return updated

    async def route(self, actor: Actor | None, question_id: str, flavour: str, note: str, url: str) -> Document:
        """Send the question to a flavour. With a link (a forum thread, a spreekuur) it is done; without,
        it waits for that flavour's staff."""
        doc = await self.access(actor, question_id)
        assert actor is not None
        self._check_claim(actor, doc)
        if flavour not in self.catalog_names:
            raise VraagbaakError("flavour", 422, N_("Kies de community waar deze vraag thuishoort."), "flavour")
        clean_note = clean_text(note, MAX_NOTE_CHARS + 1)
        if len(clean_note) > MAX_NOTE_CHARS:
            raise VraagbaakError("note", 422, N_("De toelichting is te lang (hoogstens %s tekens).") % MAX_NOTE_CHARS,
                                 "note")  # fmt: skip
        link = safe_link(url)
        changes: Document = {
            "flavour": flavour,
            "routed_to": flavour,
            "route_note": clean_note,
            "route_url": link,
            "answered_by": actor.pseudonym,
            "answered_role": ROLE_LABELS.get(actor.role or "", ""),
        }
        if link:
            changes["status"] = "routed"
            self._done(changes)
        else:
            changes.update(status="open", claimed_by=None, claimed_pseudonym="")
        updated = await self._update(doc, changes)
        log.info("vraagbaak question routed (%s)", "done" if link else "waiting")
        if doc.get("flavour") is None:  # a portal question now belongs to a community
            self.counter.count("vraagbaak.question", flavour)
        if link:  # without one it waits for that community's staff, whose answer is counted then
            self._count_outcome(updated, vraagbaak_route(link))
        await self._tell_asker(updated)
        return updated

    async def close(self, actor: Actor | None, question_id: str, note: str) -> Document:
        doc = await self.access(actor, question_id)
        assert actor is not None
        self._check_claim(actor, doc)
        clean_note = clean_text(note, MAX_NOTE_CHARS + 1)[:MAX_NOTE_CHARS]
        changes = self._done({"status": "closed", "route_note": clean_note, "answered_by": actor.pseudonym,
                              "answered_role": ROLE_LABELS.get(actor.role or "", "")})  # fmt: skip
        updated = await self._update(doc, changes)
        await self._tell_asker(updated)
        return updated

    # retention -------------------------------------------------------------------------

    async def purge_once(self) -> int:
        removed = await self.repo.purge_expired(self.clock())
        if removed:
            log.info("vraagbaak retention purge: %d questions", removed)
        return removed

    async def alert_professional(self, doc: Document) -> None:
        """An urgent question for a community: a crisis moderation item alerts its professional on shift (the text
        stays on the VraagBaak desk; the item points there)."""
        from chatserver.services.moderation import ItemRef
        from moderation.rules import Verdict

        if self.moderation is None:
            return
        crisis = detect(str(doc.get("text", "")))
        if not crisis.flagged:
            return
        question_id = str(doc["_id"])
        await self.moderation.submit_item(
            flavour=str(doc["flavour"]),
            source="crisis",
            ref=ItemRef(kind="vraagbaak_question", id=question_id, url=f"/backoffice/vraagbaak/{question_id}"),
            text=N_("Urgente VraagBaak-vraag: lees hem op de VraagBaak-desk."),
            author=None,
            verdict=Verdict(action="hold", crisis=crisis),
        )
