"""Pure rules of group chat rooms: modes and their Dutch names, what a stored message looks like to a viewer,
the edit window, and the fields of a room an admin creates.

No I/O: :mod:`chatserver.services.rooms` reads and writes; who may read or post in a room is decided by
:func:`chatserver.domain.channels.authorise`.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from chatserver.domain.identity import ROLE_LABELS, AccountId, Actor
from chatserver.flavours import SLUG_RE, TIMEZONE, Room, RoomMode
from chatserver.i18n import N_

EDIT_WINDOW_S = 300
MODES: dict[str, str] = {
    "guests": N_("Open voor iedereen"),
    "members": N_("Alleen leden"),
    "announcements": N_("Mededelingen"),
    "staff": N_("Alleen team"),
    "hosted": N_("Met host"),
}
MODE_HELP: dict[str, str] = {
    "guests": N_("Iedereen kan meelezen en meepraten, ook zonder account."),
    "members": N_("Voor leden met een account."),
    "announcements": N_("Alleen het team plaatst hier berichten; iedereen kan meelezen."),
    "staff": N_("Overleg voor medewerkers van deze community."),
    "hosted": N_("Open zolang een host van het team aanwezig is."),
}
RESERVED_SLUGS = frozenset({"gesprek"})  # /chat/gesprek/ is the 1-on-1 chat
NAME_MAX = 60
DESCRIPTION_MAX = 300
SLOW_MODE_MAX_S = 3600
_LABEL_ROLE = {label: role for role, label in ROLE_LABELS.items()}


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


class InvalidRoom(ValueError):
    """A room form that cannot become a room: ``field`` names the form field, ``detail`` says why in Dutch."""

    def __init__(self, field: str, detail: str) -> None:
        super().__init__(detail)
        self.field = field
        self.detail = detail


def aware(value: Any) -> datetime:
    """A stored time (a datetime, naive meaning UTC, or milliseconds since the epoch) with its time zone."""
    if isinstance(value, datetime):
        return value if value.tzinfo else value.replace(tzinfo=UTC)
    return datetime.fromtimestamp(float(value) / 1000, UTC)


def room_from_doc(doc: Mapping[str, Any]) -> Room:
    return Room(
        slug=str(doc["slug"]),
        name=str(doc["name"]),
        description=str(doc.get("description", "")),
        mode=doc.get("mode", "members"),
        slow_mode_s=int(doc.get("slow_mode_s", 0)),
        max_members=int(doc.get("max_members", 500)),
    )


def within_edit_window(ts: datetime, now: datetime) -> bool:
    return (now - ts).total_seconds() < EDIT_WINDOW_S


def message_view(doc: Mapping[str, Any], viewer: Actor | None, now: datetime) -> MessageView:
    data = doc.get("data") or {}
    ts = aware(doc.get("ts"))
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
        editable=own and not deleted and within_edit_window(ts, now),
    )


def author_snapshot(doc: Mapping[str, Any]) -> Actor:
    """The author of a stored message as an Actor, for the moderation item (no session)."""
    role = _LABEL_ROLE.get(str(doc.get("role") or ""))
    return Actor(
        account_id=AccountId(str(doc.get("sender", ""))),
        pseudonym=str(doc.get("pseudonym", "")),
        kind="staff" if role else "member",
        role=role,  # type: ignore[arg-type]
    )


def room_from_form(fields: Mapping[str, str], clean: Callable[[str], str | None]) -> Room:
    """The room an admin's form describes; raises :class:`InvalidRoom` naming the first field that is wrong.

    ``clean(text) -> str | None`` is the chat's text check (None: empty, too long or with forbidden characters).
    """
    slug = fields.get("slug", "").strip().lower()
    if not SLUG_RE.match(slug) or slug in RESERVED_SLUGS:
        raise InvalidRoom("slug", N_("Gebruik alleen kleine letters, cijfers en streepjes (2 tot 40 tekens)."))
    name = fields.get("name", "").strip()
    if not name or len(name) > NAME_MAX or clean(name) is None:
        raise InvalidRoom("name", N_("Geef de ruimte een naam van hoogstens %d tekens.") % NAME_MAX)
    description = fields.get("description", "").strip()
    if len(description) > DESCRIPTION_MAX or (description and clean(description) is None):
        raise InvalidRoom("description", N_("De beschrijving mag hoogstens %d tekens hebben.") % DESCRIPTION_MAX)
    mode = fields.get("mode", "")
    if mode not in MODES:
        raise InvalidRoom("mode", N_("Kies hoe de ruimte werkt."))
    try:
        slow = int(fields.get("slow_mode_s", "0") or "0")
    except ValueError:
        slow = -1
    if not 0 <= slow <= SLOW_MODE_MAX_S:
        raise InvalidRoom("slow_mode_s", N_("De langzame modus is 0 tot 3600 seconden."))
    mode_value: RoomMode = mode  # type: ignore[assignment]
    return Room(slug=slug, name=name, description=description, mode=mode_value, slow_mode_s=slow)


def welcome_lines(flavour_name: str, room: Room) -> list[str]:
    """The demo's welcome lines in a guest room."""
    return [
        f"Welkom in {room.name} van {flavour_name}! Hier praat je anoniem met lotgenoten.",  # i18n: stored content
        N_("Wees vriendelijk, deel geen contactgegevens en respecteer dat ieders verhaal anders is."),
        N_(
            "Gaat het nu echt niet goed? Kijk bij 'Hulp bij crisis' of bel 113 (gratis: 0800-0113). "
            "Bij direct levensgevaar: 112."
        ),
    ]
