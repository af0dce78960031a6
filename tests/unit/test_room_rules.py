"""Pure rules of group chat rooms: the room form an admin fills in and what a stored message looks like."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from chatserver.domain import rooms as rules
from chatserver.domain.identity import AccountId, Actor
from chatserver.services.chat import clean_text

T0 = datetime(2026, 3, 2, 12, 0, tzinfo=UTC)
FORM = {"slug": "nieuws", "name": "Nieuws", "description": "Van het team", "mode": "announcements", "slow_mode_s": ""}


def test_a_good_form_makes_a_room() -> None:
    room = rules.room_from_form(FORM, clean_text)
    assert (room.slug, room.name, room.mode, room.slow_mode_s) == ("nieuws", "Nieuws", "announcements", 0)


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"slug": "gesprek"}, "slug"),
        ({"slug": "Met Spaties"}, "slug"),
        ({"name": ""}, "name"),
        ({"name": "x" * 61}, "name"),
        ({"description": "x" * 301}, "description"),
        ({"mode": "open"}, "mode"),
        ({"slow_mode_s": "3601"}, "slow_mode_s"),
        ({"slow_mode_s": "tien"}, "slow_mode_s"),
    ],
)
def test_a_wrong_field_is_named(change: dict[str, str], field: str) -> None:
    with pytest.raises(rules.InvalidRoom) as refused:
        rules.room_from_form({**FORM, **change}, clean_text)
    assert refused.value.field == field and refused.value.detail


def test_own_messages_are_editable_for_five_minutes_and_removed_ones_show_no_text() -> None:
    alice = Actor(AccountId("a1"), "Alice", "member")
    doc = {"offset": 7, "sender": "a1", "pseudonym": "Alice", "role": "", "ts": T0, "data": {"text": "hoi"}}
    view = rules.message_view(doc, alice, T0 + timedelta(minutes=4))
    assert view.own and view.editable and view.text == "hoi"
    assert not rules.message_view(doc, alice, T0 + timedelta(minutes=5)).editable
    assert not rules.message_view(doc, None, T0).editable
    gone = rules.message_view({**doc, "data": {"text": "hoi", "deleted": True}}, alice, T0)
    assert gone.deleted and gone.text == "" and not gone.editable
    staff = rules.message_view({**doc, "role": "Professional"}, None, T0)
    assert staff.role == "professional" and staff.role_label == "Professional"


def test_stored_times_may_be_naive_or_milliseconds() -> None:
    assert rules.aware(datetime(2026, 3, 2, 12, 0)) == T0
    assert rules.aware(int(T0.timestamp() * 1000)) == T0
