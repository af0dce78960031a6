"""Group chat rooms: listing, admin-created rooms, hosted opening, slow mode, history, edit, delete, report.

Messages themselves go through :mod:`chatserver.services.chat` (``do_publish``);
this module owns what is particular to rooms. Who may read or post is decided by
``chatserver.domain.channels.authorise``; the facts it needs about a room (an
admin-created room's definition, whether a hosted room is open) come from
:meth:`RoomService.resolve`, registered as the resolver for room channels. The
pure rules (modes, message views, the edit window, the room form) are in
:mod:`chatserver.domain.rooms`.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Sequence
from datetime import timedelta
from typing import TYPE_CHECKING

import msgspec

from chatserver.clock import Clock
from chatserver.domain.channels import ChannelFacts, ChannelKind, ChannelRef, room_channel
from chatserver.domain.identity import Actor
from chatserver.domain.rooms import (
    EDIT_WINDOW_S,
    MODE_HELP,
    MODES,
    RESERVED_SLUGS,
    HistoryPage,
    InvalidRoom,
    MessageView,
    RoomView,
    author_snapshot,
    aware,
    message_view,
    room_from_doc,
    room_from_form,
    welcome_lines,
)
from chatserver.flavours import SLUG_RE, Flavour, FlavourCatalog, Room
from chatserver.i18n import N_
from chatserver.ports import Document, PresenceCounter, RoomFlags, RoomStore, RoomTaken
from chatserver.protocol.events import MessageDeleted, MessageEdited, SystemLine
from chatserver.services.chat import ALLOW, ChatService, Screening, clean_text

if TYPE_CHECKING:
    from chatserver.services.moderation import ModerationService

__all__ = [
    "EDIT_WINDOW_S",
    "MODES",
    "MODE_HELP",
    "RESERVED_SLUGS",
    "HistoryPage",
    "MessageView",
    "RoomError",
    "RoomService",
    "RoomView",
    "message_view",
]

log = logging.getLogger("chatserver.rooms")

HISTORY_PAGE = 50
HOSTED_OPEN_TTL_S = 8 * 3600
ADMIN_ROOM_CACHE_S = 5.0
REPORT_MEMORY_S = 30 * 24 * 3600
MAX_REASON_CHARS = 500
NOT_YOURS = N_("Dit bericht bestaat niet of is niet van jou.")


class RoomError(Exception):
    """A refused room action; ``detail`` is the Dutch explanation for the person."""

    def __init__(self, status: int, detail: str, field: str = "") -> None:
        super().__init__(detail)
        self.status = status
        self.detail = detail
        self.field = field


class RoomService:
    def __init__(
        self,
        repo: RoomStore,
        flags: RoomFlags,
        catalog: FlavourCatalog,
        chat: ChatService,
        moderation: ModerationService,
        presence: PresenceCounter,
        clock: Clock,
    ) -> None:
        self.repo = repo
        self.flags = flags
        self.presence_store = presence
        self.catalog = catalog
        self.chat = chat
        self.moderation = moderation
        self.clock = clock
        # The moderation service's chat screener for room channels (the mute check runs as a gate).
        self._screener = moderation.chat_screener(check_mute=False)
        self._cache: dict[tuple[str, str], tuple[float, Room | None]] = {}

    # --- rooms ------------------------------------------------------------------------

    async def admin_room(self, flavour: str, slug: str) -> Room | None:
        """An active admin-created room, cached for a few seconds (it is asked on every publish)."""
        now = time.monotonic()
        cached = self._cache.get((flavour, slug))
        if cached is not None and cached[0] > now:
            return cached[1]
        doc = await self.repo.get(flavour, slug)
        room = room_from_doc(doc) if doc is not None and doc.get("active") else None
        self._cache[(flavour, slug)] = (now + ADMIN_ROOM_CACHE_S, room)
        return room

    async def room(self, flavour: Flavour, slug: str) -> tuple[Room, bool] | None:
        """The room and whether an admin created it; None when there is no such (active) room."""
        found = flavour.room(slug)
        if found is not None:
            return found, False
        if not SLUG_RE.match(slug):
            return None
        created = await self.admin_room(flavour.slug, slug)
        return (created, True) if created is not None else None

    async def presence(self, channel: str) -> int:
        try:
            return await self.presence_store.count(channel)
        except Exception:  # presence is best effort
            log.warning("presence count unavailable")
            return 0

    async def rooms(self, flavour: Flavour, actor: Actor | None) -> list[RoomView]:
        """The rooms this actor may see: staff-only rooms only for staff of the flavour."""
        rooms = [(r, False) for r in flavour.rooms]
        rooms += [(room_from_doc(d), True) for d in await self.repo.active(flavour.slug)]
        staff = actor is not None and actor.staff_in(flavour.slug)
        out: list[RoomView] = []
        for room, created in rooms:
            if room.mode == "staff" and not staff:
                continue
            channel = room_channel(flavour.slug, room.slug)
            is_open = await self.is_open(channel) if room.mode == "hosted" else None
            out.append(RoomView(room, flavour.slug, created, await self.presence(channel), is_open))
        return out

    async def resolve(self, actor: Actor, ref: ChannelRef) -> ChannelFacts:
        """The channel resolver for room channels."""
        flavour = self.catalog.get(ref.flavour)
        if flavour is None:
            return ChannelFacts(exists=False)
        found = await self.room(flavour, ref.ident)
        if found is None:
            return ChannelFacts(exists=False)
        room, created = found
        is_open = await self.is_open(ref.name) if room.mode == "hosted" else False
        return ChannelFacts(open=is_open, room=room if created else None)

    # --- hosted rooms -------------------------------------------------------------------

    async def is_open(self, channel: str) -> bool:
        return await self.flags.is_open(channel)

    async def set_open(self, actor: Actor, flavour: Flavour, room: Room, opened: bool) -> None:
        if room.mode != "hosted" or not actor.staff_in(flavour.slug):
            raise RoomError(404, N_("Deze ruimte bestaat niet."))
        channel = room_channel(flavour.slug, room.slug)
        if opened:
            await self.flags.open(channel, str(actor.account_id), HOSTED_OPEN_TTL_S)
            text = N_("De host heeft de ruimte geopend. Welkom!")
        else:
            await self.flags.close(channel)
            text = N_("De host heeft de ruimte gesloten. Je kunt nog meelezen, maar niet meer schrijven.")
        await self.chat.emit(channel, SystemLine(text=text, room_open=opened))

    # --- screening ----------------------------------------------------------------------

    async def slow_mode_screener(
        self, actor: Actor, ref: ChannelRef, client_msg_id: str, text: str, /, *, recent: Sequence[str] = ()
    ) -> Screening:
        """One message per ``slow_mode_s`` per account per room (staff exempt); a retry of the same message passes."""
        if ref.kind is not ChannelKind.ROOM or actor.staff_in(ref.flavour):
            return ALLOW
        flavour = self.catalog.get(ref.flavour)
        found = await self.room(flavour, ref.ident) if flavour else None
        if found is None or found[0].slow_mode_s <= 0:
            return ALLOW
        seconds = found[0].slow_mode_s
        wait = await self.flags.slow_mode_wait(ref.name, str(actor.account_id), client_msg_id, seconds)
        if wait == 0:
            return ALLOW
        unit = N_("seconde") if wait == 1 else N_("seconden")
        return Screening(
            "refuse",
            reason=N_(
                "In deze ruimte staat de langzame modus aan: je kunt één bericht per %s seconden sturen. Wacht "
                "nog %s %s."
            )
            % (seconds, wait, unit),
        )

    async def mute_gate(self, actor: Actor, ref: ChannelRef) -> str | None:
        """The moderation service's mute check for room channels, as a gate beside the rate limit."""
        if ref.kind is not ChannelKind.ROOM:
            return None
        return await self.moderation.mute_gate(actor, ref)

    async def moderation_screener(
        self, actor: Actor, ref: ChannelRef, client_msg_id: str, text: str, /, *, recent: Sequence[str] = ()
    ) -> Screening:
        """The moderation service's chat screener for room channels."""
        if ref.kind is not ChannelKind.ROOM:
            return ALLOW
        result: Screening = await self._screener(actor, ref, client_msg_id, text, recent=recent)
        return result

    # --- history ------------------------------------------------------------------------

    async def history(self, channel: str, viewer: Actor | None, before: int | None = None) -> HistoryPage:
        """Up to 50 stored events before ``before`` (the newest without), as they are now, oldest first."""
        docs = await self.chat.store.read_before(channel, before, HISTORY_PAGE + 1)
        older = len(docs) > HISTORY_PAGE
        if older:
            docs = docs[1:]
        now = self.clock()
        shown = [message_view(d, viewer, now) for d in docs if d.get("kind", "message") in ("message", "system")]
        last = int(docs[-1]["offset"]) if docs else 0
        return HistoryPage(shown, int(docs[0]["offset"]) if older and docs else None, last)

    async def _own_message(self, actor: Actor, channel: str, offset: int) -> Document:
        doc = await self.chat.store.find_event(channel, offset)
        if doc is None or doc.get("kind", "message") != "message" or doc.get("sender") != actor.account_id:
            raise RoomError(404, NOT_YOURS)
        if (doc.get("data") or {}).get("deleted"):
            raise RoomError(409, N_("Dit bericht is al verwijderd."))
        if self.clock() - aware(doc.get("ts")) > timedelta(seconds=EDIT_WINDOW_S):
            raise RoomError(409, N_("Je kunt een bericht alleen in de eerste 5 minuten wijzigen of verwijderen."))
        return doc

    async def edit(self, actor: Actor, flavour: Flavour, room: Room, offset: int, text: str) -> None:
        channel = room_channel(flavour.slug, room.slug)
        await self._own_message(actor, channel, offset)
        cleaned = clean_text(text)
        if cleaned is None:
            raise RoomError(422, N_("Je bericht is leeg, te lang of bevat tekens die niet mogen."), "text")
        verdict = self.moderation.screen(actor, flavour.slug, "room", cleaned)
        crisis = getattr(getattr(verdict, "crisis", None), "flagged", False)
        if verdict.action != "allow" or crisis:
            reason = verdict.reason if verdict.action == "block" and verdict.reason else None
            raise RoomError(
                422,
                reason
                or N_(
                    "Deze wijziging kunnen we niet zo plaatsen. Stuur je tekst als nieuw bericht; "
                    "dan kijkt een moderator ernaar."
                ),
                "text",
            )
        if not await self.chat.store.update_event(channel, offset, {"data.text": cleaned, "data.edited": True}):
            raise RoomError(404, NOT_YOURS)
        await self.chat.emit(channel, MessageEdited(offset=offset, text=cleaned), actor=actor)

    async def delete(self, actor: Actor, flavour: Flavour, room: Room, offset: int) -> None:
        channel = room_channel(flavour.slug, room.slug)
        await self._own_message(actor, channel, offset)
        if not await self.chat.store.update_event(channel, offset, {"data.text": "", "data.deleted": True}):
            raise RoomError(404, NOT_YOURS)
        await self.chat.emit(channel, MessageDeleted(offset=offset), actor=actor)

    # --- reports ------------------------------------------------------------------------

    async def report(self, actor: Actor, flavour: Flavour, room: Room, offset: int, reason: str, url: str) -> bool:
        """Send a message to the moderation queue; False when this person already reported it."""
        reason = reason.strip()[:MAX_REASON_CHARS]
        if not reason:
            raise RoomError(422, N_("Schrijf kort waarom je dit bericht meldt."), "reason")
        channel = room_channel(flavour.slug, room.slug)
        doc = await self.chat.store.find_event(channel, offset)
        if doc is None or doc.get("kind", "message") != "message":
            raise RoomError(404, N_("Dit bericht bestaat niet."))
        account_id = str(actor.account_id)
        if not await self.flags.first_report(channel, offset, account_id, REPORT_MEMORY_S):
            return False
        from chatserver.services.moderation import ItemRef

        ref = ItemRef(kind="room_message", id=f"{channel}#{offset}", channel=channel, url=url)
        try:
            await self.moderation.submit(
                flavour=flavour.slug,
                source="report",
                ref=ref,
                text=str((doc.get("data") or {}).get("text", "")),
                author=author_snapshot(doc),
                reporter=actor,
                reason=reason,
            )
        except Exception:
            await self.flags.forget_report(channel, offset, account_id)
            raise
        return True

    # --- admin-created rooms ------------------------------------------------------------

    async def admin_rooms(self, admin: Actor) -> list[Document]:
        return await self.repo.in_flavours([f.slug for f in self.catalog if admin.staff_in(f.slug)])

    async def create_room(self, admin: Actor, fields: dict[str, str]) -> Room:
        flavour = self.catalog.get(fields.get("flavour", ""))
        if flavour is None or not admin.is_admin:
            raise RoomError(422, N_("Kies een community."), "flavour")
        try:
            room = room_from_form(fields, clean_text)
        except InvalidRoom as exc:
            raise RoomError(422, exc.detail, exc.field) from None
        if flavour.room(room.slug) is not None:
            raise RoomError(409, N_("Deze community heeft al een ruimte met dit adres."), "slug")
        doc: Document = {"flavour": flavour.slug, **msgspec.structs.asdict(room)}
        doc.update(active=True, created_by=admin.account_id, created_at=self.clock())
        try:
            await self.repo.insert(doc)
        except RoomTaken:
            raise RoomError(409, N_("Deze community heeft al een ruimte met dit adres."), "slug") from None
        self._cache.pop((flavour.slug, room.slug), None)
        log.info("room created by an admin (mode %s)", room.mode)
        return room

    async def set_room_active(self, admin: Actor, flavour_slug: str, slug: str, active: bool) -> None:
        if not admin.is_admin or self.catalog.get(flavour_slug) is None:
            raise RoomError(404, N_("Deze ruimte bestaat niet."))
        stamp = {"closed_at": self.clock(), "closed_by": admin.account_id} if not active else {}
        if not await self.repo.set_active(flavour_slug, slug, active, stamp):
            raise RoomError(404, N_("Deze ruimte bestaat niet."))
        self._cache.pop((flavour_slug, slug), None)
        text = N_("Deze ruimte is door de beheerder gesloten.") if not active else N_("Deze ruimte is weer geopend.")
        await self.chat.emit(room_channel(flavour_slug, slug), SystemLine(text=text))

    # --- demo ---------------------------------------------------------------------------

    async def seed_demo(self) -> int:
        """Welcome lines in every guest room; idempotent through dedupe ids."""
        count = 0
        for flavour in self.catalog:
            for room in flavour.rooms:
                if room.mode != "guests":
                    continue
                channel = room_channel(flavour.slug, room.slug)
                for i, text in enumerate(welcome_lines(flavour.name, room)):
                    ack = await self.chat.emit(channel, SystemLine(text=text), dedupe_id=f"demo-welkom-{i}")
                    count += 0 if ack.duplicate else 1
        return count
