"""MongoDB storage of the VitaliteitsMarkt: entries with revisions and status audit, members' test reports, and
the region members chose as an account setting. Every query is built from scalars, never from a client dict."""

from __future__ import annotations

from datetime import datetime

from pymongo import ASCENDING, DESCENDING, IndexModel, ReturnDocument
from pymongo.errors import DuplicateKeyError

from chatserver.adapters.mongo_client import Database, Document, Indexes
from chatserver.ports.markt import EntrySlugTaken, ReportExists

ENTRIES = "markt_entries"
REVISIONS = "markt_revisions"
AUDIT = "markt_audit"
REPORTS = "markt_reports"
REGIONS = "markt_regions"
PUBLISHED_LIMIT = 2000

INDEXES: Indexes = {
    ENTRIES: [
        IndexModel([("slug", ASCENDING)], unique=True, name="markt_slug_unique"),
        IndexModel([("flavours", ASCENDING), ("status", ASCENDING)], name="markt_public"),
        IndexModel([("updated_at", DESCENDING)], name="markt_updated"),
    ],
    REVISIONS: [IndexModel([("entry_id", ASCENDING), ("number", DESCENDING)], name="markt_revision_entry")],
    AUDIT: [IndexModel([("entry_id", ASCENDING), ("at", ASCENDING)], name="markt_audit_entry")],
    REPORTS: [
        # Not unique: erasure sets author_id to "deleted" on every report it keeps. One report per member per
        # entry is kept by the conditional insert below.
        IndexModel([("entry_id", ASCENDING), ("author_id", ASCENDING)], name="markt_report_once"),
        IndexModel([("entry_id", ASCENDING), ("published_at", DESCENDING)], name="markt_report_entry"),
        IndexModel([("author_id", ASCENDING)], name="markt_report_author"),
    ],
}


class MongoMarktStore:
    def __init__(self, db: Database) -> None:
        self.entries = db[ENTRIES]
        self.revisions = db[REVISIONS]
        self.audit = db[AUDIT]
        self.reports = db[REPORTS]
        self.regions = db[REGIONS]

    # entries -----------------------------------------------------------------------------------------------------

    async def insert_entry(self, doc: Document) -> None:
        try:
            await self.entries.insert_one(doc)
        except DuplicateKeyError as exc:
            raise EntrySlugTaken(str(doc.get("slug", ""))) from exc

    async def entry(self, entry_id: str) -> Document | None:
        return await self.entries.find_one({"_id": entry_id})

    async def slug_exists(self, slug: str) -> bool:
        return await self.entries.find_one({"slug": slug}, {"_id": 1}) is not None

    async def published_by_slug(self, flavour: str, slug: str) -> Document | None:
        return await self.entries.find_one({"slug": slug, "flavours": flavour, "status": "published"})

    async def published_in(self, flavour: str) -> list[Document]:
        cursor = self.entries.find({"flavours": flavour, "status": "published"}, {"body": 0}).limit(PUBLISHED_LIMIT)
        return [d async for d in cursor]

    async def published_all(self) -> list[Document]:
        cursor = self.entries.find({"status": "published"}).sort([("slug", ASCENDING)]).limit(PUBLISHED_LIMIT)
        return [d async for d in cursor]

    async def staff_list(self, allowed_flavours: list[str] | None, status: str | None, limit: int) -> list[Document]:
        """Entries whose every flavour is in ``allowed_flavours`` (None: all)."""
        query: Document = {}
        if allowed_flavours is not None:
            query["flavours"] = {"$in": allowed_flavours}
        if status:
            query["status"] = status
        cursor = self.entries.find(query, {"body": 0}).sort([("updated_at", DESCENDING)]).limit(limit * 4)
        allowed = set(allowed_flavours) if allowed_flavours is not None else None
        found = [d async for d in cursor if allowed is None or set(d.get("flavours") or ()) <= allowed]
        return found[:limit]

    async def update_if_version(self, entry_id: str, version: int, changes: Document) -> Document | None:
        return await self.entries.find_one_and_update(
            {"_id": entry_id, "version": version},
            {"$set": dict(changes), "$inc": {"version": 1}},
            return_document=ReturnDocument.AFTER,
        )

    async def set_fields(self, entry_id: str, changes: Document) -> None:
        await self.entries.update_one({"_id": entry_id}, {"$set": dict(changes)})

    async def add_revision(self, doc: Document) -> None:
        await self.revisions.insert_one(doc)

    async def revisions_of(self, entry_id: str) -> list[Document]:
        cursor = self.revisions.find({"entry_id": entry_id}, {"snapshot": 0}).sort([("number", DESCENDING)])
        return [d async for d in cursor.limit(500)]

    async def revision(self, entry_id: str, number: int) -> Document | None:
        return await self.revisions.find_one({"entry_id": entry_id, "number": number})

    async def add_audit(self, doc: Document) -> None:
        await self.audit.insert_one(doc)

    # test reports ------------------------------------------------------------------------------------------------

    async def insert_report(self, doc: Document) -> None:
        """Insert unless this author has a report on this entry (then :class:`ReportExists`)."""
        found = await self.reports.find_one_and_update(
            {"entry_id": doc["entry_id"], "author_id": doc["author_id"]},
            {"$setOnInsert": doc},
            upsert=True,
            return_document=ReturnDocument.BEFORE,
        )
        if found is not None:
            raise ReportExists(str(doc.get("entry_id", "")))

    async def report(self, report_id: str) -> Document | None:
        return await self.reports.find_one({"_id": report_id})

    async def report_of(self, entry_id: str, author_id: str) -> Document | None:
        return await self.reports.find_one({"entry_id": entry_id, "author_id": author_id})

    async def update_report(
        self, report_id: str, changes: Document, expect_version: int | None = None
    ) -> Document | None:
        query: Document = {"_id": report_id}
        if expect_version is not None:
            query["version"] = expect_version
        return await self.reports.find_one_and_update(
            query, {"$set": dict(changes), "$inc": {"version": 1}}, return_document=ReturnDocument.AFTER
        )

    async def published_reports(self, entry_id: str, limit: int) -> list[Document]:
        query: Document = {"entry_id": entry_id, "published": {"$ne": None}, "hidden": {"$ne": True}}
        cursor = self.reports.find(query).sort([("published_at", DESCENDING)]).limit(limit)
        return [d async for d in cursor]

    async def reports_by(self, author_id: str) -> list[Document]:
        cursor = self.reports.find({"author_id": author_id}).sort([("updated_at", DESCENDING)]).limit(500)
        return [d async for d in cursor]

    # members' region setting -------------------------------------------------------------------------------------

    async def region_of(self, account_id: str) -> str | None:
        doc = await self.regions.find_one({"_id": account_id})
        return str(doc["region"]) if doc and doc.get("region") else None

    async def set_region(self, account_id: str, region: str | None, now: datetime) -> None:
        if region is None:
            await self.regions.delete_one({"_id": account_id})
            return
        await self.regions.update_one({"_id": account_id}, {"$set": {"region": region, "updated_at": now}}, upsert=True)
