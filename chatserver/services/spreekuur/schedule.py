"""The spreekuur schedule: sessions and their phases, hosts, scheduling and the weekly series, the host's controls
and the status announcements on the session's live channel.

Editors and admins schedule within their flavours. A session is waiting before its start, live until its end (the
host may open early or close early) and ended after; each change of phase goes out once as a stored ``qa`` status
event on ``spreekuur:<flavour>:<id>`` (:meth:`SessionSchedule.announce_due` catches up those the clock made).
"""

from __future__ import annotations

import logging
import uuid
from datetime import UTC, datetime, time, timedelta
from typing import TYPE_CHECKING, Any

from chatserver.domain.channels import spreekuur_channel
from chatserver.domain.identity import Actor
from chatserver.domain.spreekuur import (
    ANNOUNCE_LOOKBACK,
    CALENDAR_LIMIT,
    MAX_CAPACITY,
    MAX_DESCRIPTION_CHARS,
    MAX_DURATION,
    MAX_TITLE_CHARS,
    MIN_TITLE_CHARS,
    PHASE_LABELS,
    SERIES_CAPACITY,
    SERIES_WEEKS,
    Phase,
    Schedule,
    aware,
    can_schedule,
    clean_text,
    is_host_of,
    may_host,
    next_weekdays,
    phase_of,
)
from chatserver.flavours import TIMEZONE, WEEKDAYS, Flavour, FlavourCatalog, SpreekuurSeries
from chatserver.i18n import N_
from chatserver.ports import AccountStore, Clock, Document, SeriesTaken, SpreekuurStore
from chatserver.protocol.events import QaStatus
from chatserver.services.spreekuur.refusals import NOT_FOUND, SpreekuurError
from chatserver.services.spreekuur.seats import Seating

if TYPE_CHECKING:
    from chatserver.services.chat import ChatService

log = logging.getLogger("chatserver.spreekuur")


class SessionSchedule:
    def __init__(
        self,
        repo: SpreekuurStore,
        catalog: FlavourCatalog,
        accounts: AccountStore,
        chat: ChatService,
        seating: Seating,
        clock: Clock,
    ) -> None:
        self.repo = repo
        self.catalog = catalog
        self.accounts = accounts
        self.chat = chat
        self.seating = seating
        self.clock = clock

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

    async def scheduler_get(self, actor: Actor | None, spreekuur_id: str) -> Document:
        """A spreekuur that ``actor`` may reschedule, cancel or write the transcript of (an editor of its flavour)."""
        doc = await self.staff_get(actor, spreekuur_id)
        if not can_schedule(actor):
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
        return [d for d in await self.accounts.staff() if may_host(d, flavour)]

    async def check_schedule(self, actor: Actor | None, s: Schedule) -> tuple[Schedule, Document | None]:
        if not can_schedule(actor):
            raise NOT_FOUND
        assert actor is not None
        flavour = self.catalog.get(s.flavour)
        if flavour is None or not actor.staff_in(flavour.slug):
            raise SpreekuurError(
                "scope", 403, N_("Je kunt alleen spreekuren plannen in je eigen communities."), "flavour"
            )
        checked = _checked_form(s, flavour.slug)
        host: Document | None = None
        if s.host_id:
            host = next((h for h in await self.hosts(flavour.slug) if str(h["_id"]) == s.host_id), None)
            if host is None:
                raise SpreekuurError(
                    "host",
                    422,
                    N_("Kies als host een geverifieerde ervaringsdeskundige of professional van deze community."),
                    "host_id",
                )
        return checked, host

    async def schedule(self, actor: Actor | None, s: Schedule) -> Document:
        checked, host = await self.check_schedule(actor, s)
        assert actor is not None and checked.starts_at is not None and checked.ends_at is not None
        now = self.clock()
        if checked.starts_at < now - timedelta(minutes=5) and checked.ends_at <= now:
            raise SpreekuurError("starts_at", 422, N_("Dit tijdstip ligt in het verleden."), "starts_at")
        doc = _session_doc(checked, host, now, actor.pseudonym)
        await self.repo.insert(doc)
        log.info("spreekuur %s scheduled in %s", doc["_id"], checked.flavour)
        return doc

    async def update(self, actor: Actor | None, spreekuur_id: str, s: Schedule) -> Document:
        current = await self.scheduler_get(actor, spreekuur_id)
        checked, host = await self.check_schedule(actor, Schedule(str(current["flavour"]), *_rest(s)))
        changes: Document = {
            "title": checked.title,
            "description": checked.description,
            "starts_at": checked.starts_at,
            "ends_at": checked.ends_at,
            "capacity": checked.capacity,
            **_host_fields(host),
            "updated_at": self.clock(),
        }
        updated = await self.repo.update(spreekuur_id, changes)
        if updated is None:
            raise NOT_FOUND
        if checked.ends_at != aware(current["ends_at"]):
            await self.seating.move_expiry(updated)
        return updated

    async def cancel(self, actor: Actor | None, spreekuur_id: str) -> Document:
        doc = await self.scheduler_get(actor, spreekuur_id)
        updated = await self.repo.update(str(doc["_id"]), {"cancelled": True, "updated_at": self.clock()})
        assert updated is not None
        await self.seating.drop(updated)
        await self.announce(updated, "cancelled")
        return updated

    async def seed_series(self, flavour: Flavour, weeks: int = SERIES_WEEKS, by: str = "reeks") -> int:
        """Create the next ``weeks`` occurrences of each of the flavour's series; existing ones are skipped."""
        now = self.clock()
        hosts = await self.hosts(flavour.slug)
        created = 0
        for index, series in enumerate(flavour.spreekuur_series):
            host = next((h for h in hosts if h.get("role") == series.host_role), hosts[0] if hosts else None)
            created += await self._seed_one_series(flavour, index, series, host, weeks, now, by)
        return created

    async def _seed_one_series(
        self,
        flavour: Flavour,
        index: int,
        series: SpreekuurSeries,
        host: Document | None,
        weeks: int,
        now: datetime,
        by: str,
    ) -> int:
        hh, mm = (int(x) for x in series.start.split(":"))
        created = 0
        for day in next_weekdays(now.astimezone(TIMEZONE).date(), WEEKDAYS.index(series.weekday), weeks):
            starts = datetime.combine(day, time(hh, mm), tzinfo=TIMEZONE).astimezone(UTC)
            if starts <= now:
                continue
            ends = starts + timedelta(minutes=series.duration_min)
            s = Schedule(flavour.slug, str(host["_id"]) if host else "", series.title, series.description, starts,
                         ends, SERIES_CAPACITY)  # fmt: skip
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

    async def position(self, doc: Document) -> dict[str, Any]:
        """The channel's current position, so a page rendered now can follow live from here."""
        channel = spreekuur_channel(str(doc["flavour"]), str(doc["_id"]))
        return {"offset": await self.chat.last_offset(channel), "epoch": await self.chat.epoch(channel)}

    # host controls and status ------------------------------------------------------------------------------

    async def open_now(self, actor: Actor | None, spreekuur_id: str) -> Document:
        doc = await self._host_doc(actor, spreekuur_id)
        if self.phase(doc) != "waiting":
            raise SpreekuurError("phase", 409, N_("Dit spreekuur is al open of afgelopen."))
        updated = await self.repo.update(str(doc["_id"]), {"opened_at": self.clock()})
        assert updated is not None
        await self.announce(updated, "live")
        return updated

    async def close_now(self, actor: Actor | None, spreekuur_id: str) -> Document:
        doc = await self._host_doc(actor, spreekuur_id)
        if self.phase(doc) != "live":
            raise SpreekuurError("phase", 409, N_("Dit spreekuur is niet live."))
        updated = await self.repo.update(str(doc["_id"]), {"closed_at": self.clock()})
        assert updated is not None
        await self.seating.drop(updated)
        await self.announce(updated, "ended")
        return updated

    async def _host_doc(self, actor: Actor | None, spreekuur_id: str) -> Document:
        doc = await self.staff_get(actor, spreekuur_id)
        assert actor is not None
        if not is_host_of(actor, doc):
            raise SpreekuurError("host", 403, N_("Alleen de host opent of sluit dit spreekuur."))
        return doc

    async def announce(self, doc: Document, status: str) -> None:
        """The ``qa`` status event of a phase change, once per session and status.

        Stored first, marked announced after: a failed emit is tried again by the next round of the status job,
        and a second process's emit of the same status is the same event (its dedupe id), never a second one.
        """
        await self.chat.emit(
            spreekuur_channel(str(doc["flavour"]), str(doc["_id"])),
            QaStatus(status=status, label=PHASE_LABELS[status]),
            dedupe_id=f"status-{status}",
        )
        await self.repo.add_announced(str(doc["_id"]), status)

    async def announce_due(self) -> int:
        """Emit the status events of sessions that started or ended by the clock (a periodic job)."""
        now = self.clock()
        count = 0
        for doc in await self.repo.due_for(now, "starts_at", "live", now - ANNOUNCE_LOOKBACK):
            if phase_of(doc, now) == "live":
                await self.announce(doc, "live")
                count += 1
        for doc in await self.repo.due_for(now, "ends_at", "ended", now - ANNOUNCE_LOOKBACK):
            if not doc.get("cancelled"):
                await self.announce(doc, "ended")
                count += 1
        return count

    async def announce_round(self) -> None:
        """One round of the periodic status job; a database that is away is caught up by the next round."""
        try:
            await self.announce_due()
        except Exception as exc:
            log.warning("announcing spreekuur status failed (%s)", type(exc).__name__)


def _checked_form(s: Schedule, flavour: str) -> Schedule:
    """The form's texts, times and capacity within their limits (cleaned), or the refusal naming the field."""
    title = clean_text(s.title, MAX_TITLE_CHARS + 1)
    if not MIN_TITLE_CHARS <= len(title) <= MAX_TITLE_CHARS:
        raise SpreekuurError(
            "title", 422, N_("Geef een titel van %s tot %s tekens.") % (MIN_TITLE_CHARS, MAX_TITLE_CHARS), "title"
        )
    description = clean_text(s.description, MAX_DESCRIPTION_CHARS + 1)
    if len(description) > MAX_DESCRIPTION_CHARS:
        raise SpreekuurError(
            "description",
            422,
            N_("De beschrijving mag hoogstens %s tekens zijn.") % MAX_DESCRIPTION_CHARS,
            "description",
        )
    if s.starts_at is None:
        raise SpreekuurError("starts_at", 422, N_("Vul een geldige begintijd in."), "starts_at")
    if s.ends_at is None or s.ends_at <= s.starts_at:
        raise SpreekuurError("ends_at", 422, N_("De eindtijd moet na de begintijd liggen."), "ends_at")
    if s.ends_at - s.starts_at > MAX_DURATION:
        raise SpreekuurError("ends_at", 422, N_("Een spreekuur duurt hoogstens 8 uur."), "ends_at")
    if not 1 <= s.capacity <= MAX_CAPACITY:
        raise SpreekuurError("capacity", 422, N_("De capaciteit ligt tussen 1 en %s.") % MAX_CAPACITY, "capacity")
    return Schedule(flavour, s.host_id, title, description, s.starts_at, s.ends_at, s.capacity)


def _rest(s: Schedule) -> tuple[str, str, str, datetime | None, datetime | None, int]:
    return (s.host_id, s.title, s.description, s.starts_at, s.ends_at, s.capacity)


def _host_fields(host: Document | None) -> Document:
    return {
        "host_id": str(host["_id"]) if host else None,
        "host_pseudonym": str(host.get("pseudonym", "")) if host else "",
        "host_role": str(host.get("role", "")) if host else "",
    }


def _session_doc(s: Schedule, host: Document | None, now: datetime, by: str) -> Document:
    return {
        "_id": uuid.uuid4().hex[:12],
        "flavour": s.flavour,
        "title": s.title,
        "description": s.description,
        "starts_at": s.starts_at,
        "ends_at": s.ends_at,
        "capacity": s.capacity,
        **_host_fields(host),
        "created_at": now,
        "created_by": by,
        "announced": [],
        "cancelled": False,
    }
