"""Live channel names per flavour and purpose, and the one rule deciding who may subscribe or publish.

Names: ``room:<flavour>:<room>``, ``chat:<flavour>:<chat_id>`` (1-on-1),
``queue:<flavour>``, ``mod:<flavour>``, ``spreekuur:<flavour>:<id>``,
``user:<account_id>``, ``thread:<flavour>:<thread_id>`` (a forum thread).
:func:`authorise` is pure; facts only the database knows (who takes part in a
1-on-1 chat, whether a hosted room is open, whether a thread is readable, whether
a live spreekuur has a seat for this visitor) come from a resolver per channel
kind, registered in :class:`ChannelResolvers` by the feature that owns them.
"""

from __future__ import annotations

import re
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Literal

from chatserver.domain.identity import Actor
from chatserver.flavours import FlavourCatalog, Room

Action = Literal["subscribe", "publish"]

_SLUG = r"[a-z0-9](?:[a-z0-9-]{0,38}[a-z0-9])?"
_ID = r"[A-Za-z0-9_-]{1,64}"
_PATTERNS: dict[str, re.Pattern[str]] = {
    "room": re.compile(rf"^room:({_SLUG}):({_SLUG})$"),
    "chat": re.compile(rf"^chat:({_SLUG}):({_ID})$"),
    "queue": re.compile(rf"^queue:({_SLUG})$"),
    "mod": re.compile(rf"^mod:({_SLUG})$"),
    "spreekuur": re.compile(rf"^spreekuur:({_SLUG}):({_ID})$"),
    "user": re.compile(rf"^user:({_ID})$"),
    "thread": re.compile(rf"^thread:({_SLUG}):({_ID})$"),
}


class ChannelKind(StrEnum):
    ROOM = "room"
    CHAT = "chat"
    QUEUE = "queue"
    MOD = "mod"
    SPREEKUUR = "spreekuur"
    USER = "user"
    THREAD = "thread"


@dataclass(frozen=True, slots=True)
class ChannelRef:
    """A parsed channel name."""

    kind: ChannelKind
    flavour: str
    ident: str
    name: str


def room_channel(flavour: str, room: str) -> str:
    return f"room:{flavour}:{room}"


def chat_channel(flavour: str, chat_id: str) -> str:
    return f"chat:{flavour}:{chat_id}"


def queue_channel(flavour: str) -> str:
    return f"queue:{flavour}"


def mod_channel(flavour: str) -> str:
    return f"mod:{flavour}"


def spreekuur_channel(flavour: str, spreekuur_id: str) -> str:
    return f"spreekuur:{flavour}:{spreekuur_id}"


def user_channel(account_id: str) -> str:
    return f"user:{account_id}"


def thread_channel(flavour: str, thread_id: str) -> str:
    return f"thread:{flavour}:{thread_id}"


def parse_channel(name: str) -> ChannelRef | None:
    """The parts of a well-formed channel name, or None."""
    kind, sep, _ = name.partition(":")
    pattern = _PATTERNS.get(kind)
    if not sep or pattern is None:
        return None
    match = pattern.match(name)
    if match is None:
        return None
    groups = match.groups()
    if kind == "user":
        return ChannelRef(ChannelKind.USER, "", groups[0], name)
    return ChannelRef(ChannelKind(kind), groups[0], groups[1] if len(groups) > 1 else "", name)


@dataclass(frozen=True, slots=True)
class ChannelFacts:
    """What the database knows about a channel; given by a resolver."""

    participants: frozenset[str] = frozenset()
    open: bool = False
    exists: bool = True
    room: Room | None = None  # a room created by an admin (not in the flavour file)
    full: bool = False  # a live spreekuur without a free seat for this (non-staff) actor


@dataclass(frozen=True, slots=True)
class Decision:
    allowed: bool
    rule: str

    def __bool__(self) -> bool:
        return self.allowed


def _allow(rule: str) -> Decision:
    return Decision(True, rule)


def _deny(rule: str) -> Decision:
    return Decision(False, rule)


def _room(actor: Actor, ref: ChannelRef, action: Action, catalog: FlavourCatalog, facts: ChannelFacts) -> Decision:
    flavour = catalog.get(ref.flavour)
    room = (flavour.room(ref.ident) or facts.room) if flavour else None
    if flavour is None or room is None:
        return _deny("room-unknown")
    staff = actor.staff_in(flavour.slug)
    if room.mode == "staff":
        return _allow("room-staff") if staff else _deny("room-staff-only")
    if room.mode == "members" and not actor.is_member:
        return _deny("room-members-only")
    if action == "subscribe":
        return _allow(f"room-{room.mode}")
    if staff:
        return _allow("room-staff-publish")
    if room.mode == "announcements":
        return _deny("room-announcements-staff-publish")
    if room.mode == "hosted" and not facts.open:
        return _deny("room-hosted-closed")
    if flavour.validation.room_chat and not actor.validated:
        return _deny("room-needs-validation")
    return _allow(f"room-{room.mode}-publish")


Rule = Callable[["Actor", ChannelRef, Action, FlavourCatalog, ChannelFacts], Decision]


def authorise(
    actor: Actor, ref: ChannelRef, action: Action, catalog: FlavourCatalog, facts: ChannelFacts | None = None
) -> Decision:
    """Whether ``actor`` may ``action`` on channel ``ref``. A denial never says whether the channel exists."""
    facts = facts or ChannelFacts(exists=False)
    if ref.kind is not ChannelKind.USER and catalog.get(ref.flavour) is None:
        return _deny("flavour-unknown")
    return _RULES[ref.kind](actor, ref, action, catalog, facts)


def _user(actor: Actor, ref: ChannelRef, action: Action, catalog: FlavourCatalog, facts: ChannelFacts) -> Decision:
    if action == "publish":
        return _deny("user-server-only")
    return _allow("user-own") if ref.ident == actor.account_id else _deny("user-other")


def _queue(actor: Actor, ref: ChannelRef, action: Action, catalog: FlavourCatalog, facts: ChannelFacts) -> Decision:
    if action == "publish":
        return _deny("queue-server-only")
    return _allow("queue-staff") if actor.staff_in(ref.flavour) else _deny("queue-staff-only")


def _mod(actor: Actor, ref: ChannelRef, action: Action, catalog: FlavourCatalog, facts: ChannelFacts) -> Decision:
    return _allow("mod-staff") if actor.staff_in(ref.flavour) else _deny("mod-staff-only")


def _chat(actor: Actor, ref: ChannelRef, action: Action, catalog: FlavourCatalog, facts: ChannelFacts) -> Decision:
    if not facts.exists:
        return _deny("chat-unknown")
    return _allow("chat-participant") if actor.account_id in facts.participants else _deny("chat-not-participant")


def _thread(actor: Actor, ref: ChannelRef, action: Action, catalog: FlavourCatalog, facts: ChannelFacts) -> Decision:
    if action == "publish":
        return _deny("thread-server-only")
    return _allow("thread-reader") if facts.exists else _deny("thread-unknown")


def _spreekuur(actor: Actor, ref: ChannelRef, action: Action, catalog: FlavourCatalog, facts: ChannelFacts) -> Decision:
    if not facts.exists:
        return _deny("spreekuur-unknown")
    if action == "subscribe":
        if facts.full and not actor.is_staff:
            return _deny("spreekuur-full")
        return _allow("spreekuur-audience")
    return _allow("spreekuur-host") if actor.staff_in(ref.flavour) else _deny("spreekuur-host-only")


_RULES: dict[ChannelKind, Rule] = {
    ChannelKind.USER: _user,
    ChannelKind.ROOM: _room,
    ChannelKind.QUEUE: _queue,
    ChannelKind.MOD: _mod,
    ChannelKind.CHAT: _chat,
    ChannelKind.THREAD: _thread,
    ChannelKind.SPREEKUUR: _spreekuur,
}


Resolver = Callable[[Actor, ChannelRef], Awaitable[ChannelFacts]]
# Called when an account's last live connection to a channel of that kind closes or unsubscribes.
LeaveHook = Callable[[Actor, ChannelRef], Awaitable[None]]


@dataclass
class ChannelResolvers:
    """Resolvers per channel kind. The kinds in :data:`RESOLVED_KINDS` must have one (checked at start-up by
    :meth:`require`, and a lookup without one fails closed); the others need no facts."""

    by_kind: dict[ChannelKind, Resolver] = field(default_factory=dict)
    on_last_leave: dict[ChannelKind, LeaveHook] = field(default_factory=dict)

    def register(self, kind: ChannelKind, resolver: Resolver) -> None:
        if kind in self.by_kind:
            raise ValueError(f"a resolver for {kind.value} channels is already registered")
        self.by_kind[kind] = resolver

    def watch_leaves(self, kind: ChannelKind, hook: LeaveHook) -> None:
        """Be told when an account's last live connection to a channel of ``kind`` goes (the gateway counts)."""
        if kind in self.on_last_leave:
            raise ValueError(f"a leave hook for {kind.value} channels is already registered")
        self.on_last_leave[kind] = hook

    def require(self) -> None:
        """Start-up check: every kind whose facts a feature must give has its resolver."""
        missing = sorted(kind.value for kind in RESOLVED_KINDS if kind not in self.by_kind)
        if missing:
            raise RuntimeError(f"no channel resolver wired for: {', '.join(missing)}")

    async def facts(self, actor: Actor, ref: ChannelRef) -> ChannelFacts:
        resolver = self.by_kind.get(ref.kind)
        if resolver is not None:
            return await resolver(actor, ref)
        if ref.kind in RESOLVED_KINDS:  # wiring that is missing denies; it never falls back to "exists"
            return ChannelFacts(exists=False)
        return ChannelFacts()


# Rooms, 1-on-1 chats, spreekuren and forum threads exist only when their feature vouches for them;
# queue, mod and user channels need no facts beyond the channel name.
RESOLVED_KINDS = frozenset({ChannelKind.ROOM, ChannelKind.CHAT, ChannelKind.SPREEKUUR, ChannelKind.THREAD})


async def check_channel(
    actor: Actor, name: str, action: Action, catalog: FlavourCatalog, resolvers: ChannelResolvers
) -> Decision:
    """Parse, resolve facts and authorise: what every entry point calls."""
    ref = parse_channel(name)
    if ref is None:
        return _deny("name-invalid")
    facts = await resolvers.facts(actor, ref)
    return authorise(actor, ref, action, catalog, facts)
