"""Channel events in MongoDB: the stored stream every live channel recovers from.

``events`` holds every stored event, unique by (channel, offset) and by
(channel, sender, client_msg_id). Offsets come from
:mod:`chatserver.adapters.positions`.
"""

from __future__ import annotations

from typing import Any

from pymongo import ASCENDING, DESCENDING, IndexModel
from pymongo.errors import BulkWriteError, PyMongoError

from chatserver import metrics
from chatserver.adapters.mongo_client import GROUP_COMMIT_TIMEOUT_S, Database, Document, Indexes, add_indexes, deadline
from chatserver.ports import DuplicateEvents as DuplicateEvents  # raised here; re-exported for old importers

EVENTS = "events"

# This aggregate's indexes; the app creates the indexes of every module it lists (chatserver/adapters/indexes.py).
INDEXES: Indexes = {}
add_indexes(
    INDEXES,
    EVENTS,
    IndexModel([("channel", ASCENDING), ("offset", ASCENDING)], unique=True, name="channel_offset"),
    IndexModel(
        [("channel", ASCENDING), ("sender", ASCENDING), ("client_msg_id", ASCENDING)],
        unique=True,
        name="channel_sender_client_msg_id",
    ),
    IndexModel([("sender", ASCENDING)], name="sender"),
)

StoreError = PyMongoError


def _is_offset_collision(error: dict[str, Any]) -> bool:
    pattern = error.get("keyPattern") or {}
    if pattern:
        return "offset" in pattern
    return "channel_offset" in str(error.get("errmsg", ""))


class MongoEventStore:
    """The :class:`chatserver.ports.EventStore` in MongoDB."""

    unavailable_errors: tuple[type[Exception], ...] = (PyMongoError,)

    def __init__(self, db: Database) -> None:
        self.events = db[EVENTS]

    async def last_offset(self, channel: str) -> int:
        """The highest stored offset of the channel (0 when empty)."""
        doc = await self.events.find_one({"channel": channel}, {"offset": 1}, sort=[("offset", DESCENDING)])
        return int(doc["offset"]) if doc else 0

    @metrics.timed_batch
    async def insert_batch(self, docs: list[Document]) -> None:
        """Insert every document in one ``insert_many``; raises DuplicateEvents naming the collisions."""
        try:
            # A group commit has its own bound (the committer's, 2.5 s): a large batch on a slow engine may
            # take longer than one request's database call, and the commit waits for no one else.
            with deadline(GROUP_COMMIT_TIMEOUT_S):
                await self.events.insert_many(docs, ordered=False)
        except BulkWriteError as exc:
            errors: list[dict[str, Any]] = exc.details.get("writeErrors", [])
            if errors and all(e.get("code") == 11000 for e in errors):
                repeats = [int(e["index"]) for e in errors if not _is_offset_collision(e)]
                collisions = [int(e["index"]) for e in errors if _is_offset_collision(e)]
                raise DuplicateEvents(repeats, collisions) from None
            raise

    async def find_by_client_msg_id(self, channel: str, sender: str, client_msg_id: str) -> Document | None:
        return await self.events.find_one({"channel": channel, "sender": sender, "client_msg_id": client_msg_id})

    async def find_event(self, channel: str, offset: int) -> Document | None:
        return await self.events.find_one({"channel": channel, "offset": offset})

    async def update_event(self, channel: str, offset: int, fields: dict[str, Any]) -> bool:
        """Change a stored event in place (an edit or a removal); True when it existed."""
        result = await self.events.update_one({"channel": channel, "offset": offset}, {"$set": fields})
        return result.matched_count == 1

    async def read_after(self, channel: str, after_offset: int, limit: int) -> list[Document]:
        """Stored events of ``channel`` with offset > ``after_offset``, in order, at most ``limit``."""
        cursor = self.events.find({"channel": channel, "offset": {"$gt": after_offset}}, sort=[("offset", ASCENDING)])
        return await cursor.limit(limit).to_list(length=limit)

    async def read_before(self, channel: str, before_offset: int | None, limit: int) -> list[Document]:
        """History for scroll-back: up to ``limit`` events before ``before_offset``, oldest first."""
        query: dict[str, Any] = {"channel": channel}
        if before_offset is not None:
            query["offset"] = {"$lt": before_offset}
        cursor = self.events.find(query, sort=[("offset", DESCENDING)])
        docs = await cursor.limit(limit).to_list(length=limit)
        docs.reverse()
        return docs
