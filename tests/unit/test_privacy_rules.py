"""The pure rules of erasure (chatserver.domain.privacy): tombstones, live changes, quotes, exports."""

from __future__ import annotations

from datetime import UTC, datetime

from chatserver.domain.privacy import (
    DELETED_ID,
    ErasureResult,
    QuoteRewrite,
    jsonable,
    name_pattern,
    own_reports,
    tombstone,
)
from chatserver.protocol.events import MessageDeleted, MessageEdited

ROOM = "room:psychosenet:naasten"


def _event(kind: str = "message", **data: object) -> dict[str, object]:
    return {"_id": "e1", "channel": ROOM, "offset": 7, "kind": kind, "data": {"text": "hallo", **data}}


def test_a_removed_message_loses_its_words_and_is_deleted_live() -> None:
    changes, change = tombstone(_event(), keep=False)
    assert changes["sender"] == DELETED_ID and changes["pseudonym"] == "verwijderd account"
    assert changes["data.text"] == "" and changes["data.deleted"] is True
    assert changes["client_msg_id"] == "erased-7"  # unique per channel, as the index needs
    assert change == (ROOM, MessageDeleted(offset=7))


def test_a_kept_message_keeps_its_words_and_is_renamed_live() -> None:
    changes, change = tombstone(_event(), keep=True)
    assert "data.text" not in changes and "data.deleted" not in changes
    assert change == (ROOM, MessageEdited(offset=7, text="hallo", sender="verwijderd account"))


def test_a_deleted_message_or_another_kind_changes_without_a_live_event() -> None:
    assert tombstone(_event(deleted=True), keep=False)[1] is None
    changes, change = tombstone(_event(kind="system"), keep=False)
    assert change is None and changes["data.text"] == "" and "data.deleted" not in changes


def test_the_name_is_replaced_as_a_whole_word_only() -> None:
    name = name_pattern("Anna")
    assert name.sub("X", "Anna schreef, Annabel niet") == "X schreef, Annabel niet"


def test_a_quote_is_renamed_when_posts_stay_and_emptied_when_they_go() -> None:
    text = "> **Anna** schreef:\n> mijn geheim\n\nMijn antwoord"
    assert QuoteRewrite("Anna", keep=True).apply(text).startswith("> **verwijderd account** schreef:\n> mijn geheim")
    removed = QuoteRewrite("Anna", keep=False).apply(text)
    assert "mijn geheim" not in removed and "Anna" not in removed
    assert removed.startswith("> **verwijderd account** schreef:\n>\n> (verwijderd)\n") and "Mijn antwoord" in removed


def test_an_export_shows_only_the_accounts_own_reports() -> None:
    doc = {"_id": "i1", "reports": [{"reporter_id": "a", "reason": "spam"}, {"reporter_id": "b", "reason": "x"}]}
    assert own_reports(doc, "a") == {"_id": "i1", "reports": [{"reason": "spam"}]}


def test_exported_values_are_json_ready() -> None:
    at = datetime(2030, 1, 2, 3, 4, tzinfo=UTC)
    assert jsonable({"at": at, "tags": {"x"}, "n": 1, "other": object}) == {
        "at": "2030-01-02T03:04:00+00:00",
        "tags": ["x"],
        "n": 1,
        "other": str(object),
    }


def test_the_result_counts_only_what_changed() -> None:
    result = ErasureResult()
    result.count(result.removed, "forum_posts", 0)
    result.count(result.removed, "forum_posts", 2)
    result.count(result.removed, "forum_posts", 1)
    assert result.removed == {"forum_posts": 3}
