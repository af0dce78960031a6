"""What export and erasure do with an account's data, without touching storage.

A :class:`Place` says which documents belong to an account and what erasure does there (its treatment); the
:class:`PersonalDataMap` is the whole list with the few collections erasure treats by name. The list itself names
storage collections, so it lives beside the adapters (``chatserver.adapters.privacy_places``) and the composition
root hands it to the privacy service. The functions here are the rewriting rules: what an erased sender's event
becomes, what others' quotes of the account become, and what an export shows.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Literal

from chatserver.domain.accounts import DELETED_PSEUDONYM, iso
from chatserver.i18n import N_
from chatserver.protocol.events import MessageDeleted, MessageEdited

# What erasure does in a place:
#   account    the account document itself: replaced by a tombstone (IdentityService)
#   authored   content others read: deleted (posts=remove) or kept under "verwijderd account" (posts=keep)
#   private    only the account sees it: always deleted
#   retained   kept as it is on purpose (``why``); exported
#   events     live channel events: tombstones in place (offsets stay), a delete/edit event on the live channel
#   chats      1-on-1 transcripts: erased now unless under a safeguarding hold (then kept, and said so)
#   moderation queue items: the author's text and payload dropped, the decision stays
#   reports    the account's reports on queue items: removed from the item
Treatment = Literal["account", "authored", "private", "retained", "events", "chats", "moderation", "reports"]

DELETED_ID = "deleted"
# What a moderation item keeps of an erased author (the queue and its decision stay).
DELETED_AUTHOR: dict[str, Any] = {
    "account_id": DELETED_ID, "pseudonym": DELETED_PSEUDONYM, "kind": "deleted", "role": None, "flavours": [],
    "validated": False, "verified": False,
}  # fmt: skip
EXPORT_LIMIT = 10_000
LIVE_CHUNK = 200
HELD_REASON = N_(
    "Account gewist; dit gesprek staat onder bewaarplicht en blijft bewaard tot die is opgeheven. "
    "Daarna geldt de gewone bewaartermijn."
)

LiveChange = tuple[str, MessageEdited | MessageDeleted]
"""(channel, event): what open pages of a channel are told about an erased account's event."""


@dataclass(frozen=True, slots=True)
class Place:
    """Documents of ``collection`` belong to the account whose id is in ``field``."""

    collection: str
    field: str
    treatment: Treatment
    names: tuple[str, ...] = ()  # fields that show the pseudonym beside the content
    why: str = ""
    export: tuple[str, ...] = ()  # fields exported (empty: the whole document)


@dataclass(frozen=True, slots=True)
class PersonalDataMap:
    """Where an account's data lives: every place, and the collections and keys erasure treats by name."""

    places: tuple[Place, ...]
    events: str  # the stored channel events
    chats: str  # 1-on-1 chats (safeguarding holds)
    chat_audit: str  # what happened to a chat (an erasure under a hold is recorded here)
    notifications: str  # others' notifications may name the account
    posts: str  # others' forum posts may quote the account
    forum_revisions: str
    moderation_items: str
    spreekuur_questions: str
    channel_positions: str  # offset and epoch per channel (the account's own channel goes)
    reserved_pseudonyms: str  # keyed hashes of erased pseudonyms, reserved for a while
    redis_keys: tuple[str, ...] = ()  # key patterns naming the account (``{id}``), deleted
    redis_members: tuple[str, ...] = ()  # sets, sorted sets and hashes the account leaves

    def collections(self) -> frozenset[str]:
        return frozenset(p.collection for p in self.places)


@dataclass
class ErasureResult:
    """What erasure did: documents removed or pseudonymised per collection, and what it kept and why."""

    removed: dict[str, int] = field(default_factory=dict)
    pseudonymised: dict[str, int] = field(default_factory=dict)
    held_chats: list[str] = field(default_factory=list)
    live_events: int = 0

    def count(self, bucket: dict[str, int], collection: str, n: int) -> None:
        if n:
            bucket[collection] = bucket.get(collection, 0) + n


def tombstone(doc: dict[str, Any], keep: bool) -> tuple[dict[str, Any], LiveChange | None]:
    """The changes that make an erased sender's stored event a tombstone (its offset stays, so recovery never
    meets a hole), and what open pages are told: a rename when the words stay, a deletion when they go."""
    channel, offset = str(doc["channel"]), int(doc["offset"])
    kind = doc.get("kind", "message")
    data = doc.get("data") or {}
    changes: dict[str, Any] = {
        "sender": DELETED_ID,
        "pseudonym": DELETED_PSEUDONYM,
        "role": None,
        # unique per channel, as the (channel, sender, client_msg_id) index needs
        "client_msg_id": f"erased-{offset}",
    }
    if not keep and "text" in data:
        changes["data.text"] = ""
    if not keep and kind == "message":
        changes["data.deleted"] = True
    if kind != "message" or data.get("deleted"):
        return changes, None
    if keep:
        return changes, (channel, MessageEdited(offset=offset, text=data.get("text", ""), sender=DELETED_PSEUDONYM))
    return changes, (channel, MessageDeleted(offset=offset))


def renamed(doc: dict[str, Any]) -> LiveChange:
    """An event that quoted the account now shows "verwijderd account"."""
    return str(doc["channel"]), MessageEdited(offset=int(doc["offset"]), sender=DELETED_PSEUDONYM)


def name_pattern(pseudonym: str) -> re.Pattern[str]:
    """The name as a whole word: "Anna" is renamed, "Annabel" is left alone."""
    return re.compile(rf"(?<!\w){re.escape(pseudonym)}(?!\w)")


@dataclass(frozen=True, slots=True)
class QuoteRewrite:
    """Others' forum posts quote the account as ``> **Naam** schreef:`` and the quoted lines."""

    pseudonym: str
    keep: bool

    @property
    def header(self) -> str:
        return f"> **{self.pseudonym}** schreef:"

    def apply(self, text: str) -> str:
        """The name becomes "verwijderd account"; with the posts removed, the quoted words go too."""
        renamed_header = f"> **{DELETED_PSEUDONYM}** schreef:"
        if self.keep:
            return text.replace(self.header, renamed_header)
        block = re.compile(rf"^{re.escape(self.header)}\n(?:>.*(?:\n|$))*", re.MULTILINE)
        return block.sub(f"{renamed_header}\n>\n> (verwijderd)\n", text)


def dotted(doc: dict[str, Any], path: str) -> Any:
    """The value at a dotted path (``data.question.asker``), or None."""
    value: Any = doc
    for part in path.split("."):
        value = value.get(part) if isinstance(value, dict) else None
    return value


def own_reports(doc: dict[str, Any], account_id: str) -> dict[str, Any]:
    """What an export shows of a queue item the account reported: only the account's own reasons."""
    reports = [r for r in doc.get("reports") or () if isinstance(r, dict) and r.get("reporter_id") == account_id]
    return {"_id": doc["_id"], "reports": [{"reason": r.get("reason", "")} for r in reports]}


def jsonable(value: Any) -> Any:
    """A stored value as JSON-ready data (times as ISO 8601 in UTC, unknown types as text)."""
    if isinstance(value, datetime):
        return iso(value)
    if isinstance(value, dict):
        return {str(k): jsonable(v) for k, v in value.items()}
    if isinstance(value, list | tuple | set | frozenset):
        return [jsonable(v) for v in value]
    if isinstance(value, str | int | float | bool) or value is None:
        return value
    return str(value)
