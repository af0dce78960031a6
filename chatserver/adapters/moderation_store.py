"""MongoDB storage of moderation items, the hash-chained audit log and the crisis outcome counters
(implements :class:`chatserver.ports.ModerationRecords`)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import asdict
from datetime import datetime
from typing import Any

from pymongo import ASCENDING, DESCENDING, IndexModel, ReturnDocument
from pymongo.errors import DuplicateKeyError, PyMongoError

from chatserver.adapters.mongo_client import Database, Indexes, add_indexes
from chatserver.domain.moderation_items import aware, item_from_doc, item_to_doc, to_ms
from moderation.audit import AuditEntry
from moderation.queue import ModerationItem
from moderation.tiers import Tier

__all__ = ["AUDIT", "ITEMS", "OUTCOMES", "MongoModerationStore", "StoreError", "item_from_doc", "item_to_doc", "to_ms"]

ITEMS = "moderation_items"
AUDIT = "moderation_audit"
OUTCOMES = "crisis_outcomes"  # counts per detector version and outcome, never texts

# This aggregate's indexes; the app creates the indexes of every module it lists (chatserver/adapters/indexes.py).
INDEXES: Indexes = {}
add_indexes(
    INDEXES,
    ITEMS,
    IndexModel([("state", ASCENDING), ("flavour", ASCENDING), ("tier", ASCENDING)], name="open_by_flavour_tier"),
    IndexModel([("subject_id", ASCENDING), ("state", ASCENDING)], name="by_subject"),
    IndexModel([("author_id", ASCENDING)], name="by_author"),
    IndexModel([("decided_at", ASCENDING)], name="by_decided_at"),
)
add_indexes(INDEXES, AUDIT, IndexModel([("item_id", ASCENDING), ("_id", ASCENDING)], name="by_item"))
add_indexes(INDEXES, AUDIT, IndexModel([("flavour", ASCENDING), ("_id", DESCENDING)], name="by_flavour"))

StoreError = PyMongoError


def audit_to_doc(entry: AuditEntry) -> dict[str, Any]:
    doc = asdict(entry)
    doc["_id"] = doc.pop("seq")
    return doc


def audit_from_doc(doc: dict[str, Any]) -> AuditEntry:
    return AuditEntry(
        seq=int(doc["_id"]),
        actor_id=str(doc["actor_id"]),
        role=doc["role"],
        at=aware(doc["at"]),
        action=str(doc["action"]),
        reason=str(doc["reason"]),
        item_id=str(doc["item_id"]),
        flavour=str(doc["flavour"]),
        prev_hash=str(doc["prev_hash"]),
        hash=str(doc["hash"]),
    )


class MongoModerationStore:
    """Items are one document each (the queue fields plus the feature's details); the audit log's ``_id`` is its
    sequence number, so two appends of the same ``seq`` cannot both succeed."""

    def __init__(self, db: Database) -> None:
        self.items = db[ITEMS]
        self.audit = db[AUDIT]
        self.outcomes = db[OUTCOMES]

    # --- items ---------------------------------------------------------------------------------------------------

    async def add_item(self, item: ModerationItem, details: dict[str, Any] | None = None) -> None:
        doc = {**(details or {}), **item_to_doc(item)}
        try:
            await self.items.insert_one(doc)
        except DuplicateKeyError:
            return

    async def get_item(self, item_id: str) -> ModerationItem | None:
        doc = await self.items.find_one({"_id": str(item_id)})
        return item_from_doc(doc) if doc is not None else None

    async def get_doc(self, item_id: str) -> dict[str, Any] | None:
        """The whole stored document: the queue fields and the feature's details."""
        doc: dict[str, Any] | None = await self.items.find_one({"_id": str(item_id)})
        return doc

    async def open_items(
        self, flavours: Sequence[str] | None, tiers: Sequence[Tier], limit: int
    ) -> list[ModerationItem]:
        return [item_from_doc(doc) for doc in await self.open_docs(flavours, tiers, None, limit)]

    async def open_docs(
        self, flavours: Sequence[str] | None, tiers: Sequence[Tier], sources: Sequence[str] | None, limit: int
    ) -> list[dict[str, Any]]:
        """Undecided item documents, oldest first (the service orders by severity)."""
        query: dict[str, Any] = {"state": {"$ne": "decided"}, "tier": {"$in": list(tiers)}}
        if flavours is not None:
            query["flavour"] = {"$in": list(flavours)}
        if sources is not None:
            query["source"] = {"$in": list(sources)}
        cursor = self.items.find(query).sort([("created_at", ASCENDING), ("_id", ASCENDING)]).limit(limit)
        return [doc async for doc in cursor]

    async def open_item_for_subject(self, flavour: str, subject_id: str) -> dict[str, Any] | None:
        doc: dict[str, Any] | None = await self.items.find_one(
            {"flavour": flavour, "subject_id": subject_id, "state": {"$ne": "decided"}}
        )
        return doc

    async def add_reporter(self, item_id: str, reporter_id: str, reason: str) -> None:
        await self.items.update_one(
            {"_id": item_id, "reporter_ids": {"$ne": reporter_id}},
            {
                "$push": {"reports": {"reporter_id": reporter_id, "reason": reason}},
                "$addToSet": {"reporter_ids": reporter_id},
            },
        )

    async def replace_item(
        self, expected: ModerationItem, new: ModerationItem, details: dict[str, Any] | None = None
    ) -> bool:
        """Compare-and-set on state, claim and tier, as one ``find_one_and_update``."""
        query = {
            "_id": expected.id,
            "state": expected.state,
            "claimed_by": expected.claimed_by,
            "claim_expires_at": expected.claim_expires_at,
            "tier": expected.tier,
        }
        update = item_to_doc(new)
        update.pop("_id")
        update.update(details or {})
        found = await self.items.find_one_and_update(
            query, {"$set": update}, return_document=ReturnDocument.AFTER, projection={"_id": 1}
        )
        return found is not None

    async def revise_unclaimed(self, item_id: str, details: dict[str, Any]) -> bool:
        query = {"_id": str(item_id), "state": "open", "claimed_by": None}
        result = await self.items.update_one(query, {"$set": details})
        return bool(result.matched_count)

    async def set_details(self, item_id: str, details: dict[str, Any]) -> None:
        await self.items.update_one({"_id": item_id}, {"$set": details})

    async def purge_decided_before(self, cutoff: datetime) -> int:
        result = await self.items.delete_many({"state": "decided", "decided_at": {"$lt": cutoff}})
        return int(result.deleted_count)

    async def erase_author(self, account_id: str) -> None:
        """Drop the author's texts from items (the queue decision and audit stay)."""
        await self.items.update_many(
            {"author_id": account_id}, {"$set": {"text": "", "held_payload": None, "author_id": "deleted"}}
        )

    # --- audit ---------------------------------------------------------------------------------------------------

    async def append_audit(self, entry: AuditEntry) -> bool:
        last = await self.last_audit_entry()
        expected = 1 if last is None else last.seq + 1
        if entry.seq != expected:
            return False
        try:
            await self.audit.insert_one(audit_to_doc(entry))
        except DuplicateKeyError:
            return False
        return True

    async def last_audit_entry(self) -> AuditEntry | None:
        doc = await self.audit.find_one({}, sort=[("_id", DESCENDING)])
        return audit_from_doc(doc) if doc is not None else None

    async def audit_entries(self, after_seq: int, limit: int) -> list[AuditEntry]:
        cursor = self.audit.find({"_id": {"$gt": after_seq}}).sort("_id", ASCENDING).limit(limit)
        return [audit_from_doc(doc) async for doc in cursor]

    async def audit_entry(self, seq: int) -> AuditEntry | None:
        doc = await self.audit.find_one({"_id": seq})
        return audit_from_doc(doc) if doc is not None else None

    async def audit_page(self, flavours: Sequence[str] | None, before_seq: int | None, limit: int) -> list[AuditEntry]:
        """Newest first, optionally only some flavours, for the audit page."""
        query: dict[str, Any] = {}
        if flavours is not None:
            query["flavour"] = {"$in": list(flavours)}
        if before_seq is not None:
            query["_id"] = {"$lt": before_seq}
        cursor = self.audit.find(query).sort("_id", DESCENDING).limit(limit)
        return [audit_from_doc(doc) async for doc in cursor]

    async def audit_for_item(self, item_id: str) -> list[AuditEntry]:
        cursor = self.audit.find({"item_id": item_id}).sort("_id", ASCENDING)
        return [audit_from_doc(doc) async for doc in cursor]

    # --- crisis outcomes -----------------------------------------------------------------------------------------

    async def count_outcome(self, version: str, outcome: str) -> None:
        await self.outcomes.update_one(
            {"_id": f"{version}:{outcome}"},
            {"$inc": {"count": 1}, "$set": {"version": version, "outcome": outcome}},
            upsert=True,
        )

    async def outcome_counts(self) -> dict[str, dict[str, int]]:
        counts: dict[str, dict[str, int]] = {}
        async for doc in self.outcomes.find({}):
            counts.setdefault(str(doc.get("version")), {})[str(doc.get("outcome"))] = int(doc.get("count", 0))
        return counts
