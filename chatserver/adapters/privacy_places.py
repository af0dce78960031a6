"""Where an account's data lives: the one explicit list that export and erasure walk, and what stays on purpose.

The list names storage collections and Redis keys, so it lives here beside the adapters that own them; the
composition root hands :data:`PERSONAL_DATA` to the privacy service (``chatserver.services.privacy``), which
walks it through the :class:`chatserver.ports.PersonalDataStore` port. Nothing registers itself: a feature that
stores account data adds its line here. ``tests/security/test_erasure.py`` runs a session through every feature
and fails when a collection holds an account's data without being listed here or exempted in ``NOT_PERSONAL``
with a reason. What each treatment does is in :mod:`chatserver.domain.privacy`.
"""

from __future__ import annotations

from collections.abc import Iterable

from chatserver.adapters.accounts_repo import ACCOUNTS, BANS, REFERRALS
from chatserver.adapters.content_repo import AUDIT as CONTENT_AUDIT
from chatserver.adapters.content_repo import FEATURED as CONTENT_FEATURED
from chatserver.adapters.content_repo import ITEMS as CONTENT_ITEMS
from chatserver.adapters.content_repo import REVISIONS as CONTENT_REVISIONS
from chatserver.adapters.event_store import EVENTS
from chatserver.adapters.forum_repo import FOLLOWS, NOTIFICATIONS, POSTS, THREADS
from chatserver.adapters.forum_repo import REVISIONS as FORUM_REVISIONS
from chatserver.adapters.markt_repo import AUDIT as MARKT_AUDIT
from chatserver.adapters.markt_repo import ENTRIES as MARKT_ENTRIES
from chatserver.adapters.markt_repo import REGIONS as MARKT_REGIONS
from chatserver.adapters.markt_repo import REPORTS as MARKT_REPORTS
from chatserver.adapters.markt_repo import REVISIONS as MARKT_REVISIONS
from chatserver.adapters.moderation_store import AUDIT as MODERATION_AUDIT
from chatserver.adapters.moderation_store import ITEMS as MODERATION_ITEMS
from chatserver.adapters.oneonone_repo import ALERTS, CHATS, ROSTER, SHIFTS
from chatserver.adapters.oneonone_repo import AUDIT as CHAT_AUDIT
from chatserver.adapters.rooms_repo import ROOMS
from chatserver.adapters.spreekuur_repo import QUESTIONS as SPREEKUUR_QUESTIONS
from chatserver.adapters.spreekuur_repo import SPREEKUREN
from chatserver.adapters.vraagbaak_repo import QUESTIONS as VRAAGBAAK_QUESTIONS
from chatserver.domain.privacy import PersonalDataMap, Place

RESERVED_PSEUDONYMS = "reserved_pseudonyms"
CHANNEL_POSITIONS = "channel_positions"


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
    # Test reports on market entries: removed, or kept under "verwijderd account", like forum posts.
    Place(MARKT_REPORTS, "author_id", "authored", names=("author_pseudonym",),
          export=("entry_slug", "flavour", "status", "pending", "published", "created_at", "updated_at")),
    Place(MARKT_REGIONS, "_id", "private"),  # the coarse region a member chose for the market
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
    MARKT_ENTRIES: "market entries written by editors (staff id and pseudonym of the last editor)",
    MARKT_REVISIONS: "earlier versions of market entries, by editors",
    MARKT_AUDIT: "who on staff changed a market entry's status (staff id and role, no name)",
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


PERSONAL_DATA = PersonalDataMap(
    places=PLACES,
    events=EVENTS,
    chats=CHATS,
    chat_audit=CHAT_AUDIT,
    notifications=NOTIFICATIONS,
    posts=POSTS,
    forum_revisions=FORUM_REVISIONS,
    moderation_items=MODERATION_ITEMS,
    spreekuur_questions=SPREEKUUR_QUESTIONS,
    channel_positions=CHANNEL_POSITIONS,
    reserved_pseudonyms=RESERVED_PSEUDONYMS,
    redis_keys=REDIS_PLACES,
    redis_members=REDIS_MEMBER_PLACES,
)
