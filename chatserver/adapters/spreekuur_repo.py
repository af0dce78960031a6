"""MongoDB storage of e-spreekuren (scheduled consultation hours) and the questions sent to them."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from pymongo import ASCENDING, IndexModel, ReturnDocument
from pymongo.errors import DuplicateKeyError

from chatserver.adapters.mongo_client import Database, Document, Indexes, add_indexes
from chatserver.ports import SeriesTaken as SeriesTaken  # raised here; re-exported for old importers

SPREEKUREN = "spreekuren"
QUESTIONS = "spreekuur_questions"

# This aggregate's indexes; the app creates the indexes of every module it lists (chatserver/adapters/indexes.py).
INDEXES: Indexes = {}
add_indexes(
    INDEXES,
    SPREEKUREN,
    IndexModel([("flavour", ASCENDING), ("starts_at", ASCENDING)], name="spreekuur_flavour_start"),
    IndexModel([("series_key", ASCENDING)], unique=True, sparse=True, name="spreekuur_series_unique"),
    IndexModel([("ends_at", ASCENDING)], name="spreekuur_end"),
)
add_indexes(
    INDEXES,
    QUESTIONS,
    IndexModel([("spreekuur_id", ASCENDING), ("status", ASCENDING), ("created_at", ASCENDING)], name="sq_status"),
    IndexModel([("author_id", ASCENDING), ("spreekuur_id", ASCENDING)], name="sq_author"),
)


class SpreekuurRepo:
    """Every query takes scalars we built ourselves, never a client dict."""

    def __init__(self, db: Database) -> None:
        self.spreekuren = db[SPREEKUREN]
        self.questions = db[QUESTIONS]

    # sessions -------------------------------------------------------------------

    async def insert(self, doc: Document) -> None:
        try:
            await self.spreekuren.insert_one(doc)
        except DuplicateKeyError as exc:
            raise SeriesTaken() from exc

    async def get(self, spreekuur_id: str) -> Document | None:
        return await self.spreekuren.find_one({"_id": spreekuur_id})

    async def update(self, spreekuur_id: str, changes: Document) -> Document | None:
        return await self.spreekuren.find_one_and_update(
            {"_id": spreekuur_id}, {"$set": changes}, return_document=ReturnDocument.AFTER
        )

    async def add_announced(self, spreekuur_id: str, status: str) -> bool:
        """Mark a status change as announced; False when another process did it first."""
        result = await self.spreekuren.update_one(
            {"_id": spreekuur_id, "announced": {"$ne": status}}, {"$addToSet": {"announced": status}}
        )
        return bool(result.modified_count)

    async def upcoming(self, flavour: str, now: datetime, limit: int) -> list[Document]:
        query: Document = {"flavour": flavour, "ends_at": {"$gt": now}, "cancelled": {"$ne": True}}
        cursor = self.spreekuren.find(query).sort([("starts_at", ASCENDING)]).limit(limit)
        return [d async for d in cursor]

    async def past(self, flavour: str, now: datetime, limit: int) -> list[Document]:
        query: Document = {"flavour": flavour, "ends_at": {"$lte": now}, "cancelled": {"$ne": True}}
        cursor = self.spreekuren.find(query).sort([("starts_at", -1)]).limit(limit)
        return [d async for d in cursor]

    async def in_flavours(self, flavours: list[str] | None, limit: int) -> list[Document]:
        query: Document = {} if flavours is None else {"flavour": {"$in": flavours}}
        cursor = self.spreekuren.find(query).sort([("starts_at", -1)]).limit(limit)
        return [d async for d in cursor]

    async def due_for(self, now: datetime, field: str, status: str, window_start: datetime) -> list[Document]:
        """Sessions whose ``field`` (starts_at or ends_at) passed since ``window_start`` and not yet announced."""
        query: Document = {field: {"$lte": now, "$gt": window_start}, "announced": {"$ne": status}}
        return [d async for d in self.spreekuren.find(query).limit(200)]

    # questions ------------------------------------------------------------------

    async def add_question(self, doc: Document) -> None:
        await self.questions.insert_one(doc)

    async def question(self, question_id: str) -> Document | None:
        return await self.questions.find_one({"_id": question_id})

    async def questions_of(self, spreekuur_id: str, statuses: list[str]) -> list[Document]:
        cursor = self.questions.find({"spreekuur_id": spreekuur_id, "status": {"$in": statuses}})
        return [d async for d in cursor.sort([("created_at", ASCENDING)]).limit(1000)]

    async def questions_by(self, spreekuur_id: str, author_id: str) -> list[Document]:
        cursor = self.questions.find({"spreekuur_id": spreekuur_id, "author_id": author_id})
        return [d async for d in cursor.sort([("created_at", ASCENDING)]).limit(100)]

    async def has_question_by(self, spreekuur_id: str, author_id: str) -> bool:
        """Whether ``author_id`` sent any question (whatever its status) to this session."""
        found = await self.questions.find_one({"spreekuur_id": spreekuur_id, "author_id": author_id}, {"_id": 1})
        return found is not None

    async def update_question_where(self, question_id: str, statuses: list[str], changes: Document) -> Document | None:
        """Apply ``changes`` only while the question is in one of ``statuses`` (no lost decisions)."""
        return await self.questions.find_one_and_update(
            {"_id": question_id, "status": {"$in": statuses}},
            {"$set": changes},
            return_document=ReturnDocument.AFTER,
        )

    async def bump_merged(self, question_id: str) -> Document | None:
        return await self.questions.find_one_and_update(
            {"_id": question_id}, {"$inc": {"merged_count": 1}}, return_document=ReturnDocument.AFTER
        )

    async def set_answer(self, question_id: str, answer: dict[str, Any]) -> Document | None:
        return await self.questions.find_one_and_update(
            {"_id": question_id, "status": "approved"},
            {"$set": {"answer": answer}},
            return_document=ReturnDocument.AFTER,
        )
