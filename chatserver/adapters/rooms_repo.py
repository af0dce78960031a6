"""MongoDB storage of chat rooms created by admins (``rooms``), with the same fields as a flavour file's Room."""

from __future__ import annotations

from typing import Any

from pymongo import ASCENDING, IndexModel
from pymongo.errors import DuplicateKeyError

from chatserver.adapters.mongo_client import Database, Document, Indexes, add_indexes
from chatserver.ports import RoomTaken as RoomTaken  # raised here; re-exported for old importers

ROOMS = "rooms"

# This aggregate's indexes; the app creates the indexes of every module it lists (chatserver/adapters/indexes.py).
INDEXES: Indexes = {}
add_indexes(
    INDEXES,
    ROOMS,
    IndexModel([("flavour", ASCENDING), ("slug", ASCENDING)], unique=True, name="room_flavour_slug"),
    IndexModel([("flavour", ASCENDING), ("active", ASCENDING)], name="room_flavour_active"),
)


class RoomsRepo:
    """Every query takes scalars we built ourselves, never a client dict."""

    def __init__(self, db: Database) -> None:
        self.rooms = db[ROOMS]

    async def insert(self, doc: Document) -> None:
        try:
            await self.rooms.insert_one(doc)
        except DuplicateKeyError as exc:
            raise RoomTaken(str(doc.get("slug", ""))) from exc

    async def get(self, flavour: str, slug: str) -> Document | None:
        return await self.rooms.find_one({"flavour": str(flavour), "slug": str(slug)})

    async def active(self, flavour: str) -> list[Document]:
        cursor = self.rooms.find({"flavour": str(flavour), "active": True}).sort("created_at", ASCENDING)
        return await cursor.to_list(length=500)

    async def in_flavours(self, flavours: list[str]) -> list[Document]:
        cursor = self.rooms.find({"flavour": {"$in": [str(f) for f in flavours]}}).sort("created_at", ASCENDING)
        return await cursor.to_list(length=2000)

    async def set_active(self, flavour: str, slug: str, active: bool, extra: dict[str, Any]) -> bool:
        fields = {"active": active, **extra}
        result = await self.rooms.update_one({"flavour": str(flavour), "slug": str(slug)}, {"$set": fields})
        return result.matched_count == 1
