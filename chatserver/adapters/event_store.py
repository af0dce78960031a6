"""Channel events in MongoDB: the offset authority per channel and the stored stream.

``channel_positions`` holds one document per channel: its ``epoch`` (random,
set when the channel is first used) and ``next_offset`` (the last offset handed
out), advanced atomically with ``find_one_and_update``; an offset is never
handed out twice and survives a Redis restart. ``events`` holds every event,
unique by (channel, offset) and by (channel, sender, client_msg_id).
"""

from __future__ import annotations

import secrets
from typing import Any

from pymongo import ASCENDING, DESCENDING, IndexModel, ReturnDocument
from pymongo.errors import BulkWriteError, DuplicateKeyError, PyMongoError

from chatserver.adapters.mongo_client import Database, Document, register_indexes

EVENTS = "events"
POSITIONS = "channel_positions"

register_indexes(
    EVENTS,
    IndexModel([("channel", ASCENDING), ("offset", ASCENDING)], unique=True, name="channel_offset"),
    IndexModel(
        [("channel", ASCENDING), ("sender", ASCENDING), ("client_msg_id", ASCENDING)],
        unique=True,
        name="channel_sender_client_msg_id",
    ),
)

StoreError = PyMongoError


class DuplicateEvents(Exception):
    """Some events of a batch were already stored (a retried client message id)."""

    def __init__(self, indexes: list[int]) -> None:
        super().__init__(f"{len(indexes)} duplicate events")
        self.indexes = indexes


def new_epoch() -> str:
    return secrets.token_hex(6)


class MongoEventStore:
    def __init__(self, db: Database) -> None:
        self.events = db[EVENTS]
        self.positions = db[POSITIONS]

    async def reserve(self, channel: str, count: int) -> tuple[str, int]:
        """Hand out ``count`` consecutive offsets; returns (epoch, first offset)."""
        for _ in range(2):
            try:
                doc = await self.positions.find_one_and_update(
                    {"_id": channel},
                    {"$inc": {"next_offset": count}, "$setOnInsert": {"epoch": new_epoch()}},
                    upsert=True,
                    return_document=ReturnDocument.AFTER,
                )
                break
            except DuplicateKeyError:  # two first uses raced on the upsert; the second retries
                continue
        else:
            raise RuntimeError("could not reserve offsets")
        assert doc is not None
        return str(doc["epoch"]), int(doc["next_offset"]) - count + 1

    async def epoch(self, channel: str) -> str:
        """The channel's epoch, creating its position document on first use."""
        epoch, _ = await self.reserve(channel, 0)
        return epoch

    async def last_offset(self, channel: str) -> int:
        """The highest stored offset of the channel (0 when empty)."""
        doc = await self.events.find_one({"channel": channel}, {"offset": 1}, sort=[("offset", DESCENDING)])
        return int(doc["offset"]) if doc else 0

    async def insert_batch(self, docs: list[Document]) -> None:
        """Insert every document in one ``insert_many``; raises DuplicateEvents naming the repeats."""
        try:
            await self.events.insert_many(docs, ordered=False)
        except BulkWriteError as exc:
            errors: list[dict[str, Any]] = exc.details.get("writeErrors", [])
            if errors and all(e.get("code") == 11000 for e in errors):
                raise DuplicateEvents([int(e["index"]) for e in errors]) from None
            raise

    async def find_by_client_msg_id(self, channel: str, sender: str, client_msg_id: str) -> Document | None:
        return await self.events.find_one({"channel": channel, "sender": sender, "client_msg_id": client_msg_id})

    async def read_after(self, channel: str, after_offset: int, limit: int) -> list[Document]:
        """Stored events of ``channel`` with offset > ``after_offset``, in order, at most ``limit``."""
        cursor = self.events.find({"channel": channel, "offset": {"$gt": after_offset}}, sort=[("offset", ASCENDING)])
        return await cursor.limit(limit).to_list(length=limit)
