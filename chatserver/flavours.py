"""Flavours: load and validate ``flavours/<slug>.toml`` into frozen, typed values.

A flavour is data only: adding one adds a file, not code. Every file is checked
at start; a bad file stops the server with one line naming the file, the field
and the problem.
"""

from __future__ import annotations

import re
import tomllib
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import datetime, time, timedelta
from pathlib import Path
from typing import Literal
from zoneinfo import ZoneInfo

import msgspec

SLUG_RE = re.compile(r"^[a-z0-9](?:[a-z0-9-]{0,38}[a-z0-9])?$")
HOST_RE = re.compile(r"^(?=.{1,253}$)([a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?)(\.[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?)*$")
COLOUR_RE = re.compile(r"^#[0-9a-fA-F]{6}$")
HHMM_RE = re.compile(r"^([01][0-9]|2[0-3]):[0-5][0-9]$|^24:00$")
WEEKDAYS: tuple[str, ...] = ("ma", "di", "wo", "do", "vr", "za", "zo")
TIMEZONE = ZoneInfo("Europe/Amsterdam")
MIN_CONTRAST = 4.5

RoomMode = Literal["members", "guests", "announcements", "staff", "hosted"]
StaffRole = Literal["volunteer", "peer_expert", "professional", "editor", "admin"]


class FlavourError(ValueError):
    """A flavour file is invalid; the message names file, field and problem."""

    def __init__(self, file: str, field: str, problem: str) -> None:
        super().__init__(f"{file}: {field}: {problem}")
        self.file = file
        self.field = field
        self.problem = problem


class Theme(msgspec.Struct, frozen=True, forbid_unknown_fields=True):
    primary: str
    on_primary: str
    accent: str
    background: str
    surface: str
    text: str
    muted: str


class Room(msgspec.Struct, frozen=True, forbid_unknown_fields=True):
    slug: str
    name: str
    description: str
    mode: RoomMode = "members"
    slow_mode_s: int = 0
    max_members: int = 500


class ForumCategory(msgspec.Struct, frozen=True, forbid_unknown_fields=True):
    slug: str
    name: str
    description: str
    premoderated: bool = False


class OpeningBlock(msgspec.Struct, frozen=True, forbid_unknown_fields=True):
    days: tuple[str, ...]
    open: str
    close: str


class Chat(msgspec.Struct, frozen=True, forbid_unknown_fields=True):
    """1-on-1 chat settings of a flavour."""

    intro: str
    guests_allowed: bool = True
    escalation_needs_consent: bool = False
    max_wait_alert_min: int = 15
    reply_timeout_min: int = 5
    transcript_retention_days: int = 30
    opening_hours: tuple[OpeningBlock, ...] = ()


class ContentWorkflow(msgspec.Struct, frozen=True, forbid_unknown_fields=True):
    """Editorial settings of a flavour (the ``[content]`` table)."""

    # Four eyes: whoever submitted a piece for review or edited it last cannot also publish it.
    second_reviewer: bool = False


class CrisisResource(msgspec.Struct, frozen=True, forbid_unknown_fields=True):
    name: str
    description: str
    phone: str = ""
    url: str = ""
    chat_url: str = ""


class ModerationRules(msgspec.Struct, frozen=True, forbid_unknown_fields=True):
    blocked_words: tuple[str, ...] = ()
    blocked_patterns: tuple[str, ...] = ()
    no_body_numbers: bool = False
    block_contact_details: bool = True
    max_links_new_account: int = 0
    premoderate_new_accounts: bool = True
    new_account_days: int = 7


class Validation(msgspec.Struct, frozen=True, forbid_unknown_fields=True):
    """Which actions need a validated member (e-mail/phone hash or referral)."""

    forum_post: bool = True
    room_chat: bool = False
    spreekuur_question: bool = False


class SpreekuurSeries(msgspec.Struct, frozen=True, forbid_unknown_fields=True):
    title: str
    description: str
    weekday: str
    start: str
    duration_min: int = 60
    host_role: StaffRole = "professional"


class Flavour(msgspec.Struct, frozen=True, forbid_unknown_fields=True):
    name: str
    short_name: str
    tagline: str
    description: str
    audience: str
    hosts: tuple[str, ...]
    theme: Theme
    chat: Chat
    rooms: tuple[Room, ...]
    forum_categories: tuple[ForumCategory, ...]
    crisis_resources: tuple[CrisisResource, ...]
    moderation: ModerationRules = ModerationRules()
    validation: Validation = Validation()
    content: ContentWorkflow = ContentWorkflow()
    spreekuur_series: tuple[SpreekuurSeries, ...] = ()
    youth: bool = False
    central: bool = False
    order: int = 100
    slug: str = ""

    def room(self, slug: str) -> Room | None:
        return next((r for r in self.rooms if r.slug == slug), None)

    def category(self, slug: str) -> ForumCategory | None:
        return next((c for c in self.forum_categories if c.slug == slug), None)


def _luminance(hex_colour: str) -> float:
    def channel(c: int) -> float:
        v = c / 255
        return v / 12.92 if v <= 0.03928 else ((v + 0.055) / 1.055) ** 2.4

    r, g, b = (int(hex_colour[i : i + 2], 16) for i in (1, 3, 5))
    return 0.2126 * channel(r) + 0.7152 * channel(g) + 0.0722 * channel(b)


def contrast_ratio(a: str, b: str) -> float:
    """WCAG 2.1 contrast ratio of two ``#rrggbb`` colours."""
    la, lb = _luminance(a), _luminance(b)
    hi, lo = max(la, lb), min(la, lb)
    return (hi + 0.05) / (lo + 0.05)


def _parse_hhmm(value: str) -> time | None:
    if value == "24:00":
        return None
    hh, mm = value.split(":")
    return time(int(hh), int(mm))


Fail = Callable[[str, str], None]


def _check(file: str, f: Flavour) -> None:
    def fail(field: str, problem: str) -> None:
        raise FlavourError(file, field, problem)

    for check in (_check_texts, _check_theme, _check_rooms, _check_forum, _check_chat, _check_safety, _check_series):
        check(f, fail)


def _check_texts(f: Flavour, fail: Fail) -> None:
    for field in ("name", "short_name", "tagline", "description", "audience"):
        if not getattr(f, field).strip():
            fail(field, "mag niet leeg zijn")
    if not f.hosts:
        fail("hosts", "minstens één hostnaam nodig")
    for i, host in enumerate(f.hosts):
        if not HOST_RE.match(host):
            fail(f"hosts[{i}]", f"ongeldige hostnaam {host!r}")


def _check_theme(f: Flavour, fail: Fail) -> None:
    for key in Theme.__struct_fields__:
        colour = getattr(f.theme, key)
        if not COLOUR_RE.match(colour):
            fail(f"theme.{key}", f"kleur moet #rrggbb zijn, niet {colour!r}")
    pairs = (
        ("theme.text", f.theme.text, f.theme.background),
        ("theme.text", f.theme.text, f.theme.surface),
        ("theme.on_primary", f.theme.on_primary, f.theme.primary),
        ("theme.muted", f.theme.muted, f.theme.background),
        ("theme.primary", f.theme.primary, f.theme.background),
    )
    for field, fg, bg in pairs:
        ratio = contrast_ratio(fg, bg)
        if ratio < MIN_CONTRAST:
            fail(field, f"contrast {ratio:.2f}:1 is lager dan {MIN_CONTRAST}:1 (WCAG AA)")


def _check_rooms(f: Flavour, fail: Fail) -> None:
    if not f.rooms:
        fail("rooms", "minstens één chatruimte nodig")
    seen: set[str] = set()
    for i, room in enumerate(f.rooms):
        if not SLUG_RE.match(room.slug):
            fail(f"rooms[{i}].slug", f"ongeldige slug {room.slug!r}")
        if room.slug in seen:
            fail(f"rooms[{i}].slug", f"dubbele slug {room.slug!r}")
        seen.add(room.slug)
        if not room.name.strip():
            fail(f"rooms[{i}].name", "mag niet leeg zijn")
        if not 0 <= room.slow_mode_s <= 3600:
            fail(f"rooms[{i}].slow_mode_s", "moet tussen 0 en 3600 liggen")
        if not 2 <= room.max_members <= 100_000:
            fail(f"rooms[{i}].max_members", "moet tussen 2 en 100000 liggen")


def _check_forum(f: Flavour, fail: Fail) -> None:
    if not f.forum_categories:
        fail("forum_categories", "minstens één forumcategorie nodig")
    seen: set[str] = set()
    for i, cat in enumerate(f.forum_categories):
        if not SLUG_RE.match(cat.slug):
            fail(f"forum_categories[{i}].slug", f"ongeldige slug {cat.slug!r}")
        if cat.slug in seen:
            fail(f"forum_categories[{i}].slug", f"dubbele slug {cat.slug!r}")
        seen.add(cat.slug)


def _check_chat(f: Flavour, fail: Fail) -> None:
    for i, block in enumerate(f.chat.opening_hours):
        if not block.days:
            fail(f"chat.opening_hours[{i}].days", "minstens één dag nodig")
        for day in block.days:
            if day not in WEEKDAYS:
                fail(f"chat.opening_hours[{i}].days", f"onbekende dag {day!r} (gebruik {', '.join(WEEKDAYS)})")
        for key in ("open", "close"):
            if not HHMM_RE.match(getattr(block, key)):
                fail(f"chat.opening_hours[{i}].{key}", "tijd moet UU:MM zijn")
        if block.open == block.close:
            fail(f"chat.opening_hours[{i}]", "open en close zijn gelijk")
    if not 1 <= f.chat.transcript_retention_days <= 365:
        fail("chat.transcript_retention_days", "moet tussen 1 en 365 liggen")
    if not 1 <= f.chat.max_wait_alert_min <= 240:
        fail("chat.max_wait_alert_min", "moet tussen 1 en 240 liggen")
    if not 1 <= f.chat.reply_timeout_min <= 60:
        fail("chat.reply_timeout_min", "moet tussen 1 en 60 liggen")


def _check_safety(f: Flavour, fail: Fail) -> None:
    if not f.crisis_resources:
        fail("crisis_resources", "minstens één crisishulpbron nodig")
    for i, res in enumerate(f.crisis_resources):
        if not (res.phone or res.url or res.chat_url):
            fail(f"crisis_resources[{i}]", "telefoon, url of chat_url nodig")
        for key in ("url", "chat_url"):
            value = getattr(res, key)
            if value and not value.startswith("https://"):
                fail(f"crisis_resources[{i}].{key}", "moet met https:// beginnen")
    for i, pattern in enumerate(f.moderation.blocked_patterns):
        try:
            re.compile(pattern)
        except re.error as exc:
            fail(f"moderation.blocked_patterns[{i}]", f"ongeldige reguliere expressie: {exc}")
    if f.moderation.max_links_new_account < 0:
        fail("moderation.max_links_new_account", "mag niet negatief zijn")


def _check_series(f: Flavour, fail: Fail) -> None:
    for i, series in enumerate(f.spreekuur_series):
        if series.weekday not in WEEKDAYS:
            fail(f"spreekuur_series[{i}].weekday", f"onbekende dag {series.weekday!r}")
        if not HHMM_RE.match(series.start) or series.start == "24:00":
            fail(f"spreekuur_series[{i}].start", "tijd moet UU:MM zijn")
        if not 15 <= series.duration_min <= 240:
            fail(f"spreekuur_series[{i}].duration_min", "moet tussen 15 en 240 liggen")


def _msgspec_field(message: str) -> tuple[str, str]:
    """Split msgspec's "problem - at `$.a.b`" into (field, problem)."""
    if " - at `$" in message:
        problem, _, where = message.partition(" - at `$")
        return where.rstrip("`").lstrip(".") or "(bestand)", problem
    return "(bestand)", message


def load_flavour(path: Path) -> Flavour:
    file = path.name
    slug = path.stem
    if not SLUG_RE.match(slug):
        raise FlavourError(file, "(bestandsnaam)", f"slug {slug!r} mag alleen a-z, 0-9 en - bevatten")
    try:
        raw = tomllib.loads(path.read_text(encoding="utf-8"))
    except (tomllib.TOMLDecodeError, UnicodeDecodeError) as exc:
        raise FlavourError(file, "(syntax)", str(exc)) from None
    if "slug" in raw:
        raise FlavourError(file, "slug", "de slug is de bestandsnaam; laat dit veld weg")
    try:
        flavour = msgspec.convert(raw, Flavour, strict=True)
    except msgspec.ValidationError as exc:
        field, problem = _msgspec_field(str(exc))
        raise FlavourError(file, field, problem) from None
    flavour = msgspec.structs.replace(flavour, slug=slug)
    _check(file, flavour)
    return flavour


@dataclass(frozen=True, slots=True)
class FlavourCatalog:
    """All flavours, by slug and by host name."""

    by_slug: Mapping[str, Flavour]
    by_host: Mapping[str, Flavour]

    def __iter__(self):  # type: ignore[no-untyped-def]
        return iter(sorted(self.by_slug.values(), key=lambda f: (f.order, f.name)))

    def __len__(self) -> int:
        return len(self.by_slug)

    def get(self, slug: str) -> Flavour | None:
        return self.by_slug.get(slug)

    def for_host(self, host: str) -> Flavour | None:
        return self.by_host.get(host.split(":", 1)[0].lower())


def load_catalog(directory: Path) -> FlavourCatalog:
    files = sorted(directory.glob("*.toml"))
    if not files:
        raise FlavourError(str(directory), "(map)", "geen flavour-bestanden gevonden")
    by_slug: dict[str, Flavour] = {}
    by_host: dict[str, Flavour] = {}
    for path in files:
        flavour = load_flavour(path)
        for i, host in enumerate(flavour.hosts):
            if host in by_host:
                raise FlavourError(path.name, f"hosts[{i}]", f"hostnaam {host!r} hoort al bij {by_host[host].slug}")
            by_host[host] = flavour
        by_slug[flavour.slug] = flavour
    return FlavourCatalog(by_slug=by_slug, by_host=by_host)


# --- opening hours -----------------------------------------------------------


def _blocks_on(f: Flavour, day_index: int) -> list[tuple[time, time | None]]:
    day = WEEKDAYS[day_index]
    out: list[tuple[time, time | None]] = []
    for block in f.chat.opening_hours:
        if day in block.days:
            start = _parse_hhmm(block.open)
            assert start is not None
            out.append((start, _parse_hhmm(block.close)))
    return out


def is_open(f: Flavour, now: datetime) -> bool:
    """Whether 1-on-1 chat is open at ``now`` (aware datetime), by the flavour's hours.

    A block whose close is before its open runs past midnight.
    """
    local = now.astimezone(TIMEZONE)
    t = local.time()
    today = local.weekday()
    for start, end in _blocks_on(f, today):
        if end is None or end > start:
            if start <= t and (end is None or t < end):
                return True
        elif t >= start:  # overnight block, evening part
            return True
    yesterday = (today - 1) % 7
    return any(end is not None and end < start and t < end for start, end in _blocks_on(f, yesterday))


def next_opening(f: Flavour, now: datetime) -> datetime | None:
    """The next moment the chat opens (aware, Europe/Amsterdam), or None without hours."""
    if not f.chat.opening_hours:
        return None
    local = now.astimezone(TIMEZONE)
    for offset in range(8):
        day = local.date() + timedelta(days=offset)
        starts = sorted(start for start, _ in _blocks_on(f, day.weekday()))
        for start in starts:
            candidate = datetime.combine(day, start, tzinfo=TIMEZONE)
            if candidate > local:
                return candidate
    return None
