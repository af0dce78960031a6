"""MongoDB storage of 1-on-1 chats, shift status, the roster, alerts and the safeguarding audit."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from pymongo import ASCENDING, DESCENDING, IndexModel, ReturnDocument

from chatserver.adapters.event_store import EVENTS
from chatserver.adapters.mongo_client import Database, Document, Indexes, add_indexes

CHATS = "oneonone_chats"
SHIFTS = "shift_status"
ROSTER = "shift_roster"
ALERTS = "oneonone_alerts"
AUDIT = "oneonone_audit"

# This aggregate's indexes; the app creates the indexes of every module it lists (chatserver/adapters/indexes.py).
INDEXES: Indexes = {}
add_indexes(
    INDEXES,
    CHATS,
    IndexModel([("flavour", ASCENDING), ("status", ASCENDING), ("queued_at", ASCENDING)], name="chat_queue"),
    IndexModel([("visitor_id", ASCENDING), ("status", ASCENDING)], name="chat_visitor"),
    IndexModel([("staff_id", ASCENDING), ("status", ASCENDING)], name="chat_staff"),
    IndexModel([("status", ASCENDING), ("ended_at", ASCENDING)], name="chat_ended"),
)
add_indexes(INDEXES, ROSTER, IndexModel([("flavour", ASCENDING), ("start_at", ASCENDING)], name="roster_flavour_start"))
add_indexes(INDEXES, ROSTER, IndexModel([("end_at", ASCENDING)], name="roster_end"))
add_indexes(INDEXES, ALERTS, IndexModel([("flavour", ASCENDING), ("at", DESCENDING)], name="alerts_flavour_at"))
add_indexes(INDEXES, AUDIT, IndexModel([("chat_id", ASCENDING), ("at", ASCENDING)], name="audit_chat"))


class OneOnOneRepo:
    """Every query is built from scalars of our own, never from a client dict."""

    def __init__(self, db: Database) -> None:
        self.chats = db[CHATS]
        self.shifts = db[SHIFTS]
        self.roster = db[ROSTER]
        self.alerts = db[ALERTS]
        self.audit = db[AUDIT]
        self.events = db[EVENTS]

    # chats --------------------------------------------------------------------------------

    async def insert_chat(self, doc: Document) -> None:
        await self.chats.insert_one(doc)

    async def chat(self, chat_id: str) -> Document | None:
        return await self.chats.find_one({"_id": chat_id})

    async def open_chat_of_visitor(self, visitor_id: str, flavour: str) -> Document | None:
        return await self.chats.find_one(
            {"visitor_id": visitor_id, "flavour": flavour, "status": {"$in": ["waiting", "active"]}}
        )

    async def waiting(self, flavours: list[str]) -> list[Document]:
        cursor = self.chats.find({"flavour": {"$in": flavours}, "status": "waiting"}).sort("queued_at", ASCENDING)
        return [d async for d in cursor]

    async def active_of_staff(self, staff_id: str) -> list[Document]:
        cursor = self.chats.find({"staff_id": staff_id, "status": "active"}).sort("assigned_at", ASCENDING)
        return [d async for d in cursor]

    async def count_active_of_staff(self, staff_id: str) -> int:
        return int(await self.chats.count_documents({"staff_id": staff_id, "status": "active"}))

    async def active(self) -> list[Document]:
        return [d async for d in self.chats.find({"status": "active"})]

    async def all_waiting(self) -> list[Document]:
        return [d async for d in self.chats.find({"status": "waiting"})]

    async def update_chat(
        self,
        chat_id: str,
        statuses: list[str],
        changes: Document,
        push: Document | None = None,
        extra: Document | None = None,
    ) -> Document | None:
        """Apply ``changes`` only while the chat is in one of ``statuses`` (no lost updates)."""
        query: Document = {"_id": chat_id, "status": {"$in": statuses}}
        if extra:
            query.update(extra)
        update: Document = {"$set": changes}
        if push:
            update["$push"] = push
        return await self.chats.find_one_and_update(query, update, return_document=ReturnDocument.AFTER)

    async def push_note(self, chat_id: str, note: Document) -> Document | None:
        return await self.chats.find_one_and_update(
            {"_id": chat_id}, {"$push": {"notes": note}}, return_document=ReturnDocument.AFTER
        )

    async def set_fields(self, chat_id: str, changes: Document) -> Document | None:
        return await self.chats.find_one_and_update(
            {"_id": chat_id}, {"$set": changes}, return_document=ReturnDocument.AFTER
        )

    async def add_staff(self, chat_id: str, staff_id: str) -> Document | None:
        return await self.chats.find_one_and_update(
            {"_id": chat_id}, {"$addToSet": {"staff_ids": staff_id}}, return_document=ReturnDocument.AFTER
        )

    async def purgeable(self, flavour: str, ended_before: datetime) -> list[Document]:
        cursor = self.chats.find(
            {
                "flavour": flavour,
                "status": "ended",
                "ended_at": {"$lte": ended_before},
                "purged": {"$ne": True},
                "hold": None,
            },
            {"_id": 1, "channel": 1, "erased_visitor": 1},
        )
        return [d async for d in cursor]

    # events of a chat's channel ------------------------------------------------------------

    async def messages(self, channel: str, limit: int | None = None) -> list[Document]:
        if limit is None:
            return [d async for d in self.events.find({"channel": channel}).sort("offset", ASCENDING)]
        cursor = self.events.find({"channel": channel}).sort("offset", DESCENDING).limit(limit)
        return [d async for d in cursor][::-1]  # the newest ``limit``, shown oldest first

    async def last_message_by(self, channel: str, sender: str) -> Document | None:
        return await self.events.find_one(
            {"channel": channel, "sender": sender, "kind": "message"}, sort=[("offset", DESCENDING)]
        )

    async def first_message_after(self, channel: str, sender: str, after: datetime) -> Document | None:
        return await self.events.find_one(
            {"channel": channel, "sender": sender, "kind": "message", "ts": {"$gt": after}},
            sort=[("offset", ASCENDING)],
        )

    async def delete_events(self, channel: str) -> int:
        result = await self.events.delete_many({"channel": channel})
        return int(result.deleted_count)

    # shift status -----------------------------------------------------------------------------

    async def shift(self, account_id: str) -> Document | None:
        return await self.shifts.find_one({"_id": account_id})

    async def put_shift(self, doc: Document) -> None:
        await self.shifts.replace_one({"_id": doc["_id"]}, doc, upsert=True)

    async def delete_shift(self, account_id: str) -> None:
        await self.shifts.delete_one({"_id": account_id})

    async def shifts_in(self, flavour: str) -> list[Document]:
        return [d async for d in self.shifts.find({"flavours": flavour})]

    async def all_shifts(self) -> list[Document]:
        return [d async for d in self.shifts.find({})]

    # roster ------------------------------------------------------------------------------------

    async def add_block(self, doc: Document) -> None:
        await self.roster.insert_one(doc)

    async def delete_block(self, block_id: str, flavours: list[str]) -> bool:
        result = await self.roster.delete_one({"_id": block_id, "flavour": {"$in": flavours}})
        return result.deleted_count == 1

    async def blocks(self, flavour: str, start: datetime, end: datetime) -> list[Document]:
        cursor = self.roster.find({"flavour": flavour, "end_at": {"$gt": start}, "start_at": {"$lt": end}})
        return [d async for d in cursor.sort("start_at", ASCENDING)]

    async def due_blocks(self, now: datetime) -> list[Document]:
        """Blocks that should have started (not yet applied) or ended (not yet applied)."""
        cursor = self.roster.find(
            {
                "$or": [
                    {"started": {"$ne": True}, "start_at": {"$lte": now}},
                    {"ended": {"$ne": True}, "end_at": {"$lte": now}},
                ]
            }
        )
        return [d async for d in cursor]

    async def mark_block(self, block_id: str, field: str) -> bool:
        result = await self.roster.update_one({"_id": block_id, field: {"$ne": True}}, {"$set": {field: True}})
        return result.modified_count == 1

    async def count_blocks(self, flavour: str, start: datetime, end: datetime) -> int:
        return int(await self.roster.count_documents({"flavour": flavour, "start_at": {"$gte": start, "$lt": end}}))

    # alerts and audit ---------------------------------------------------------------------------

    async def add_alert(self, doc: Document) -> None:
        await self.alerts.insert_one(doc)

    async def recent_alerts(self, flavours: list[str], limit: int = 20) -> list[Document]:
        """The newest alerts that still hold (a resolved coverage alert no longer shows)."""
        query = {"flavour": {"$in": flavours}, "resolved": {"$ne": True}}
        cursor = self.alerts.find(query).sort("at", DESCENDING).limit(limit)
        return [d async for d in cursor]

    async def resolve_alerts(self, flavour: str, kind: str, at: datetime) -> int:
        """Mark the open alerts of ``kind`` in ``flavour`` resolved; how many were open."""
        result = await self.alerts.update_many(
            {"flavour": flavour, "kind": kind, "resolved": {"$ne": True}},
            {"$set": {"resolved": True, "resolved_at": at}},
        )
        return int(result.modified_count)

    async def add_audit(self, doc: dict[str, Any]) -> None:
        await self.audit.insert_one(doc)

    async def audit_of(self, chat_id: str) -> list[Document]:
        return [d async for d in self.audit.find({"chat_id": chat_id}).sort("at", ASCENDING)]
