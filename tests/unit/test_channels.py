"""The one authorisation rule, per channel kind, role and room mode."""

from __future__ import annotations

import pytest

from chatserver.config import PROJECT_ROOT
from chatserver.domain.channels import (
    ChannelFacts,
    ChannelKind,
    ChannelResolvers,
    authorise,
    check_channel,
    parse_channel,
)
from chatserver.domain.identity import AccountId, Actor
from chatserver.flavours import load_catalog

CATALOG = load_catalog(PROJECT_ROOT / "flavours")
GUEST = Actor(AccountId("g1"), "gast", "guest")
MEMBER = Actor(AccountId("m1"), "lid", "member")
STAFF = Actor(AccountId("s1"), "team", "staff", role="volunteer", flavours=frozenset({"psychosenet"}))
OTHER_STAFF = Actor(AccountId("s2"), "ander", "staff", role="volunteer", flavours=frozenset({"proud2bme"}))
ADMIN = Actor(AccountId("a1"), "beheer", "staff", role="admin")


def decide(actor: Actor, name: str, action: str, facts: ChannelFacts | None = None) -> bool:
    ref = parse_channel(name)
    assert ref is not None, name
    return authorise(actor, ref, action, CATALOG, facts).allowed  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("actor", "name", "action", "allowed"),
    [
        (GUEST, "room:psychosenet:welkom", "subscribe", True),
        (GUEST, "room:psychosenet:welkom", "publish", True),
        (GUEST, "room:psychosenet:stemmen-horen", "subscribe", False),
        (MEMBER, "room:psychosenet:stemmen-horen", "publish", True),
        (MEMBER, "room:psychosenet:intervisie", "subscribe", False),
        (STAFF, "room:psychosenet:intervisie", "publish", True),
        (OTHER_STAFF, "room:psychosenet:intervisie", "subscribe", False),
        (ADMIN, "room:psychosenet:intervisie", "subscribe", True),
        (MEMBER, "room:psychosenet:herstelcafe", "publish", False),
        (STAFF, "room:psychosenet:herstelcafe", "publish", True),
        (MEMBER, "room:psychosenet:bestaat-niet", "subscribe", False),
        (MEMBER, "room:geen-flavour:welkom", "subscribe", False),
        (MEMBER, "user:m1", "subscribe", True),
        (MEMBER, "user:m2", "subscribe", False),
        (MEMBER, "user:m1", "publish", False),
        (STAFF, "queue:psychosenet", "subscribe", True),
        (STAFF, "queue:psychosenet", "publish", False),
        (MEMBER, "queue:psychosenet", "subscribe", False),
        (OTHER_STAFF, "mod:psychosenet", "subscribe", False),
        (STAFF, "mod:psychosenet", "publish", True),
    ],
)
def test_rules(actor: Actor, name: str, action: str, allowed: bool) -> None:
    assert decide(actor, name, action) is allowed


def test_hosted_room_opens_for_members_when_facts_say_open() -> None:
    assert decide(MEMBER, "room:psychosenet:herstelcafe", "publish", ChannelFacts(open=True))


def test_chat_only_for_participants() -> None:
    facts = ChannelFacts(participants=frozenset({"m1", "s1"}))
    assert decide(MEMBER, "chat:psychosenet:c1", "publish", facts)
    assert not decide(GUEST, "chat:psychosenet:c1", "subscribe", facts)
    assert not decide(MEMBER, "chat:psychosenet:c1", "subscribe")


@pytest.mark.parametrize("name", ["", "room:", "room:Psychosenet:welkom", "room:a:b:c", "user:", "x:y", "room:a"])
def test_malformed_names_do_not_parse(name: str) -> None:
    assert parse_channel(name) is None


async def test_resolver_registry_supplies_facts() -> None:
    resolvers = ChannelResolvers()

    async def participants(actor: Actor, ref: object) -> ChannelFacts:
        return ChannelFacts(participants=frozenset({"m1"}))

    resolvers.register(ChannelKind.CHAT, participants)
    assert await check_channel(MEMBER, "chat:psychosenet:c9", "subscribe", CATALOG, resolvers)
    assert not await check_channel(GUEST, "chat:psychosenet:c9", "subscribe", CATALOG, resolvers)
    with pytest.raises(ValueError):
        resolvers.register(ChannelKind.CHAT, participants)


# --- forum threads: readers subscribe when the forum feature vouches for the thread; only the server publishes ---


@pytest.mark.parametrize("actor", [GUEST, MEMBER, STAFF, OTHER_STAFF, ADMIN])
def test_thread_channel_readers_subscribe_when_thread_exists(actor: Actor) -> None:
    assert decide(actor, "thread:psychosenet:t1abc", "subscribe", ChannelFacts(exists=True)) is True


@pytest.mark.parametrize("actor", [GUEST, MEMBER, STAFF, ADMIN])
def test_thread_channel_is_server_publish_only(actor: Actor) -> None:
    assert decide(actor, "thread:psychosenet:t1abc", "publish", ChannelFacts(exists=True)) is False


def test_thread_channel_unknown_thread_is_denied_without_resolver() -> None:
    assert decide(MEMBER, "thread:psychosenet:t1abc", "subscribe") is False


def test_thread_channel_of_unknown_flavour_is_denied() -> None:
    assert decide(MEMBER, "thread:geen-flavour:t1abc", "subscribe", ChannelFacts(exists=True)) is False


def test_thread_channel_name_parses() -> None:
    ref = parse_channel("thread:psychosenet:t1abc")
    assert ref is not None
    assert (ref.kind, ref.flavour, ref.ident) == (ChannelKind.THREAD, "psychosenet", "t1abc")
    assert parse_channel("thread:psychosenet:") is None
    assert parse_channel("thread:psychosenet:a:b") is None


def test_a_full_spreekuur_refuses_visitors_but_not_staff() -> None:
    ref = parse_channel("spreekuur:psychosenet:abc123")
    assert ref is not None
    full = ChannelFacts(exists=True, full=True)
    for visitor in (GUEST, MEMBER):
        decision = authorise(visitor, ref, "subscribe", CATALOG, full)
        assert not decision.allowed and decision.rule == "spreekuur-full"
        assert authorise(visitor, ref, "subscribe", CATALOG, ChannelFacts(exists=True)).allowed
    for member_of_staff in (STAFF, OTHER_STAFF, ADMIN):
        assert authorise(member_of_staff, ref, "subscribe", CATALOG, full).allowed
    assert not authorise(MEMBER, ref, "subscribe", CATALOG, ChannelFacts(exists=False, full=False)).allowed


async def test_missing_wiring_fails_at_start_up_and_denies_meanwhile() -> None:
    resolvers = ChannelResolvers()

    async def facts(actor: Actor, ref: object) -> ChannelFacts:
        return ChannelFacts()

    for kind in (ChannelKind.ROOM, ChannelKind.CHAT, ChannelKind.SPREEKUUR):
        resolvers.register(kind, facts)
    with pytest.raises(RuntimeError, match="thread"):
        resolvers.require()
    # A thread nobody vouches for does not exist; a room with its resolver does; user channels need none.
    assert not await check_channel(MEMBER, "thread:psychosenet:t1abc", "subscribe", CATALOG, resolvers)
    assert await check_channel(MEMBER, "room:psychosenet:welkom", "subscribe", CATALOG, resolvers)
    resolvers.register(ChannelKind.THREAD, facts)
    resolvers.require()
