"""Group chat rooms: listing, admin-created rooms, hosted opening, slow mode, history, edit, delete, report.

Messages themselves go through :mod:`chatserver.services.chat` (``do_publish``);
this module owns what is particular to rooms. Who may read or post is decided by
``chatserver.domain.channels.authorise``; the facts it needs about a room (an
admin-created room's definition, whether a hosted room is open) come from
:meth:`RoomService.resolve`, registered as the resolver for room channels.
"""

from __future__ import annotations

import importlib
import logging
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING, Any

import msgspec

from chatserver.adapters.mongo_client import Database, Document
from chatserver.adapters.redis_broker import PresenceStore
from chatserver.adapters.redis_client import Redis
from chatserver.adapters.rooms_repo import RoomsRepo, RoomTaken
from chatserver.domain.channels import ChannelFacts, ChannelKind, ChannelRef, room_channel
from chatserver.domain.identity import ROLE_LABELS, AccountId, Actor
from chatserver.flavours import SLUG_RE, TIMEZONE, Flavour, FlavourCatalog, Room, RoomMode
from chatserver.services.chat import ALLOW, ChatService, Screening, clean_text

if TYPE_CHECKING:
    from chatserver.services.moderation import ModerationService

log = logging.getLogger("chatserver.rooms")

EDIT_WINDOW_S = 300
HISTORY_PAGE = 50
HOSTED_OPEN_TTL_S = 8 * 3600
ADMIN_ROOM_CACHE_S = 5.0
REPORT_MEMORY_S = 30 * 24 * 3600
MAX_REASON_CHARS = 500
MODES: dict[str, str] = {
    "guests": "Open voor iedereen",
    "members": "Alleen leden",
    "announcements": "Mededelingen",
    "staff": "Alleen team",
    "hosted": "Met host",
}
MODE_HELP: dict[str, str] = {
    "guests": "Iedereen kan meelezen en meepraten, ook zonder account.",
    "members": "Voor leden met een account.",
    "announcements": "Alleen het team plaatst hier berichten; iedereen kan meelezen.",
    "staff": "Overleg voor medewerkers van deze community.",
    "hosted": "Open zolang een host van het team aanwezig is.",
}
RESERVED_SLUGS = frozenset({"gesprek"})  # /chat/gesprek/ is the 1-on-1 chat
_LABEL_ROLE = {label: role for role, label in ROLE_LABELS.items()}
_NAME_MAX = 60
_DESCRIPTION_MAX = 300


class RoomError(Exception):
    """A refused room action; ``detail`` is the Dutch explanation for the person."""

    def __init__(self, status: int, detail: str, field: str = "") -> None:
        super().__init__(detail)
        self.status = status
        self.detail = detail
        self.field = field


@dataclass(frozen=True, slots=True)
class RoomView:
    room: Room
    flavour: str
    admin_created: bool
    presence: int
    open: bool | None  # hosted rooms only

    @property
    def mode_label(self) -> str:
        return MODES[self.room.mode]

    @property
    def mode_help(self) -> str:
        return MODE_HELP[self.room.mode]


@dataclass(frozen=True, slots=True)
class MessageView:
    offset: int
    kind: str
    sender: str
    role: str  # role key ("professional"), "" for visitors
    role_label: str
    text: str
    edited: bool
    deleted: bool
    ts: datetime
    own: bool
    editable: bool

    @property
    def time_label(self) -> str:
        return f"{self.ts.astimezone(TIMEZONE):%H:%M}"

    @property
    def iso(self) -> str:
        return self.ts.astimezone(UTC).isoformat()

    @property
    def editable_until_ms(self) -> int:
        return int((self.ts.timestamp() + EDIT_WINDOW_S) * 1000)


@dataclass(frozen=True, slots=True)
class HistoryPage:
    messages: list[MessageView]
    older_than: int | None  # the offset to ask for the page before this one, or None at the start
    last_offset: int  # the newest stored offset read (messages, system lines, edits, removals)


def _aware(value: Any) -> datetime:
    if isinstance(value, datetime):
        return value if value.tzinfo else value.replace(tzinfo=UTC)
    return datetime.fromtimestamp(float(value) / 1000, UTC)


def _room_from_doc(doc: Document) -> Room:
    return Room(
        slug=str(doc["slug"]),
        name=str(doc["name"]),
        description=str(doc.get("description", "")),
        mode=doc.get("mode", "members"),
        slow_mode_s=int(doc.get("slow_mode_s", 0)),
        max_members=int(doc.get("max_members", 500)),
    )


def message_view(doc: Document, viewer: Actor | None, now: datetime) -> MessageView:
    data = doc.get("data") or {}
    ts = _aware(doc.get("ts"))
    own = viewer is not None and doc.get("sender") == viewer.account_id
    deleted = bool(data.get("deleted", False))
    label = str(doc.get("role") or "")
    return MessageView(
        offset=int(doc["offset"]),
        kind=str(doc.get("kind", "message")),
        sender=str(doc.get("pseudonym", "")),
        role=_LABEL_ROLE.get(label, ""),
        role_label=label,
        text="" if deleted else str(data.get("text", "")),
        edited=bool(data.get("edited", False)),
        deleted=deleted,
        ts=ts,
        own=own,
        editable=own and not deleted and (now - ts).total_seconds() < EDIT_WINDOW_S,
    )


def _author_snapshot(doc: Document) -> Actor:
    """The author of a stored message as an Actor, for the moderation item (no session)."""
    role = _LABEL_ROLE.get(str(doc.get("role") or ""))
    return Actor(
        account_id=AccountId(str(doc.get("sender", ""))),
        pseudonym=str(doc.get("pseudonym", "")),
        kind="staff" if role else "member",
        role=role,  # type: ignore[arg-type]
    )


class RoomService:
    def __init__(
        self,
        db: Database,
        redis: Redis,
        catalog: FlavourCatalog,
        key: Callable[..., str],
        chat: ChatService,
        moderation: ModerationService,
        presence: PresenceStore,
    ) -> None:
        self.repo = RoomsRepo(db)
        self.redis = redis
        self.presence_store = presence
        self.catalog = catalog
        self.key = key
        self.chat = chat
        self.moderation = moderation
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
        room = _room_from_doc(doc) if doc is not None and doc.get("active") else None
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
        rooms += [(_room_from_doc(d), True) for d in await self.repo.active(flavour.slug)]
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
        return bool(await self.redis.exists(self.key("room-host", channel)))

    async def set_open(self, actor: Actor, flavour: Flavour, room: Room, opened: bool) -> None:
        if room.mode != "hosted" or not actor.staff_in(flavour.slug):
            raise RoomError(404, "Deze ruimte bestaat niet.")
        channel = room_channel(flavour.slug, room.slug)
        key = self.key("room-host", channel)
        if opened:
            await self.redis.set(key, actor.account_id, ex=HOSTED_OPEN_TTL_S)
            text = "De host heeft de ruimte geopend. Welkom!"
        else:
            await self.redis.delete(key)
            text = "De host heeft de ruimte gesloten. Je kunt nog meelezen, maar niet meer schrijven."
        await self.chat.do_emit(channel, "system", {"text": text, "room_open": opened}, actor=None)

    # --- slow mode ----------------------------------------------------------------------

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
        key = self.key("slow", ref.name, actor.account_id)
        if await self.redis.set(key, client_msg_id, nx=True, ex=seconds):
            return ALLOW
        current = await self.redis.get(key)
        if current is not None and (current.decode() if isinstance(current, bytes) else str(current)) == client_msg_id:
            return ALLOW
        wait = max(1, int(await self.redis.ttl(key)))
        unit = "seconde" if wait == 1 else "seconden"
        return Screening(
            "refuse",
            reason=f"In deze ruimte staat de langzame modus aan: je kunt één bericht per {seconds} seconden sturen. "
            f"Wacht nog {wait} {unit}.",
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
        now = datetime.now(UTC)
        shown = [message_view(d, viewer, now) for d in docs if d.get("kind", "message") in ("message", "system")]
        last = int(docs[-1]["offset"]) if docs else 0
        return HistoryPage(shown, int(docs[0]["offset"]) if older and docs else None, last)

    async def _own_message(self, actor: Actor, channel: str, offset: int) -> Document:
        doc = await self.chat.store.find_event(channel, offset)
        if doc is None or doc.get("kind", "message") != "message" or doc.get("sender") != actor.account_id:
            raise RoomError(404, "Dit bericht bestaat niet of is niet van jou.")
        if (doc.get("data") or {}).get("deleted"):
            raise RoomError(409, "Dit bericht is al verwijderd.")
        age = datetime.now(UTC) - _aware(doc.get("ts"))
        if age > timedelta(seconds=EDIT_WINDOW_S):
            raise RoomError(409, "Je kunt een bericht alleen in de eerste 5 minuten wijzigen of verwijderen.")
        return doc

    async def edit(self, actor: Actor, flavour: Flavour, room: Room, offset: int, text: str) -> None:
        channel = room_channel(flavour.slug, room.slug)
        await self._own_message(actor, channel, offset)
        cleaned = clean_text(text)
        if cleaned is None:
            raise RoomError(422, "Je bericht is leeg, te lang of bevat tekens die niet mogen.", "text")
        moderation = self.moderation
        if moderation is not None:
            verdict = moderation.screen(actor, flavour.slug, "room", cleaned)
            crisis = getattr(getattr(verdict, "crisis", None), "flagged", False)
            if verdict.action != "allow" or crisis:
                reason = verdict.reason if verdict.action == "block" and verdict.reason else None
                raise RoomError(
                    422,
                    reason
                    or "Deze wijziging kunnen we niet zo plaatsen. Stuur je tekst als nieuw bericht; "
                    "dan kijkt een moderator ernaar.",
                    "text",
                )
        if not await self.chat.store.update_event(channel, offset, {"data.text": cleaned, "data.edited": True}):
            raise RoomError(404, "Dit bericht bestaat niet of is niet van jou.")
        await self.chat.do_emit(channel, "edit", {"offset": offset, "text": cleaned}, actor=actor)

    async def delete(self, actor: Actor, flavour: Flavour, room: Room, offset: int) -> None:
        channel = room_channel(flavour.slug, room.slug)
        await self._own_message(actor, channel, offset)
        if not await self.chat.store.update_event(channel, offset, {"data.text": "", "data.deleted": True}):
            raise RoomError(404, "Dit bericht bestaat niet of is niet van jou.")
        await self.chat.do_emit(channel, "delete", {"offset": offset}, actor=actor)

    # --- reports ------------------------------------------------------------------------

    async def report(self, actor: Actor, flavour: Flavour, room: Room, offset: int, reason: str, url: str) -> bool:
        """Send a message to the moderation queue; False when this person already reported it."""
        reason = reason.strip()[:MAX_REASON_CHARS]
        if not reason:
            raise RoomError(422, "Schrijf kort waarom je dit bericht meldt.", "reason")
        channel = room_channel(flavour.slug, room.slug)
        doc = await self.chat.store.find_event(channel, offset)
        if doc is None or doc.get("kind", "message") != "message":
            raise RoomError(404, "Dit bericht bestaat niet.")
        moderation = self.moderation
        if moderation is None:
            raise RoomError(503, "Melden kan nu even niet. Probeer het zo opnieuw.")
        once = self.key("room-report", channel, str(offset), actor.account_id)
        if not await self.redis.set(once, "1", nx=True, ex=REPORT_MEMORY_S):
            return False
        module = importlib.import_module("chatserver.services.moderation")
        ref = module.ItemRef(kind="room_message", id=f"{channel}#{offset}", channel=channel, url=url)
        try:
            await moderation.submit(
                flavour=flavour.slug,
                source="report",
                ref=ref,
                text=str((doc.get("data") or {}).get("text", "")),
                author=_author_snapshot(doc),
                reporter=actor,
                reason=reason,
            )
        except Exception:
            await self.redis.delete(once)
            raise
        return True

    # --- admin-created rooms ------------------------------------------------------------

    async def admin_rooms(self, admin: Actor) -> list[Document]:
        return await self.repo.in_flavours([f.slug for f in self.catalog if admin.staff_in(f.slug)])

    async def create_room(self, admin: Actor, fields: dict[str, str]) -> Room:
        flavour = self.catalog.get(fields.get("flavour", ""))
        if flavour is None or not admin.is_admin:
            raise RoomError(422, "Kies een community.", "flavour")
        slug = fields.get("slug", "").strip().lower()
        if not SLUG_RE.match(slug) or slug in RESERVED_SLUGS:
            raise RoomError(422, "Gebruik alleen kleine letters, cijfers en streepjes (2 tot 40 tekens).", "slug")
        name = fields.get("name", "").strip()
        if not name or len(name) > _NAME_MAX or clean_text(name) is None:
            raise RoomError(422, f"Geef de ruimte een naam van hoogstens {_NAME_MAX} tekens.", "name")
        description = fields.get("description", "").strip()
        if len(description) > _DESCRIPTION_MAX or (description and clean_text(description) is None):
            raise RoomError(422, f"De beschrijving mag hoogstens {_DESCRIPTION_MAX} tekens hebben.", "description")
        mode = fields.get("mode", "")
        if mode not in MODES:
            raise RoomError(422, "Kies hoe de ruimte werkt.", "mode")
        try:
            slow = int(fields.get("slow_mode_s", "0") or "0")
        except ValueError:
            slow = -1
        if not 0 <= slow <= 3600:
            raise RoomError(422, "De langzame modus is 0 tot 3600 seconden.", "slow_mode_s")
        if flavour.room(slug) is not None:
            raise RoomError(409, "Deze community heeft al een ruimte met dit adres.", "slug")
        mode_value: RoomMode = mode  # type: ignore[assignment]
        room = Room(slug=slug, name=name, description=description, mode=mode_value, slow_mode_s=slow)
        doc: Document = {"flavour": flavour.slug, **msgspec.structs.asdict(room)}
        doc.update(active=True, created_by=admin.account_id, created_at=datetime.now(UTC))
        try:
            await self.repo.insert(doc)
        except RoomTaken:
            raise RoomError(409, "Deze community heeft al een ruimte met dit adres.", "slug") from None
        self._cache.pop((flavour.slug, slug), None)
        log.info("room created by an admin (mode %s)", mode)
        return room

    async def set_room_active(self, admin: Actor, flavour_slug: str, slug: str, active: bool) -> None:
        if not admin.is_admin or self.catalog.get(flavour_slug) is None:
            raise RoomError(404, "Deze ruimte bestaat niet.")
        stamp = {"closed_at": datetime.now(UTC), "closed_by": admin.account_id} if not active else {}
        if not await self.repo.set_active(flavour_slug, slug, active, stamp):
            raise RoomError(404, "Deze ruimte bestaat niet.")
        self._cache.pop((flavour_slug, slug), None)
        text = "Deze ruimte is door de beheerder gesloten." if not active else "Deze ruimte is weer geopend."
        await self.chat.do_emit(room_channel(flavour_slug, slug), "system", {"text": text}, actor=None)

    # --- demo ---------------------------------------------------------------------------

    async def seed_demo(self) -> int:
        """Welcome lines in every guest room; idempotent through dedupe ids."""
        count = 0
        for flavour in self.catalog:
            for room in flavour.rooms:
                if room.mode != "guests":
                    continue
                channel = room_channel(flavour.slug, room.slug)
                for i, text in enumerate(_welcome_lines(flavour, room)):
                    ack = await self.chat.do_emit(channel, "system", {"text": text}, dedupe_id=f"demo-welkom-{i}")
                    count += 0 if ack.duplicate else 1
        return count


def _welcome_lines(flavour: Flavour, room: Room) -> list[str]:
    return [
        f"Welkom in {room.name} van {flavour.name}! Hier praat je anoniem met lotgenoten.",
        "Wees vriendelijk, deel geen contactgegevens en respecteer dat ieders verhaal anders is.",
        "Gaat het nu echt niet goed? Kijk bij 'Hulp bij crisis' of bel 113 (gratis: 0800-0113). "
        "Bij direct levensgevaar: 112.",
    ]
