"""The pure content rules: slugs, text cleaning, who edits what, the workflow table and the second reviewer."""

from __future__ import annotations

import pytest

from chatserver.domain.content import (
    MAX_SLUG_CHARS,
    TRANSITIONS,
    allowed_actions,
    clean_text,
    in_scope,
    involved_in,
    is_editor,
    last_editor,
    needs_second_reviewer,
    slugify,
    target_of,
)
from chatserver.domain.identity import AccountId, Actor

EDITOR = Actor(AccountId("e1"), "redactie", "staff", role="editor", flavours=frozenset({"psychosenet", "trauma"}))
VOLUNTEER = Actor(AccountId("v1"), "vrijwilliger", "staff", role="volunteer", flavours=frozenset({"psychosenet"}))
ADMIN = Actor(AccountId("a1"), "beheer", "staff", role="admin")


@pytest.mark.parametrize(
    ("title", "slug"),
    [
        ("Wat is een psychose?", "wat-is-een-psychose"),
        ("Héél   véél -- vragen!", "heel-veel-vragen"),
        ("???", "stuk"),
        ("a" * 100, "a" * MAX_SLUG_CHARS),
    ],
)
def test_slugs_are_ascii_words_joined_by_hyphens(title: str, slug: str) -> None:
    assert slugify(title) == slug


def test_clean_text_keeps_newlines_and_tabs_and_drops_control_characters() -> None:
    assert clean_text("  Titel\r\n\tregel\x07  ", 100) == "Titel\n\tregel"
    assert clean_text("abcdef", 4) == "abcd"


def test_editors_act_only_where_every_target_is_theirs() -> None:
    assert is_editor(EDITOR) and is_editor(ADMIN)
    assert not is_editor(VOLUNTEER) and not is_editor(None)
    assert in_scope(EDITOR, ["psychosenet", "trauma"])
    assert not in_scope(EDITOR, ["psychosenet", "proud2bme"])
    assert in_scope(ADMIN, ["proud2bme"])


def test_the_workflow_table_never_leads_a_state_to_itself() -> None:
    for action, (sources, target) in TRANSITIONS.items():
        assert target not in sources, action
    assert target_of("draft", "publish") == "published"
    assert target_of("published", "publish") is None
    assert target_of("draft", "no-such-action") is None
    assert allowed_actions("in_review") == ("publish", "archive", "reject", "draft")


def test_the_second_reviewer_is_neither_the_submitter_nor_the_last_editor() -> None:
    doc = {"author_id": "e1", "updated_by_id": "e2", "submitted_by_id": "e3"}
    assert last_editor(doc) == "e2"
    assert last_editor({"author_id": "e1"}) == "e1"
    assert involved_in("e3", last_editor(doc)) == {"e2", "e3"}
    assert needs_second_reviewer(["psychosenet", "trauma"], ["trauma"])
    assert not needs_second_reviewer(["psychosenet"], ["trauma"])
