"""What the features' events count as in the Reflectietafel's catalogue (page kinds, moderation sources and
outcomes, VraagBaak routes, detector versions), and a group commit's messages counted once per batch."""

from __future__ import annotations

import asyncio
from typing import Any, get_args

import pytest

from chatserver.domain.identity import AccountId, Actor
from chatserver.domain.reflectie import (
    CATALOGUE,
    MODERATION_OUTCOME_OF,
    MODERATION_SOURCE_OF,
    OTHER_VARIANT,
    VARIANT_SHAPE,
    check_variant,
    open_variant,
    page_kind,
    vraagbaak_route,
)
from chatserver.services.chat import ChatService, _Pending
from moderation.crisis import DETECTOR_VERSION
from moderation.queue import DecisionKind, ItemSource


@pytest.mark.parametrize(
    ("rest", "kind"),
    [
        ("", "start"),
        ("chat/", "chat"),
        ("chat/stemmen-horen/", "chat"),
        ("chat/gesprek/", "gesprek"),
        ("chat/gesprek/abc123", "gesprek"),
        ("forum/t/0123456789abcdef", "forum"),
        ("spreekuur/", "spreekuur"),
        ("artikelen/wat-is-een-psychose", "artikelen"),
        ("vraagbaak/", "vraagbaak"),
        ("markt/rustpunt-app", "markt"),
        ("hulp", "hulp"),
        ("cijfers/", "cijfers"),
        ("privacy", None),
        ("melden", None),
        ("start", None),
        ("gesprek/", None),
    ],
)
def test_a_flavour_path_is_counted_as_its_page_kind(rest: str, kind: str | None) -> None:
    assert page_kind(rest) == kind
    if kind is not None:
        assert check_variant(CATALOGUE["visit"], kind) == kind


def test_every_moderation_source_and_decision_counts_as_a_sub_kind_of_the_catalogue() -> None:
    assert set(MODERATION_SOURCE_OF) == set(get_args(ItemSource))
    assert set(MODERATION_OUTCOME_OF) == set(get_args(DecisionKind))
    assert set(MODERATION_SOURCE_OF.values()) <= set(CATALOGUE["moderation.item"].variants)
    assert set(MODERATION_OUTCOME_OF.values()) == set(CATALOGUE["moderation.decision"].variants)


def test_a_detector_version_becomes_a_short_open_sub_kind() -> None:
    token = open_variant(DETECTOR_VERSION)
    assert VARIANT_SHAPE.match(token) and token != OTHER_VARIANT
    assert open_variant("rules-2+lr-fbbb9204") == "rules-2.lr-fbbb9204"
    assert open_variant("onbekend") == "onbekend"
    assert open_variant("+++") == OTHER_VARIANT
    assert len(open_variant("v" * 40)) == 24


@pytest.mark.parametrize(
    ("link", "route"),
    [
        ("/f/psychosenet/forum/t/0123456789abcdef", "forum"),
        ("/f/psychosenet/spreekuur/abc/", "spreekuur"),
        ("/f/psychosenet/chat/gesprek/", "chat"),
        ("/f/psychosenet/artikelen/slapen?x=1", "elders"),
        ("https://www.113.nl/", "elders"),
        ("/vraagbaak/", "elders"),
    ],
)
def test_a_routed_vraagbaak_question_counts_where_its_link_goes(link: str, route: str) -> None:
    assert vraagbaak_route(link) == route
    assert check_variant(CATALOGUE["vraagbaak.routed"], route) == route


class _Port:
    """Ports that accept a batch and do nothing else."""

    unavailable_errors: tuple[type[Exception], ...] = (OSError,)

    async def reserve_many(self, counts: dict[str, int]) -> dict[str, tuple[str, int]]:
        return dict.fromkeys(counts, ("e1", 1))

    async def insert_batch(self, docs: list[dict[str, Any]]) -> None:
        return None

    async def publish_many(self, items: list[tuple[str, bytes]]) -> None:
        return None


class _Tally:
    def __init__(self) -> None:
        self.calls: list[tuple[str, str, str | None, int]] = []

    def count(self, metric: str, flavour: str, *, variant: str | None = None, times: int = 1, **_: Any) -> None:
        self.calls.append((metric, flavour, variant, times))


async def test_a_group_commit_counts_its_messages_once_per_flavour_and_channel_kind() -> None:
    tally = _Tally()
    chat = ChatService(_Port(), _Port(), _Port(), _Port(), None, None, str, counter=tally)  # type: ignore[arg-type]
    author = Actor(account_id=AccountId("a1"), pseudonym="Anouk", kind="member")
    loop = asyncio.get_running_loop()
    channels = ["room:psychosenet:welkom"] * 3 + ["room:psychosenet:avond"] * 2 + ["chat:psychosenet:c1"]
    batch = [
        _Pending(author, ch, f"m{i}", "message", {"text": "hoi"}, loop.create_future()) for i, ch in enumerate(channels)
    ]
    batch.append(_Pending(None, "room:psychosenet:welkom", None, "system", {"text": "Welkom"}, loop.create_future()))
    batch.append(_Pending(author, "room:dwang:welkom", "m9", "message", {"text": "hoi"}, loop.create_future()))
    await chat._commit(batch)
    assert all(p.future.done() and not p.future.exception() for p in batch)
    assert sorted(tally.calls) == [
        ("message", "dwang", "room", 1),
        ("message", "psychosenet", "chat", 1),
        ("message", "psychosenet", "room", 5),  # one count for the batch, not one per message or per delivery
    ]
