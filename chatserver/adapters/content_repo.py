"""MongoDB storage of editorial content: items, their revisions and each flavour's featured list."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from pymongo import ASCENDING, DESCENDING, IndexModel, ReturnDocument
from pymongo.errors import DuplicateKeyError

from chatserver.adapters.mongo_client import Database, Document, Indexes, add_indexes
from chatserver.ports import SlugTaken as SlugTaken  # raised here; re-exported for old importers

ITEMS = "content_items"
REVISIONS = "content_revisions"
FEATURED = "content_featured"
AUDIT = "content_audit"

# This aggregate's indexes; the app creates the indexes of every module it lists (chatserver/adapters/indexes.py).
INDEXES: Indexes = {}
add_indexes(
    INDEXES,
    ITEMS,
    IndexModel([("slug", ASCENDING)], unique=True, name="content_slug_unique"),
    IndexModel([("flavours", ASCENDING), ("status", ASCENDING), ("published_at", DESCENDING)], name="content_public"),
    IndexModel([("author_id", ASCENDING)], name="content_author"),
)
add_indexes(INDEXES, REVISIONS, IndexModel([("item_id", ASCENDING), ("number", DESCENDING)], name="revision_item"))
add_indexes(INDEXES, AUDIT, IndexModel([("item_id", ASCENDING), ("at", ASCENDING)], name="content_audit_item"))
add_indexes(INDEXES, FEATURED, IndexModel([("flavour", ASCENDING), ("position", ASCENDING)], name="featured_order"))


def visible_filter(flavour: str, now: datetime) -> Document:
    """Published, targeted at ``flavour`` and due (a future ``publish_at`` means scheduled)."""
    return {
        "flavours": flavour,
        "status": "published",
        "$or": [{"publish_at": None}, {"publish_at": {"$lte": now}}],
    }


class ContentRepo:
    """Every query takes scalars we built ourselves, never a client dict."""

    def __init__(self, db: Database) -> None:
        self.items = db[ITEMS]
        self.revisions = db[REVISIONS]
        self.featured = db[FEATURED]
        self.audit = db[AUDIT]

    # items ---------------------------------------------------------------------------

    async def insert(self, doc: Document) -> None:
        try:
            await self.items.insert_one(doc)
        except DuplicateKeyError as exc:
            raise SlugTaken(doc.get("slug", "")) from exc

    async def slug_exists(self, slug: str) -> bool:
        return await self.items.find_one({"slug": slug}, {"_id": 1}) is not None

    async def get(self, item_id: str) -> Document | None:
        return await self.items.find_one({"_id": item_id})

    async def by_slug(self, slug: str) -> Document | None:
        return await self.items.find_one({"slug": slug})

    async def visible_by_slug(self, flavour: str, slug: str, now: datetime) -> Document | None:
        query = visible_filter(flavour, now)
        query["slug"] = slug
        return await self.items.find_one(query)

    async def visible_page(
        self, flavour: str, now: datetime, kind: str | None, skip: int, limit: int
    ) -> tuple[list[Document], int]:
        query = visible_filter(flavour, now)
        if kind:
            query["kind"] = kind
        total = await self.items.count_documents(query)
        cursor = self.items.find(query, {"body": 0}).sort([("published_at", DESCENDING), ("_id", ASCENDING)])
        docs = [d async for d in cursor.skip(skip).limit(limit)]
        return docs, total

    async def visible_ids(self, flavour: str, now: datetime, ids: list[str]) -> dict[str, Document]:
        query = visible_filter(flavour, now)
        query["_id"] = {"$in": ids}
        return {str(d["_id"]): d async for d in self.items.find(query, {"body": 0})}

    async def staff_list(self, allowed_flavours: list[str] | None, status: str | None, limit: int) -> list[Document]:
        """Items whose every target flavour is in ``allowed_flavours`` (None: all items)."""
        query: Document = {}
        if allowed_flavours is not None:
            query["flavours"] = {"$in": allowed_flavours}
        if status:
            query["status"] = status
        cursor = self.items.find(query, {"body": 0}).sort([("updated_at", DESCENDING)]).limit(limit * 4)
        allowed = set(allowed_flavours) if allowed_flavours is not None else None
        out = [d async for d in cursor if allowed is None or set(d.get("flavours") or ()) <= allowed]
        return out[:limit]

    async def by_author(self, author_id: str, limit: int) -> list[Document]:
        cursor = self.items.find({"author_id": author_id}, {"body": 0}).sort([("created_at", DESCENDING)]).limit(limit)
        return [d async for d in cursor]

    async def update_if_version(self, item_id: str, version: int, changes: Document) -> Document | None:
        """Optimistic update: applies only when nobody saved in between; returns the new document."""
        changes = dict(changes)
        return await self.items.find_one_and_update(
            {"_id": item_id, "version": version},
            {"$set": changes, "$inc": {"version": 1}},
            return_document=ReturnDocument.AFTER,
        )

    async def add_audit(self, doc: Document) -> None:
        """One status change: who (account id and role, no name), what, when."""
        await self.audit.insert_one(doc)

    async def audit_of(self, item_id: str) -> list[Document]:
        return [d async for d in self.audit.find({"item_id": item_id}).sort("at", ASCENDING)]

    # revisions -----------------------------------------------------------------------

    async def add_revision(self, doc: Document) -> None:
        await self.revisions.insert_one(doc)

    async def revisions_of(self, item_id: str) -> list[Document]:
        cursor = self.revisions.find({"item_id": item_id}, {"body": 0}).sort([("number", DESCENDING)]).limit(500)
        return [d async for d in cursor]

    async def revision(self, item_id: str, number: int) -> Document | None:
        return await self.revisions.find_one({"item_id": item_id, "number": number})

    # featured ------------------------------------------------------------------------

    async def featured_of(self, flavour: str) -> list[Document]:
        cursor = self.featured.find({"flavour": flavour}).sort([("position", ASCENDING)]).limit(100)
        return [d async for d in cursor]

    async def set_featured(self, flavour: str, item_ids: list[str]) -> None:
        """Replace the flavour's list with ``item_ids`` in this order (positions 1..n)."""
        await self.featured.delete_many({"flavour": flavour})
        if item_ids:
            docs: list[dict[str, Any]] = [
                {"_id": f"{flavour}:{item_id}", "flavour": flavour, "item_id": item_id, "position": n}
                for n, item_id in enumerate(item_ids, start=1)
            ]
            await self.featured.insert_many(docs)
