"""authorise uses the room a resolver supplies for rooms that are not in the flavour file (admin-created)."""

from __future__ import annotations

from chatserver.config import load_settings
from chatserver.domain.channels import ChannelFacts, authorise, parse_channel
from chatserver.domain.identity import AccountId, Actor
from chatserver.flavours import Room, load_catalog

CATALOG = load_catalog(load_settings({}).flavours_dir)
VISITOR = Actor(AccountId("v1"), "bezoeker", "guest")
REF = parse_channel("room:psychosenet:extra")


def test_unknown_room_without_facts_is_denied() -> None:
    assert REF is not None
    assert not authorise(VISITOR, REF, "subscribe", CATALOG, ChannelFacts())


def test_admin_room_from_facts_follows_its_mode() -> None:
    assert REF is not None
    guests = ChannelFacts(room=Room(slug="extra", name="Extra", description="", mode="guests"))
    members = ChannelFacts(room=Room(slug="extra", name="Extra", description="", mode="members"))
    assert authorise(VISITOR, REF, "publish", CATALOG, guests)
    assert not authorise(VISITOR, REF, "subscribe", CATALOG, members).allowed
