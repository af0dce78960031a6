"""MongoDB storage of the Reflectietafel's aggregates (one document per day, flavour, metric, sub-kind and region)
and of its public releases (each noisy figure drawn once)."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date

from pymongo import ASCENDING, IndexModel, UpdateOne
from pymongo.errors import DuplicateKeyError

from chatserver.adapters.mongo_client import Database, Document, Indexes, add_indexes
from chatserver.domain.reflectie import Bucketed, Cell, iso_week, month_of
from chatserver.ports.reflectie import CountRow

DAYS = "reflectie_days"
RELEASES = "reflectie_releases"

# This aggregate's indexes; the app creates the indexes of every module it lists (chatserver/adapters/indexes.py).
INDEXES: Indexes = {}
add_indexes(
    INDEXES,
    DAYS,
    IndexModel([("flavour", ASCENDING), ("day", ASCENDING)], name="reflectie_flavour_day"),
    IndexModel([("day", ASCENDING)], name="reflectie_day"),
)


def _id(cell: Cell) -> str:
    return "|".join((cell.day.isoformat(), cell.flavour, cell.metric, cell.variant, cell.region))


class MongoReflectieStore:
    def __init__(self, db: Database) -> None:
        self.days = db[DAYS]
        self.releases = db[RELEASES]

    async def put_days(self, rows: Sequence[CountRow]) -> int:
        if not rows:
            return 0
        updates = []
        for row in rows:
            cell, counts = row.cell, row.counts
            highest: Document = {"count": counts.count}
            highest.update({f"buckets.b{k}": n for k, n in counts.buckets.items()})
            highest.update({f"hours.h{k:02d}": n for k, n in counts.hours.items()})
            identity: Document = {
                "day": cell.day.isoformat(),
                "week": iso_week(cell.day),
                "month": month_of(cell.day),
                "flavour": cell.flavour,
                "metric": cell.metric,
                "variant": cell.variant,
                "region": cell.region,
            }
            updates.append(UpdateOne({"_id": _id(cell)}, {"$max": highest, "$setOnInsert": identity}, upsert=True))
        await self.days.bulk_write(updates, ordered=False)
        return len(updates)

    async def rows(
        self, flavours: Sequence[str], first: date, last: date, metrics: Sequence[str] | None = None
    ) -> list[CountRow]:
        query: Document = {
            "flavour": {"$in": [str(f) for f in flavours]},
            "day": {"$gte": first.isoformat(), "$lte": last.isoformat()},
        }
        if metrics is not None:
            query["metric"] = {"$in": [str(m) for m in metrics]}
        out: list[CountRow] = []
        async for doc in self.days.find(query):
            cell = Cell(
                str(doc["metric"]),
                str(doc["flavour"]),
                date.fromisoformat(str(doc["day"])),
                str(doc.get("variant", "")),
                str(doc.get("region", "")),
            )
            buckets = {int(k[1:]): int(v) for k, v in (doc.get("buckets") or {}).items()}
            hours = {int(k[1:]): int(v) for k, v in (doc.get("hours") or {}).items()}
            out.append(CountRow(cell, Bucketed(int(doc.get("count", 0)), buckets, hours)))
        return out

    async def purge_before(self, day: date) -> int:
        result = await self.days.delete_many({"day": {"$lt": day.isoformat()}})
        return int(result.deleted_count)

    async def release(self, key: str) -> Document | None:
        return await self.releases.find_one({"_id": str(key)})

    async def keep_release(self, doc: Document) -> Document:
        try:
            await self.releases.insert_one(doc)
        except DuplicateKeyError:
            existing = await self.releases.find_one({"_id": doc["_id"]})
            if existing is not None:
                return existing
        return doc
