"""E-spreekuren: scheduling, the moderated question flow, the live Q&A stream, the iCalendar feed and transcripts.

The only door to spreekuren and their questions. Editors and admins schedule
within their flavours; staff of the flavour moderate (approve, reject, merge);
the host answers. Every public change goes out once as a stored ``qa`` event on
``spreekuur:<flavour>:<id>`` so visitors see it live and recover it by offset;
pending questions go to the staff-only ``mod:<flavour>`` channel as kind
``spreekuur``. A session is waiting before its start, live until its end (the
host may open early or close early) and ended after.

Capacity: at most ``capacity`` visitors take part in one session. A visitor
takes a seat by sending a question (before or during the session) and by
joining while it is live (opening its page with a session, or subscribing its
live channel). A seat is kept while the visitor has a live connection to the
session and freed when their last one goes (:meth:`SpreekuurService.on_last_leave`);
anyone who already sent a question here is never refused again; staff never take or
need a seat. A question that signals a crisis is never refused for capacity.
Seats live in Redis (:mod:`chatserver.adapters.spreekuur_seats`) and expire
:data:`SEAT_RETENTION` after the planned end; closing or cancelling drops them.
Without Redis the capacity is not enforced (a warning is logged): a visitor is
never refused because a counter is unreachable.
"""

from __future__ import annotations

import importlib
import logging
import unicodedata
import uuid
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from typing import TYPE_CHECKING, Any, Literal

from chatserver.adapters.mongo_client import Database, Document
from chatserver.adapters.spreekuur_repo import SeriesTaken, SpreekuurRepo
from chatserver.adapters.spreekuur_seats import SeatsUnavailable, SpreekuurSeats
from chatserver.domain.channels import ChannelFacts, ChannelRef, mod_channel, spreekuur_channel, user_channel
from chatserver.domain.identity import ROLE_LABELS, Actor
from chatserver.flavours import TIMEZONE, WEEKDAYS, Flavour, FlavourCatalog
from chatserver.services.refusal import Refused

if TYPE_CHECKING:
    from chatserver.services.chat import ChatService
    from chatserver.services.content import ContentService
    from chatserver.services.identity import IdentityService
    from chatserver.services.moderation import ModerationService

log = logging.getLogger("chatserver.spreekuur")

Clock = Callable[[], datetime]
Phase = Literal["waiting", "live", "ended", "cancelled"]

PHASE_LABELS: dict[str, str] = {
    "waiting": "Binnenkort",
    "live": "Nu live",
    "ended": "Afgelopen",
    "cancelled": "Gaat niet door",
}
SCHEDULER_ROLES = frozenset({"editor", "admin"})
HOST_ROLES = frozenset({"peer_expert", "professional"})
MAX_TITLE_CHARS = 150
MIN_TITLE_CHARS = 3
MAX_DESCRIPTION_CHARS = 2000
MAX_QUESTION_CHARS = 2000
MIN_QUESTION_CHARS = 5
MAX_ANSWER_CHARS = 4000
MAX_REASON_CHARS = 500
MAX_CAPACITY = 10_000
MAX_DURATION = timedelta(hours=8)
SERIES_WEEKS = 4
CALENDAR_LIMIT = 50
ANNOUNCE_LOOKBACK = timedelta(hours=12)
SEAT_RETENTION = timedelta(minutes=10)  # seats expire this long after the planned end (clock skew margin)


class SpreekuurError(Refused):
    """A refused spreekuur use case."""


NOT_FOUND = SpreekuurError("not_found", 404, "Dit spreekuur bestaat niet of je hebt er geen toegang toe.")
FULL_DETAIL = (
    "Dit spreekuur is vol: er kunnen geen nieuwe bezoekers meer meedoen, dus je vraag is niet verstuurd. "
    "Na afloop lees je de beantwoorde vragen terug op deze pagina; kijk in de agenda voor een volgend spreekuur."
)


@dataclass(frozen=True, slots=True)
class Seats:
    """The seats of a session as one visitor sees them.

    ``seated``: this actor may take part (is staff, holds a seat, or, when only counted, one is free);
    ``counted``: False when Redis could not be asked (then nobody is refused and no number is shown).
    """

    capacity: int
    taken: int
    seated: bool
    counted: bool = True

    @property
    def remaining(self) -> int:
        return max(0, self.capacity - self.taken)

    @property
    def full(self) -> bool:
        """No seat for this actor: none held and none free."""
        return self.counted and not self.seated and self.remaining == 0


@dataclass(frozen=True, slots=True)
class Schedule:
    """What the scheduling form holds; checked by :meth:`SpreekuurService.check_schedule`."""

    flavour: str
    host_id: str
    title: str
    description: str
    starts_at: datetime | None
    ends_at: datetime | None
    capacity: int


@dataclass(frozen=True, slots=True)
class Asked:
    """The outcome of sending a question: stored (pending), held for a crisis, or refused (not stored)."""

    status: Literal["pending", "held", "refused"]
    notice: str
    question_id: str = ""


def clean_text(value: str, limit: int) -> str:
    """Trimmed, capped, NFC text without lone surrogates or control characters (newlines and tabs kept)."""
    value = value.encode("utf-8", "replace").decode("utf-8")
    value = unicodedata.normalize("NFC", value)
    value = "".join(ch for ch in value if ch in "\n\t" or unicodedata.category(ch) not in ("Cc", "Cf"))
    return value.replace("\r", "").strip()[:limit]


def phase_of(doc: Document, now: datetime) -> Phase:
    if doc.get("cancelled"):
        return "cancelled"
    if doc.get("closed_at") is not None or now >= _aware(doc["ends_at"]):
        return "ended"
    if doc.get("opened_at") is not None or now >= _aware(doc["starts_at"]):
        return "live"
    return "waiting"


def _aware(value: datetime) -> datetime:
    """MongoDB returns naive UTC datetimes; make them aware."""
    return value if value.tzinfo is not None else value.replace(tzinfo=UTC)


def can_schedule(actor: Actor | None) -> bool:
    return actor is not None and actor.is_staff and actor.role in SCHEDULER_ROLES


def public_question(doc: Document) -> dict[str, Any]:
    """What every visitor may see of an approved question: no account id, a name only when the asker chose it."""
    answer = doc.get("answer") or None
    return {
        "id": doc["_id"],
        "text": doc["text"],
        "asker": doc.get("author_pseudonym") if doc.get("show_name") else None,
        "merged_count": int(doc.get("merged_count", 0)),
        "answer": (
            {"text": answer["text"], "host": answer.get("host", ""), "role": answer.get("role", "")} if answer else None
        ),
    }


def staff_question(doc: Document) -> dict[str, Any]:
    """What moderators see of a question (never the account id)."""
    return {
        "id": doc["_id"],
        "text": doc["text"],
        "asker": doc.get("author_pseudonym", ""),
        "show_name": bool(doc.get("show_name")),
        "status": doc.get("status", ""),
        "crisis": bool(doc.get("crisis")),
        "phase": doc.get("phase", ""),
    }


# --- iCalendar (RFC 5545) ---------------------------------------------------------------------------------------


def ical_escape(text: str) -> str:
    """TEXT value escaping: backslash, semicolon, comma and newlines."""
    text = text.replace("\r\n", "\n").replace("\r", "\n")
    return text.replace("\\", "\\\\").replace(";", "\\;").replace(",", "\\,").replace("\n", "\\n")


def ical_fold(line: str) -> str:
    """Fold a content line at 75 octets (continuations start with one space), never inside a UTF-8 sequence."""
    out: list[str] = []
    current = ""
    size = 0
    limit = 75
    for ch in line:
        width = len(ch.encode("utf-8"))
        if size + width > limit:
            out.append(current)
            current = " "
            size = 1
        current += ch
        size += width
    out.append(current)
    return "\r\n".join(out)


def ical_time(moment: datetime) -> str:
    return _aware(moment).astimezone(UTC).strftime("%Y%m%dT%H%M%SZ")


def ical_feed(flavour: Flavour, sessions: Iterable[Document], base_url: str, now: datetime, uid_host: str) -> str:
    """An RFC 5545 calendar of ``sessions`` with UTC times, CRLF line ends and folded lines."""
    lines = [
        "BEGIN:VCALENDAR",
        "VERSION:2.0",
        "PRODID:-//GEM community//Spreekuren//NL",
        "CALSCALE:GREGORIAN",
        "METHOD:PUBLISH",
        f"X-WR-CALNAME:{ical_escape('Spreekuren ' + flavour.name)}",
        "X-WR-TIMEZONE:Europe/Amsterdam",
    ]
    stamp = ical_time(now)
    for doc in sessions:
        url = f"{base_url}/{doc['_id']}/"
        host = doc.get("host_pseudonym") or "nog bekend te maken"
        description = f"{doc.get('description', '')}\n\nHost: {host}\nStel je vraag anoniem: {url}"
        lines += [
            "BEGIN:VEVENT",
            f"UID:spreekuur-{doc['_id']}@{uid_host}",
            f"DTSTAMP:{stamp}",
            f"DTSTART:{ical_time(doc['starts_at'])}",
            f"DTEND:{ical_time(doc['ends_at'])}",
            f"SUMMARY:{ical_escape(doc['title'])}",
            f"DESCRIPTION:{ical_escape(description)}",
            f"URL:{url}",
            f"STATUS:{'CANCELLED' if doc.get('cancelled') else 'CONFIRMED'}",
            "TRANSP:OPAQUE",
            "END:VEVENT",
        ]
    lines.append("END:VCALENDAR")
    return "".join(ical_fold(line) + "\r\n" for line in lines)


def transcript_markdown(doc: Document, questions: list[Document]) -> str:
    """The approved, answered Q&A as Markdown, for the editor to edit before publishing."""
    local = _aware(doc["starts_at"]).astimezone(TIMEZONE)
    host = doc.get("host_pseudonym") or "de host"
    parts = [
        f"Verslag van het e-spreekuur van {local:%d-%m-%Y} met {host}.",
        "",
        doc.get("description", ""),
    ]
    for q in questions:
        answer = q.get("answer")
        if not answer:
            continue
        question = q["text"].replace("\n", " ").strip()
        parts += ["", f"## {question}", "", answer["text"].strip()]
    return "\n".join(parts).strip() + "\n"


class SpreekuurService:
    def __init__(
        self,
        db: Database,
        catalog: FlavourCatalog,
        *,
        chat: ChatService,
        identity: IdentityService,
        moderation: ModerationService,
        content: ContentService,
        clock: Clock | None = None,
        seats: SpreekuurSeats | None = None,
    ) -> None:
        self.repo = SpreekuurRepo(db)
        # Without a seat store (no Redis) the capacity is shown but not enforced.
        self.seat_store = seats
        self.catalog = catalog
        self.chat = chat
        self.identity = identity
        self.moderation = moderation
        self.content = content
        self.clock: Clock = clock or (lambda: datetime.now(UTC))

    async def _emit(self, channel: str, kind: str, data: dict[str, Any], dedupe_id: str | None = None) -> None:
        await self.chat.do_emit(channel, kind, data, dedupe_id=dedupe_id)

    # wiring: the channel resolver, the moderation handler and the periodic status round ------------------

    async def resolve_channel(self, actor: Actor, ref: ChannelRef) -> ChannelFacts:
        """The channel resolver for spreekuur channels: subscribing takes a seat (decision 0009)."""
        return await self.channel_facts(actor, ref.flavour, ref.ident)

    async def on_moderation_decision(self, view: Any, decision: Any) -> None:
        """The ``spreekuur_question`` moderation handler."""
        await self.apply_moderation_decision(str(view.ref.id), str(decision.kind), str(decision.reason), "moderatie")

    async def announce_round(self) -> None:
        """One round of the periodic status job; a database that is away is caught up by the next round."""
        try:
            await self.announce_due()
        except Exception as exc:
            log.warning("announcing spreekuur status failed (%s)", type(exc).__name__)

    # access ------------------------------------------------------------------------------------------------

    async def public_get(self, flavour: str, spreekuur_id: str) -> Document:
        """A spreekuur of this flavour; any other id answers the same not-found."""
        doc = await self.repo.get(spreekuur_id[:64])
        if doc is None or doc.get("flavour") != flavour:
            raise NOT_FOUND
        return doc

    async def staff_get(self, actor: Actor | None, spreekuur_id: str) -> Document:
        """A spreekuur that ``actor`` moderates (staff of its flavour)."""
        if actor is None or not actor.is_staff:
            raise NOT_FOUND
        doc = await self.repo.get(spreekuur_id[:64])
        if doc is None or not actor.staff_in(str(doc.get("flavour", ""))):
            raise NOT_FOUND
        return doc

    def phase(self, doc: Document) -> Phase:
        return phase_of(doc, self.clock())

    # scheduling --------------------------------------------------------------------------------------------

    def scheduler_flavours(self, actor: Actor | None) -> list[Flavour]:
        if not can_schedule(actor):
            return []
        assert actor is not None
        return [f for f in self.catalog if actor.staff_in(f.slug)]

    async def hosts(self, flavour: str) -> list[Document]:
        """Verified peer experts and professionals of ``flavour``."""
        docs: list[Document] = await self.identity.repo.staff()
        return [
            d
            for d in docs
            if d.get("verified") and d.get("role") in HOST_ROLES and flavour in (d.get("flavours") or ())
        ]

    async def check_schedule(self, actor: Actor | None, s: Schedule) -> tuple[Schedule, Document | None]:
        if not can_schedule(actor):
            raise NOT_FOUND
        assert actor is not None
        flavour = self.catalog.get(s.flavour)
        if flavour is None or not actor.staff_in(flavour.slug):
            raise SpreekuurError("scope", 403, "Je kunt alleen spreekuren plannen in je eigen communities.", "flavour")
        title = clean_text(s.title, MAX_TITLE_CHARS + 1)
        if not MIN_TITLE_CHARS <= len(title) <= MAX_TITLE_CHARS:
            raise SpreekuurError(
                "title", 422, f"Geef een titel van {MIN_TITLE_CHARS} tot {MAX_TITLE_CHARS} tekens.", "title"
            )
        description = clean_text(s.description, MAX_DESCRIPTION_CHARS + 1)
        if len(description) > MAX_DESCRIPTION_CHARS:
            raise SpreekuurError(
                "description", 422, f"De beschrijving mag hoogstens {MAX_DESCRIPTION_CHARS} tekens zijn.", "description"
            )
        if s.starts_at is None:
            raise SpreekuurError("starts_at", 422, "Vul een geldige begintijd in.", "starts_at")
        if s.ends_at is None or s.ends_at <= s.starts_at:
            raise SpreekuurError("ends_at", 422, "De eindtijd moet na de begintijd liggen.", "ends_at")
        if s.ends_at - s.starts_at > MAX_DURATION:
            raise SpreekuurError("ends_at", 422, "Een spreekuur duurt hoogstens 8 uur.", "ends_at")
        if not 1 <= s.capacity <= MAX_CAPACITY:
            raise SpreekuurError("capacity", 422, f"De capaciteit ligt tussen 1 en {MAX_CAPACITY}.", "capacity")
        host: Document | None = None
        if s.host_id:
            host = next((h for h in await self.hosts(flavour.slug) if str(h["_id"]) == s.host_id), None)
            if host is None:
                raise SpreekuurError(
                    "host",
                    422,
                    "Kies als host een geverifieerde ervaringsdeskundige of professional van deze community.",
                    "host_id",
                )
        checked = Schedule(flavour.slug, s.host_id, title, description, s.starts_at, s.ends_at, s.capacity)
        return checked, host

    async def schedule(self, actor: Actor | None, s: Schedule) -> Document:
        checked, host = await self.check_schedule(actor, s)
        assert actor is not None and checked.starts_at is not None and checked.ends_at is not None
        now = self.clock()
        if checked.starts_at < now - timedelta(minutes=5) and checked.ends_at <= now:
            raise SpreekuurError("starts_at", 422, "Dit tijdstip ligt in het verleden.", "starts_at")
        doc = _session_doc(checked, host, now, actor.pseudonym)
        await self.repo.insert(doc)
        log.info("spreekuur %s scheduled in %s", doc["_id"], checked.flavour)
        return doc

    async def update(self, actor: Actor | None, spreekuur_id: str, s: Schedule) -> Document:
        current = await self.staff_get(actor, spreekuur_id)
        if not can_schedule(actor):
            raise NOT_FOUND
        checked, host = await self.check_schedule(actor, Schedule(str(current["flavour"]), *_rest(s)))
        changes: Document = {
            "title": checked.title,
            "description": checked.description,
            "starts_at": checked.starts_at,
            "ends_at": checked.ends_at,
            "capacity": checked.capacity,
            "host_id": str(host["_id"]) if host else None,
            "host_pseudonym": str(host.get("pseudonym", "")) if host else "",
            "host_role": str(host.get("role", "")) if host else "",
            "updated_at": self.clock(),
        }
        updated = await self.repo.update(spreekuur_id, changes)
        if updated is None:
            raise NOT_FOUND
        if self.seat_store is not None and checked.ends_at != _aware(current["ends_at"]):
            try:
                await self.seat_store.expire_at(str(updated["_id"]), self._seat_expiry(updated))
            except SeatsUnavailable as exc:
                log.warning("moving the seat expiry of spreekuur %s failed (%s)", updated["_id"], exc)
        return updated

    async def cancel(self, actor: Actor | None, spreekuur_id: str) -> Document:
        doc = await self.staff_get(actor, spreekuur_id)
        if not can_schedule(actor):
            raise NOT_FOUND
        updated = await self.repo.update(str(doc["_id"]), {"cancelled": True, "updated_at": self.clock()})
        assert updated is not None
        await self._drop_seats(updated)
        await self._status_event(updated, "cancelled")
        return updated

    async def seed_series(self, flavour: Flavour, weeks: int = SERIES_WEEKS, by: str = "reeks") -> int:
        """Create the next ``weeks`` occurrences of each of the flavour's series; existing ones are skipped."""
        now = self.clock()
        hosts = await self.hosts(flavour.slug)
        created = 0
        today = now.astimezone(TIMEZONE).date()
        for index, series in enumerate(flavour.spreekuur_series):
            hh, mm = (int(x) for x in series.start.split(":"))
            host = next((h for h in hosts if h.get("role") == series.host_role), hosts[0] if hosts else None)
            for day in _next_weekdays(today, WEEKDAYS.index(series.weekday), weeks):
                starts = datetime.combine(day, time(hh, mm), tzinfo=TIMEZONE).astimezone(UTC)
                if starts <= now:
                    continue
                s = Schedule(
                    flavour.slug,
                    str(host["_id"]) if host else "",
                    series.title,
                    series.description,
                    starts,
                    starts + timedelta(minutes=series.duration_min),
                    200,
                )
                doc = _session_doc(s, host, now, by)
                doc["series_key"] = f"{flavour.slug}:{index}:{day.isoformat()}"
                try:
                    await self.repo.insert(doc)
                except SeriesTaken:
                    continue
                created += 1
        return created

    async def seed_series_for(self, actor: Actor | None, flavour_slug: str) -> int:
        flavour = self.catalog.get(flavour_slug)
        if flavour is None or not can_schedule(actor):
            raise NOT_FOUND
        assert actor is not None
        if not actor.staff_in(flavour.slug):
            raise NOT_FOUND
        return await self.seed_series(flavour, by=actor.pseudonym)

    # reading -----------------------------------------------------------------------------------------------

    async def upcoming(self, flavour: str, limit: int = CALENDAR_LIMIT) -> list[Document]:
        return await self.repo.upcoming(flavour, self.clock(), limit)

    async def past(self, flavour: str, limit: int = 10) -> list[Document]:
        return await self.repo.past(flavour, self.clock(), limit)

    async def staff_list(self, actor: Actor | None) -> list[Document]:
        if actor is None or not actor.is_staff:
            raise NOT_FOUND
        flavours = None if actor.is_admin else sorted(actor.flavours)
        return await self.repo.in_flavours(flavours, 200)

    async def stream(self, doc: Document) -> list[dict[str, Any]]:
        """The approved questions with their answers, in order, as visitors see them."""
        return [public_question(q) for q in await self.repo.questions_of(str(doc["_id"]), ["approved"])]

    async def pending(self, actor: Actor | None, doc: Document) -> list[Document]:
        await self.staff_get(actor, str(doc["_id"]))
        return await self.repo.questions_of(str(doc["_id"]), ["pending"])

    async def approved(self, actor: Actor | None, doc: Document) -> list[Document]:
        await self.staff_get(actor, str(doc["_id"]))
        return await self.repo.questions_of(str(doc["_id"]), ["approved"])

    async def mine(self, actor: Actor | None, doc: Document) -> list[Document]:
        if actor is None:
            return []
        return await self.repo.questions_by(str(doc["_id"]), actor.account_id)

    async def position(self, doc: Document) -> dict[str, Any]:
        """The channel's current position, so a page rendered now can follow live from here."""
        chat = self.chat
        channel = spreekuur_channel(str(doc["flavour"]), str(doc["_id"]))
        return {"offset": await chat.last_offset(channel), "epoch": await chat.epoch(channel)}

    # seats -------------------------------------------------------------------------------------------------

    def _seat_expiry(self, doc: Document) -> datetime:
        return max(_aware(doc["ends_at"]), self.clock()) + SEAT_RETENTION

    async def seats(self, doc: Document, actor: Actor | None = None) -> Seats:
        """The seats of ``doc`` as ``actor`` sees them, taking none."""
        capacity = int(doc.get("capacity", 0))
        staff = actor is not None and actor.is_staff
        if self.seat_store is None:
            return Seats(capacity, 0, True, counted=False)
        try:
            count = await self.seat_store.count(str(doc["_id"]), actor.account_id if actor else "")
        except SeatsUnavailable as exc:
            log.warning("counting the seats of spreekuur %s failed (%s)", doc["_id"], exc)
            return Seats(capacity, 0, True, counted=False)
        return Seats(capacity, count.taken, staff or count.holder or count.taken < capacity)

    async def take_seat(self, actor: Actor, doc: Document, force: bool = False) -> Seats:
        """A seat for a visitor (kept if held); staff take none. ``force`` seats beyond the capacity."""
        if actor.is_staff or self.seat_store is None:
            return await self.seats(doc, actor)
        sid = str(doc["_id"])
        capacity = int(doc.get("capacity", 0))
        expiry = self._seat_expiry(doc)
        try:
            seated, taken = await self.seat_store.take(sid, actor.account_id, capacity, expiry, force)
            if not seated and await self.repo.has_question_by(sid, actor.account_id):
                # Asked here before (the seat set may have been lost with a Redis restart): never refused again.
                seated, taken = await self.seat_store.take(sid, actor.account_id, capacity, expiry, True)
        except SeatsUnavailable as exc:
            log.warning("taking a seat in spreekuur %s failed (%s); not enforcing the capacity", sid, exc)
            return Seats(capacity, 0, True, counted=False)
        if not seated:
            log.info("spreekuur %s is full (%d seats)", sid, capacity)
        return Seats(capacity, taken, seated)

    async def join(self, actor: Actor | None, doc: Document) -> Seats:
        """A visitor opens or follows the session: while it is live that takes a seat, before it only counts."""
        if actor is None or actor.is_staff or self.phase(doc) != "live":
            return await self.seats(doc, actor)
        return await self.take_seat(actor, doc)

    async def channel_facts(self, actor: Actor, flavour: str, spreekuur_id: str) -> ChannelFacts:
        """What the live channel rule needs: whether the session exists and, while live, a seat for ``actor``."""
        doc = await self.repo.get(spreekuur_id[:64])
        if doc is None or doc.get("flavour") != flavour or doc.get("cancelled"):
            return ChannelFacts(exists=False)
        return ChannelFacts(exists=True, full=not (await self.join(actor, doc)).seated)

    async def on_last_leave(self, actor: Actor, ref: ChannelRef) -> None:
        """A visitor's last live connection to the session closed: their seat is free for someone else.

        Coming back is always possible for someone who asked a question here (:meth:`take_seat` seats them
        beyond the capacity); others take a free seat again like anyone. The set's expiry after the session
        ends stays the safety net for seats whose holder's process died before it could say so.
        """
        if actor.is_staff or self.seat_store is None:
            return
        sid = ref.ident[:64]
        try:
            freed = await self.seat_store.free(sid, str(actor.account_id))
        except SeatsUnavailable as exc:
            log.warning("freeing a seat in spreekuur %s failed (%s)", sid, exc)
            return
        if freed:
            log.info("spreekuur %s: a seat was freed (visitor left)", sid)

    async def _drop_seats(self, doc: Document) -> None:
        if self.seat_store is None:
            return
        try:
            await self.seat_store.drop(str(doc["_id"]))
        except SeatsUnavailable as exc:  # the seats expire by themselves shortly after the planned end
            log.warning("dropping the seats of spreekuur %s failed (%s)", doc["_id"], exc)

    # questions ---------------------------------------------------------------------------------------------

    def _screen(self, actor: Actor, flavour: Flavour, text: str) -> Any:
        return self.moderation.screen(actor, flavour.slug, "spreekuur_question", text)

    async def ask(self, actor: Actor, doc: Document, text: str, show_name: bool) -> Asked:
        """Screen and store a question; it waits for a moderator (or is held for a professional in a crisis)."""
        flavour = self.catalog.get(str(doc["flavour"]))
        assert flavour is not None
        phase = self.phase(doc)
        if phase in ("ended", "cancelled"):
            raise SpreekuurError("closed", 409, "Dit spreekuur is afgelopen; je kunt geen vragen meer sturen.", "text")
        if actor.is_guest and not flavour.chat.guests_allowed:
            raise SpreekuurError("members", 403, "Log in of maak een account om een vraag te stellen.", "text")
        if flavour.validation.spreekuur_question and not actor.validated and not actor.is_staff:
            detail = "Bevestig eerst je account (e-mail, telefoon of verwijscode) om een vraag te stellen."
            raise SpreekuurError("validation", 403, detail, "text")
        cleaned = clean_text(text, MAX_QUESTION_CHARS + 1)
        if len(cleaned) < MIN_QUESTION_CHARS:
            raise SpreekuurError("text", 422, "Schrijf je vraag (minstens een paar woorden).", "text")
        if len(cleaned) > MAX_QUESTION_CHARS:
            raise SpreekuurError("text", 422, f"Je vraag mag hoogstens {MAX_QUESTION_CHARS} tekens zijn.", "text")
        verdict = self._screen(actor, flavour, cleaned)
        crisis = bool(verdict.crisis.flagged)
        if verdict.action in ("block", "refuse") and not crisis:
            reason = verdict.reason or "Je vraag past niet binnen de regels van deze community."
            raise SpreekuurError("refused", 422, reason, "text")
        # Last, so a question refused for its text takes no seat; a crisis is never turned away.
        if not (await self.take_seat(actor, doc, force=crisis)).seated:
            raise SpreekuurError("full", 409, FULL_DETAIL, "text")
        now = self.clock()
        question: Document = {
            "_id": uuid.uuid4().hex[:16],
            "spreekuur_id": doc["_id"],
            "flavour": flavour.slug,
            "text": cleaned,
            "author_id": actor.account_id,
            "author_pseudonym": actor.pseudonym,
            "show_name": bool(show_name),
            "status": "pending",
            "crisis": crisis,
            "phase": "live" if phase == "live" else "before",
            "created_at": now,
            "merged_count": 0,
        }
        await self.repo.add_question(question)
        item_id = await self._submit_to_moderation(actor, doc, question, verdict)
        if item_id:
            await self.repo.update_question_where(question["_id"], ["pending"], {"moderation_item_id": item_id})
        await self._emit(
            mod_channel(flavour.slug),
            "spreekuur",
            {"event": "new", "spreekuur_id": doc["_id"], "question": staff_question(question)},
        )
        if crisis:
            return Asked("held", _crisis_notice(flavour), question["_id"])
        return Asked(
            "pending",
            "Dank je wel! Je vraag is ontvangen. Een moderator bekijkt hem; daarna verschijnt hij in het spreekuur.",
            question["_id"],
        )

    async def _submit_to_moderation(self, actor: Actor, doc: Document, question: Document, verdict: Any) -> str:
        moderation = self.moderation
        try:
            item_ref = importlib.import_module("chatserver.services.moderation").ItemRef
            ref = item_ref(
                kind="spreekuur_question",
                id=question["_id"],
                channel=spreekuur_channel(str(doc["flavour"]), str(doc["_id"])),
                url=f"/backoffice/spreekuren/{doc['_id']}",
            )
            item_id: str = await moderation.submit(
                flavour=str(doc["flavour"]),
                source="crisis" if question["crisis"] else "spreekuur_question",
                ref=ref,
                text=question["text"],
                author=actor,
                verdict=verdict,
                held_payload={"spreekuur_id": doc["_id"], "question_id": question["_id"]},
            )
            return item_id
        except Exception:  # the question is stored and visible in the spreekuur console either way
            log.exception("submitting a spreekuur question to the moderation queue failed")
            return ""

    async def _decidable(self, actor: Actor | None, question_id: str) -> tuple[Document, Document]:
        question = await self.repo.question(question_id[:64])
        if question is None:
            raise NOT_FOUND
        doc = await self.staff_get(actor, str(question["spreekuur_id"]))
        return doc, question

    async def approve(self, actor: Actor | None, question_id: str) -> Document:
        doc, question = await self._decidable(actor, question_id)
        assert actor is not None
        return await self._approve(doc, question, actor.pseudonym)

    async def _approve(self, doc: Document, question: Document, by: str) -> Document:
        changes = {"status": "approved", "decided_by": by, "decided_at": self.clock()}
        updated = await self.repo.update_question_where(str(question["_id"]), ["pending"], changes)
        if updated is None:
            raise SpreekuurError("decided", 409, "Over deze vraag is al besloten.")
        flavour = str(doc["flavour"])
        await self._emit(
            spreekuur_channel(flavour, str(doc["_id"])),
            "qa",
            {"type": "question", "question": public_question(updated)},
        )
        await self._decided_event(doc, updated)
        return updated

    async def reject(self, actor: Actor | None, question_id: str, reason: str) -> Document:
        doc, question = await self._decidable(actor, question_id)
        assert actor is not None
        text = clean_text(reason, MAX_REASON_CHARS + 1)
        if not text:
            raise SpreekuurError(
                "reason", 422, "Schrijf kort waarom; de vraagsteller krijgt de reden te zien.", "reason"
            )
        if len(text) > MAX_REASON_CHARS:
            raise SpreekuurError("reason", 422, f"De reden mag hoogstens {MAX_REASON_CHARS} tekens zijn.", "reason")
        return await self._reject(doc, question, actor.pseudonym, text)

    async def _reject(self, doc: Document, question: Document, by: str, reason: str) -> Document:
        changes = {"status": "rejected", "decided_by": by, "decided_at": self.clock(), "reject_reason": reason}
        updated = await self.repo.update_question_where(str(question["_id"]), ["pending"], changes)
        if updated is None:
            raise SpreekuurError("decided", 409, "Over deze vraag is al besloten.")
        await self._decided_event(doc, updated)
        await self._emit(
            user_channel(str(updated["author_id"])),
            "notification",
            {
                "type": "spreekuur_question_rejected",
                "text": f"Je vraag voor ‘{doc['title']}’ is niet geplaatst. Reden: {reason}",
                "url": f"/f/{doc['flavour']}/spreekuur/{doc['_id']}/",
            },
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
            raise SpreekuurError("into", 422, "Kies een andere vraag van dit spreekuur om mee samen te voegen.", "into")
        changes = {"status": "merged", "merged_into": target["_id"], "decided_by": actor.pseudonym,
                   "decided_at": self.clock()}  # fmt: skip
        updated = await self.repo.update_question_where(str(question["_id"]), ["pending"], changes)
        if updated is None:
            raise SpreekuurError("decided", 409, "Over deze vraag is al besloten.")
        bumped = await self.repo.bump_merged(str(target["_id"]))
        assert bumped is not None
        if bumped.get("status") == "approved":
            await self._emit(
                spreekuur_channel(str(doc["flavour"]), str(doc["_id"])),
                "qa",
                {"type": "merged", "into": bumped["_id"], "merged_count": int(bumped.get("merged_count", 0))},
            )
        await self._decided_event(doc, updated)
        return updated

    async def answer(self, actor: Actor | None, question_id: str, text: str) -> Document:
        doc, question = await self._decidable(actor, question_id)
        assert actor is not None
        if actor.account_id != doc.get("host_id") and not actor.is_admin:
            raise SpreekuurError("host", 403, "Alleen de host van dit spreekuur beantwoordt vragen.", "answer")
        if self.phase(doc) in ("waiting", "cancelled"):
            raise SpreekuurError("waiting", 409, "Het spreekuur is nog niet begonnen. Open het eerst.", "answer")
        cleaned = clean_text(text, MAX_ANSWER_CHARS + 1)
        if not cleaned or len(cleaned) > MAX_ANSWER_CHARS:
            raise SpreekuurError("answer", 422, f"Schrijf een antwoord van 1 tot {MAX_ANSWER_CHARS} tekens.", "answer")
        answer = {"text": cleaned, "host": actor.pseudonym, "role": actor.role_label, "at": self.clock()}
        updated = await self.repo.set_answer(str(question["_id"]), answer)
        if updated is None:
            raise SpreekuurError("not_approved", 409, "Alleen goedgekeurde vragen kunnen beantwoord worden.", "answer")
        await self._emit(
            spreekuur_channel(str(doc["flavour"]), str(doc["_id"])),
            "qa",
            {"type": "answer", "question_id": updated["_id"], "answer": public_question(updated)["answer"]},
        )
        return updated

    async def _decided_event(self, doc: Document, question: Document) -> None:
        await self._emit(
            mod_channel(str(doc["flavour"])),
            "spreekuur",
            {"event": "decided", "spreekuur_id": doc["_id"], "question": staff_question(question)},
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
            await self._reject(doc, question, by, reason or "Je vraag past niet binnen de regels van deze community.")

    # host controls and status ------------------------------------------------------------------------------

    async def open_now(self, actor: Actor | None, spreekuur_id: str) -> Document:
        doc = await self._host_doc(actor, spreekuur_id)
        if self.phase(doc) != "waiting":
            raise SpreekuurError("phase", 409, "Dit spreekuur is al open of afgelopen.")
        updated = await self.repo.update(str(doc["_id"]), {"opened_at": self.clock()})
        assert updated is not None
        await self._status_event(updated, "live")
        return updated

    async def close_now(self, actor: Actor | None, spreekuur_id: str) -> Document:
        doc = await self._host_doc(actor, spreekuur_id)
        if self.phase(doc) != "live":
            raise SpreekuurError("phase", 409, "Dit spreekuur is niet live.")
        updated = await self.repo.update(str(doc["_id"]), {"closed_at": self.clock()})
        assert updated is not None
        await self._drop_seats(updated)
        await self._status_event(updated, "ended")
        return updated

    async def _host_doc(self, actor: Actor | None, spreekuur_id: str) -> Document:
        doc = await self.staff_get(actor, spreekuur_id)
        assert actor is not None
        if actor.account_id != doc.get("host_id") and not actor.is_admin:
            raise SpreekuurError("host", 403, "Alleen de host opent of sluit dit spreekuur.")
        return doc

    async def _status_event(self, doc: Document, status: str) -> None:
        if not await self.repo.add_announced(str(doc["_id"]), status):
            return
        await self._emit(
            spreekuur_channel(str(doc["flavour"]), str(doc["_id"])),
            "qa",
            {"type": "status", "status": status, "label": PHASE_LABELS[status]},
            dedupe_id=f"status-{status}",
        )

    async def announce_due(self) -> int:
        """Emit the status events of sessions that started or ended by the clock (a periodic job)."""
        now = self.clock()
        count = 0
        for doc in await self.repo.due_for(now, "starts_at", "live", now - ANNOUNCE_LOOKBACK):
            if phase_of(doc, now) == "live":
                await self._status_event(doc, "live")
                count += 1
        for doc in await self.repo.due_for(now, "ends_at", "ended", now - ANNOUNCE_LOOKBACK):
            if not doc.get("cancelled"):
                await self._status_event(doc, "ended")
                count += 1
        return count

    # transcript --------------------------------------------------------------------------------------------

    async def transcript_draft(self, actor: Actor | None, spreekuur_id: str) -> tuple[Document, str]:
        doc = await self.staff_get(actor, spreekuur_id)
        if not can_schedule(actor):
            raise NOT_FOUND
        stored = (doc.get("transcript") or {}).get("body")
        if stored:
            return doc, str(stored)
        return doc, transcript_markdown(doc, await self.repo.questions_of(str(doc["_id"]), ["approved"]))

    async def publish_transcript(self, actor: Actor | None, spreekuur_id: str, title: str, body: str) -> Document:
        """Publish the edited transcript as an article to the spreekuur's flavour (after the end only)."""
        doc = await self.staff_get(actor, spreekuur_id)
        if not can_schedule(actor):
            raise NOT_FOUND
        assert actor is not None
        if self.phase(doc) != "ended":
            raise SpreekuurError("phase", 409, "Een verslag publiceer je na afloop van het spreekuur.", "body")
        from chatserver.services.content import ContentError, Draft

        content = self.content
        cleaned_body = clean_text(body, 40_001)
        if not cleaned_body:
            raise SpreekuurError("body", 422, "Het verslag is leeg.", "body")
        transcript: Document = {"title": clean_text(title, 151), "body": cleaned_body, "updated_at": self.clock(),
                                "updated_by": actor.pseudonym}  # fmt: skip
        if content is not None:
            draft = Draft(
                kind="article",
                title=transcript["title"],
                body=cleaned_body,
                flavours=(str(doc["flavour"]),),
                summary=f"Verslag van het e-spreekuur ‘{doc['title']}’."[:300],
                category="psycho-educatie",
            )
            try:
                existing = (doc.get("transcript") or {}).get("content_id")
                if existing:
                    item = await content.access_item(actor, existing)
                    item = await content.save(actor, existing, draft, int(item.get("version", 1)))
                else:
                    item = await content.create(actor, draft)
                if item.get("status") != "published":
                    item = await content.change_status(actor, item["_id"], "publish")
            except ContentError as exc:
                raise SpreekuurError(
                    exc.code, exc.status, exc.detail, "body" if exc.field == "body" else "title"
                ) from exc
            transcript["content_id"] = item["_id"]
            transcript["content_slug"] = item["slug"]
        transcript["published_at"] = self.clock()
        updated = await self.repo.update(str(doc["_id"]), {"transcript": transcript})
        assert updated is not None
        return updated


def _rest(s: Schedule) -> tuple[str, str, str, datetime | None, datetime | None, int]:
    return (s.host_id, s.title, s.description, s.starts_at, s.ends_at, s.capacity)


def _session_doc(s: Schedule, host: Document | None, now: datetime, by: str) -> Document:
    return {
        "_id": uuid.uuid4().hex[:12],
        "flavour": s.flavour,
        "title": s.title,
        "description": s.description,
        "starts_at": s.starts_at,
        "ends_at": s.ends_at,
        "capacity": s.capacity,
        "host_id": str(host["_id"]) if host else None,
        "host_pseudonym": str(host.get("pseudonym", "")) if host else "",
        "host_role": str(host.get("role", "")) if host else "",
        "created_at": now,
        "created_by": by,
        "announced": [],
        "cancelled": False,
    }


def _next_weekdays(today: date, weekday: int, weeks: int) -> list[date]:
    first = today + timedelta(days=(weekday - today.weekday()) % 7)
    return [first + timedelta(weeks=n) for n in range(weeks)]


def _crisis_notice(flavour: Flavour) -> str:
    lines = [
        "Dank je dat je dit deelt. Je vraag klinkt alsof het nu erg zwaar is. Een professional van ons team "
        "leest je vraag zo snel mogelijk. Wacht daar niet op als je aan zelfdoding denkt of in gevaar bent:",
        "bel 113 of gratis 0800-0113, of chat op 113.nl (113 Zelfmoordpreventie); bij acuut gevaar bel 112.",
    ]
    if flavour.youth:
        lines.append("Ben je jonger dan 18? Bel ook gerust De Kindertelefoon: 0800-0432.")
    return " ".join(lines)


def role_label(role: str) -> str:
    return ROLE_LABELS.get(role, "")
