"""MongoDB storage of VraagBaak questions; a visitor's private link is stored only as a SHA-256 hash."""

from __future__ import annotations

from datetime import datetime

from pymongo import ASCENDING, DESCENDING, IndexModel, ReturnDocument

from chatserver.adapters.mongo_client import Database, Document, Indexes, add_indexes
from chatserver.domain.vraagbaak import ACTIVE_STATUSES

QUESTIONS = "vraagbaak_questions"

# This aggregate's indexes; the app creates the indexes of every module it lists (chatserver/adapters/indexes.py).
INDEXES: Indexes = {}
add_indexes(
    INDEXES,
    QUESTIONS,
    IndexModel([("token_hash", ASCENDING)], unique=True, name="vraagbaak_token_unique"),
    IndexModel([("status", ASCENDING), ("urgent", DESCENDING), ("asked_at", ASCENDING)], name="vraagbaak_queue"),
    IndexModel([("expires_at", ASCENDING)], name="vraagbaak_expiry"),
    IndexModel([("author_id", ASCENDING)], name="vraagbaak_author"),
)


class VraagbaakRepo:
    """Every query takes scalars we built ourselves, never a client dict."""

    def __init__(self, db: Database) -> None:
        self.questions = db[QUESTIONS]

    async def insert(self, doc: Document) -> None:
        await self.questions.insert_one(doc)

    async def by_token_hash(self, token_hash: str) -> Document | None:
        return await self.questions.find_one({"token_hash": token_hash})

    async def get(self, question_id: str) -> Document | None:
        return await self.questions.find_one({"_id": question_id})

    async def delete(self, question_id: str) -> None:
        await self.questions.delete_one({"_id": question_id})

    async def active(self, limit: int) -> list[Document]:
        cursor = self.questions.find({"status": {"$in": list(ACTIVE_STATUSES)}}, {"token_hash": 0})
        cursor = cursor.sort([("urgent", DESCENDING), ("asked_at", ASCENDING)]).limit(limit)
        return [d async for d in cursor]

    async def recently_done(self, limit: int) -> list[Document]:
        cursor = self.questions.find({"status": {"$nin": list(ACTIVE_STATUSES)}}, {"token_hash": 0})
        cursor = cursor.sort([("done_at", DESCENDING)]).limit(limit)
        return [d async for d in cursor]

    async def update_where(self, question_id: str, statuses: list[str], changes: Document) -> Document | None:
        """Apply ``changes`` only while the question is in one of ``statuses`` (no lost updates)."""
        return await self.questions.find_one_and_update(
            {"_id": question_id, "status": {"$in": statuses}},
            {"$set": changes},
            return_document=ReturnDocument.AFTER,
        )

    async def purge_expired(self, now: datetime) -> int:
        result = await self.questions.delete_many({"expires_at": {"$lte": now}})
        return int(result.deleted_count)
