"""Where an account's data lives: the one explicit list that export and erasure walk, and what stays on purpose."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any, Literal

from chatserver.adapters.accounts_repo import ACCOUNTS, BANS, REFERRALS
from chatserver.adapters.content_repo import AUDIT as CONTENT_AUDIT
from chatserver.adapters.content_repo import FEATURED as CONTENT_FEATURED
from chatserver.adapters.content_repo import ITEMS as CONTENT_ITEMS
from chatserver.adapters.content_repo import REVISIONS as CONTENT_REVISIONS
from chatserver.adapters.event_store import EVENTS
from chatserver.adapters.forum_repo import FOLLOWS, NOTIFICATIONS, POSTS, THREADS
from chatserver.adapters.forum_repo import REVISIONS as FORUM_REVISIONS
from chatserver.adapters.moderation_store import AUDIT as MODERATION_AUDIT
from chatserver.adapters.moderation_store import ITEMS as MODERATION_ITEMS
from chatserver.adapters.oneonone_repo import ALERTS, CHATS, ROSTER, SHIFTS
from chatserver.adapters.oneonone_repo import AUDIT as CHAT_AUDIT
from chatserver.adapters.rooms_repo import ROOMS
from chatserver.adapters.spreekuur_repo import QUESTIONS as SPREEKUUR_QUESTIONS
from chatserver.adapters.spreekuur_repo import SPREEKUREN
from chatserver.adapters.vraagbaak_repo import QUESTIONS as VRAAGBAAK_QUESTIONS
from chatserver.domain.accounts import DELETED_PSEUDONYM

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
RESERVED_PSEUDONYMS = "reserved_pseudonyms"
CHANNEL_POSITIONS = "channel_positions"
EXPORT_LIMIT = 10_000
LIVE_CHUNK = 200


@dataclass(frozen=True, slots=True)
class Place:
    """Documents of ``collection`` belong to the account whose id is in ``field``."""

    collection: str
    field: str
    treatment: Treatment
    names: tuple[str, ...] = ()  # fields that show the pseudonym beside the content
    why: str = ""
    export: tuple[str, ...] = ()  # fields exported (empty: the whole document)


PLACES: tuple[Place, ...] = (
    Place(ACCOUNTS, "_id", "account", why="a tombstone {_id, kind, deleted_at} stays so old ids resolve to nobody"),
    Place(EVENTS, "sender", "events", names=("pseudonym",), export=("channel", "offset", "kind", "data", "ts")),
    Place(CHATS, "visitor_id", "chats", names=("visitor_pseudonym",),
          export=("flavour", "topic", "status", "requested_at", "ended_at", "feedback")),
    Place(THREADS, "author_id", "authored", names=("author_pseudonym",)),
    Place(POSTS, "author_id", "authored", names=("author_pseudonym",)),
    Place(FORUM_REVISIONS, "author_id", "authored", names=("author_pseudonym",)),
    Place(CONTENT_ITEMS, "author_id", "authored", names=("author_pseudonym", "byline", "updated_by")),
    Place(CONTENT_REVISIONS, "author_id", "authored", names=("author_pseudonym",)),
    Place(SPREEKUUR_QUESTIONS, "author_id", "authored", names=("author_pseudonym",)),
    Place(VRAAGBAAK_QUESTIONS, "author_id", "private", export=("text", "flavour", "status", "asked_at", "answer")),
    Place(FOLLOWS, "account_id", "private"),
    Place(NOTIFICATIONS, "account_id", "private"),
    Place(MODERATION_ITEMS, "author_id", "moderation",
          export=("flavour", "source", "state", "decision", "created_at", "text")),
    Place(MODERATION_ITEMS, "reporter_ids", "reports", export=("reports",)),
    Place(SHIFTS, "_id", "private"),
    Place(ROSTER, "account_id", "private"),
    Place(BANS, "subject", "retained", why="a ban must stick to the account id it was given to"),
    Place(REFERRALS, "used_by", "retained", why="a used referral code stays used; it holds an id, never a name"),
    Place(RESERVED_PSEUDONYMS, "_id", "retained",
          why="the erased pseudonym's keyed hash, so nobody can take the name for a while; no id, no name"),
)  # fmt: skip

# Collections that hold nothing of an account's own, each with the reason. A collection the scripted session
# finds the account in must be in PLACES or here; the test fails otherwise.
NOT_PERSONAL: dict[str, str] = {
    CHANNEL_POSITIONS: "offset and epoch per channel; the erased account's own user channel is removed",
    ROOMS: "room settings, written by staff",
    SPREEKUREN: "sessions and their staff hosts",
    CONTENT_FEATURED: "editorial ordering",
    CONTENT_AUDIT: "who on staff changed a piece's status (staff id and role, no name); never a member's id",
    ALERTS: "staff alerts about waiting times and coverage (no visitor id)",
    CHAT_AUDIT: "who on staff did what to a chat; the erasure of a held chat is recorded here",
    MODERATION_AUDIT: "hash-chained staff decisions (staff id, item id, reason); never the author's id or text",
}

# Redis keys that name the account (``{id}``), deleted at erasure. Everything else in Redis that holds an account
# id is either ended by erasure itself (sessions, rate limits: IdentityService) or expires within minutes
# (presence, spreekuur seats).
REDIS_PLACES: tuple[str, ...] = (
    "recent:*:{id}",  # the author's last lines per channel, for the crisis detector (minutes)
    "forum:unread:{id}",  # the unread-notification count
    "rl:publish:{id}",  # the live publish rate limit (seconds)
    "pos:user:{id}",  # the offset counter of the account's own channel, removed with its events
)

# Redis sets (or sorted sets, hashes) whose members are account ids: the account leaves them at erasure.
REDIS_MEMBER_PLACES: tuple[str, ...] = (
    "spreekuur:seats:*",  # who holds a seat in a spreekuur (expires after the session)
)

# Where an erased account may still appear after erasure, and why.
RETAINED: dict[str, str] = {
    ACCOUNTS: "the tombstone (id only)",
    BANS: "bans stick",
    REFERRALS: "a used code stays used",
    EVENTS: "messages in a 1-on-1 transcript under a safeguarding hold",
    CHATS: "a 1-on-1 transcript under a safeguarding hold",
}


def collections_of(places: Iterable[Place] = PLACES) -> frozenset[str]:
    return frozenset(p.collection for p in places)
