"""Pure rules of the forum: search words without a text index, quotes, pages, who may read and edit, ranking."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

from chatserver.domain import forum as rules
from chatserver.domain.identity import AccountId, Actor

T0 = datetime(2026, 3, 2, 12, 0, tzinfo=UTC)
AUTHOR = Actor(AccountId("a1"), "Merel", "member", validated=True)
OTHER = Actor(AccountId("a2"), "Vlinder", "member", validated=True)
STAFF = Actor(AccountId("s1"), "Team", "staff", role="volunteer", flavours=frozenset({"psychosenet"}))


def test_search_words_are_folded_without_stop_words_and_unique() -> None:
    assert rules.fold("Één café") == "een cafe"
    assert rules.search_terms("Het CAFÉ en de crèche, het café!") == ["cafe", "creche"]
    assert rules.search_terms("a b ik je") == []


def test_text_is_cleaned_and_a_title_kept_on_one_line() -> None:
    assert rules.clean_text("  hoi\r\n\u200bdaar\x00 ", 100) == "hoi\ndaar"
    assert rules.clean_title("  Een   titel\nop twee regels ") == "Een titel op twee regels"


def test_a_quote_names_the_author_and_quotes_every_line() -> None:
    post = {"author_pseudonym": "Merel", "body": "Eerste\n\nDerde"}
    assert rules.quote_of(post) == "> **Merel** schreef:\n>\n> Eerste\n>\n> Derde\n\n"


def test_pages_of_twenty() -> None:
    assert [rules.pages_for(n) for n in (0, 20, 21)] == [1, 1, 2]
    assert [rules.page_of(n) for n in (0, 19, 20)] == [1, 1, 2]


def test_a_held_post_is_for_its_author_and_staff_and_an_author_edits_while_the_thread_is_open() -> None:
    held = {"status": "held", "author_id": "a1"}
    assert rules.readable(AUTHOR, "psychosenet", held) and rules.readable(STAFF, "psychosenet", held)
    assert not rules.readable(OTHER, "psychosenet", held) and not rules.readable(None, "psychosenet", held)
    post = {"status": "visible", "author_id": "a1"}
    assert rules.can_edit(AUTHOR, "psychosenet", {"locked": False}, post)
    assert not rules.can_edit(AUTHOR, "psychosenet", {"locked": True}, post)
    assert rules.can_edit(STAFF, "psychosenet", {"locked": True}, post)
    assert not rules.can_edit(OTHER, "psychosenet", {}, post)
    assert not rules.can_edit(STAFF, "psychosenet", {}, {**post, "status": "hidden"})


def test_results_rank_by_matching_words_then_newest_and_skip_hidden_threads() -> None:
    def post(post_id: str, thread_id: str, words: list[str], hours_ago: int) -> dict[str, Any]:
        return {
            "_id": post_id,
            "thread_id": thread_id,
            "search_terms": words,
            "created_at": T0 - timedelta(hours=hours_ago),
        }

    threads = {
        "t1": {"status": "visible", "category": "ervaringen"},
        "t2": {"status": "held", "category": "ervaringen"},
        "t3": {"status": "visible", "category": "weg"},
    }
    candidates = [
        post("p1", "t1", ["slapen"], 1),
        post("p2", "t1", ["slapen", "muziek"], 5),
        post("p3", "t2", ["slapen", "muziek"], 0),
        post("p4", "t3", ["slapen", "muziek"], 0),
        post("p5", "t1", ["muziek"], 0),
    ]
    results = rules.rank(candidates, threads, ["slapen", "muziek"], lambda category: category != "weg")
    assert [(r["post"]["_id"], r["matches"], r["all"]) for r in results] == [
        ("p2", 2, True),
        ("p5", 1, False),
        ("p1", 1, False),
    ]
