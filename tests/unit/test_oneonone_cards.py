"""The tool card of a 1-on-1 chat without servers: its one line of summary, what it carries, the transcript line,
and the refusals that come before anything is emitted (the publish budget, an entry the market does not show)."""

from __future__ import annotations

from datetime import UTC, datetime
from types import SimpleNamespace
from typing import Any

import pytest

from chatserver.domain import oneonone as rules
from chatserver.domain.identity import AccountId, Actor
from chatserver.protocol.events import ChatToolCard, event_data
from chatserver.services.markt.errors import not_found
from chatserver.services.oneonone import OneOnOneError
from chatserver.services.oneonone.cards import MAX_CARD_SUMMARY, ToolCards, card_of, one_line

VERA = Actor(account_id=AccountId("a1"), pseudonym="Vera", kind="staff", role="volunteer",
             flavours=frozenset({"psychosenet"}), validated=True, verified=True)  # fmt: skip
ENTRY = {"_id": "e1", "slug": "rustpunt-app", "kind": "app", "title": "Rustpunt",
         "summary": "Korte   oefeningen\nvoor onrustige avonden."}  # fmt: skip
CHAT = {"_id": "c1", "flavour": "psychosenet", "channel": "chat:psychosenet:c1"}


def test_the_summary_is_one_line_cut_at_a_word() -> None:
    assert one_line(" Korte   oefeningen\nvoor avonden. ") == "Korte oefeningen voor avonden."
    long = "woord " * 80
    cut = one_line(long)
    assert len(cut) <= MAX_CARD_SUMMARY and cut.endswith("woord…")


def test_the_card_carries_the_entry_and_its_stable_path_and_who_sent_it() -> None:
    assert card_of(ENTRY, "psychosenet", VERA) == ChatToolCard(
        entry="rustpunt-app", title="Rustpunt", kind="app", kind_label="App",
        summary="Korte oefeningen voor onrustige avonden.", url="/f/psychosenet/markt/rustpunt-app",
        staff="Vera", role="Vrijwilliger",
    )  # fmt: skip


def test_the_transcript_lists_a_card_with_its_full_address() -> None:
    at = datetime(2026, 3, 4, 19, 5, tzinfo=UTC)
    doc = {"requested_at": at}
    events = [{"kind": "chat", "ts": at, "data": event_data(card_of(ENTRY, "psychosenet", VERA))}]
    text = rules.transcript("PsychoseNet", doc, events, "https://psychosenet.example")
    assert text.splitlines()[-1] == (
        "[20:05] Vera (Vrijwilliger) raadt aan: Rustpunt (App) – Korte oefeningen voor onrustige avonden. "
        "https://psychosenet.example/f/psychosenet/markt/rustpunt-app"
    )


class _Steps:
    def __init__(self) -> None:
        self.sent: list[Any] = []
        self.counted: list[tuple[str, str, str | None, str]] = []

    def count(self, entry_id: str, flavour: str, region: str | None, metric: str, n: int = 1) -> None:
        self.counted.append((entry_id, flavour, region, metric))

    async def step(self, doc: Any, event: Any) -> None:
        self.sent.append((doc["channel"], event))


def _cards(wait_ms: int, entry: Any) -> tuple[ToolCards, _Steps]:
    async def active_of(actor: Actor, chat_id: str) -> Any:
        return CHAT

    async def published(flavour: str, slug: str) -> Any:
        if entry is None:
            raise not_found()
        return entry

    async def retry_after_ms(account_id: str) -> int:
        return wait_ms

    steps = _Steps()
    market = SimpleNamespace(catalogue=SimpleNamespace(published=published), uptake=SimpleNamespace(count=steps.count))
    catalog = SimpleNamespace(get=lambda slug: SimpleNamespace(name="PsychoseNet"))
    limiter = SimpleNamespace(retry_after_ms=retry_after_ms)
    cards = ToolCards(SimpleNamespace(active_of=active_of), steps, market, limiter, catalog)  # type: ignore[arg-type]
    return cards, steps


async def test_a_card_past_the_publish_budget_is_refused_and_nothing_is_sent() -> None:
    cards, steps = _cards(wait_ms=250, entry=ENTRY)
    with pytest.raises(OneOnOneError) as refused:
        await cards.send(VERA, "c1", "rustpunt-app")
    assert refused.value.status == 429 and steps.sent == [] and steps.counted == []
    allowed, steps = _cards(wait_ms=0, entry=ENTRY)
    await allowed.send(VERA, "c1", "rustpunt-app")
    assert steps.sent == [("chat:psychosenet:c1", card_of(ENTRY, "psychosenet", VERA))]
    assert steps.counted == [(str(ENTRY["_id"]), "psychosenet", None, "card")]  # uptake, nothing of the visitor


async def test_an_entry_the_market_does_not_show_here_is_refused_in_dutch() -> None:
    cards, steps = _cards(wait_ms=0, entry=None)
    with pytest.raises(OneOnOneError) as refused:
        await cards.send(VERA, "c1", "nog-in-concept")
    assert refused.value.status == 422 and "VitaliteitsMarkt van PsychoseNet" in refused.value.detail
    assert steps.sent == []
