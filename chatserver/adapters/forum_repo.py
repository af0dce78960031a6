"""MongoDB storage of forum threads, posts, edit history, follows and in-app notifications."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from pymongo import ASCENDING, DESCENDING, IndexModel, ReturnDocument

from chatserver.adapters.mongo_client import Database, Document, Indexes, add_indexes

THREADS = "forum_threads"
POSTS = "forum_posts"
REVISIONS = "forum_revisions"
FOLLOWS = "forum_follows"
NOTIFICATIONS = "notifications"
SEARCH_CANDIDATES = 300

# This aggregate's indexes; the app creates the indexes of every module it lists (chatserver/adapters/indexes.py).
INDEXES: Indexes = {}
add_indexes(
    INDEXES,
    THREADS,
    IndexModel(
        [("flavour", ASCENDING), ("category", ASCENDING), ("pinned", DESCENDING), ("last_post_at", DESCENDING)],
        name="by_category",
    ),
    IndexModel([("author_id", ASCENDING)], name="by_author"),
)
add_indexes(
    INDEXES,
    POSTS,
    IndexModel([("thread_id", ASCENDING), ("created_at", ASCENDING)], name="by_thread"),
    IndexModel([("flavour", ASCENDING), ("search_terms", ASCENDING)], name="search_terms"),
    IndexModel([("author_id", ASCENDING)], name="by_author"),
)
add_indexes(INDEXES, REVISIONS, IndexModel([("post_id", ASCENDING), ("version", ASCENDING)], name="by_post"))
add_indexes(INDEXES, FOLLOWS, IndexModel([("thread_id", ASCENDING)], name="by_thread"))
add_indexes(
    INDEXES, NOTIFICATIONS, IndexModel([("account_id", ASCENDING), ("created_at", DESCENDING)], name="by_account")
)


def readable_filter(thread_id: str, viewer_id: str | None, staff: bool) -> dict[str, Any]:
    """Posts of a thread that a viewer may see: visible ones, held ones of their own (staff: all held ones)."""
    if staff:
        return {"thread_id": thread_id, "status": {"$in": ["visible", "held"]}}
    if viewer_id:
        return {
            "thread_id": thread_id,
            "$or": [{"status": "visible"}, {"status": "held", "author_id": viewer_id}],
        }
    return {"thread_id": thread_id, "status": "visible"}


class ForumRepo:
    def __init__(self, db: Database) -> None:
        self.threads = db[THREADS]
        self.posts = db[POSTS]
        self.revisions = db[REVISIONS]
        self.follows = db[FOLLOWS]
        self.notifications = db[NOTIFICATIONS]

    # threads ------------------------------------------------------------------------------------

    async def insert_thread(self, doc: Document) -> None:
        await self.threads.insert_one(doc)

    async def thread(self, thread_id: str) -> Document | None:
        found: Document | None = await self.threads.find_one({"_id": thread_id})
        return found

    async def update_thread(self, thread_id: str, changes: dict[str, Any]) -> None:
        await self.threads.update_one({"_id": thread_id}, changes)

    async def category_page(
        self, flavour: str, category: str, viewer_id: str | None, skip: int, limit: int
    ) -> tuple[list[Document], int]:
        visible: dict[str, Any] = {"flavour": flavour, "category": category, "status": "visible"}
        query: dict[str, Any] = visible
        if viewer_id:
            query = {
                "flavour": flavour,
                "category": category,
                "$or": [{"status": "visible"}, {"status": "held", "author_id": viewer_id}],
            }
        total = await self.threads.count_documents(query)
        cursor = (
            self.threads.find(query)
            .sort([("pinned", DESCENDING), ("last_post_at", DESCENDING), ("_id", ASCENDING)])
            .skip(skip)
            .limit(limit)
        )
        return [doc async for doc in cursor], total

    async def latest_by_category(self, flavour: str) -> dict[str, Document]:
        """The most recently active visible thread per category, for the forum index."""
        out: dict[str, Document] = {}
        cursor = (
            self.threads.find({"flavour": flavour, "status": "visible"}).sort("last_post_at", DESCENDING).limit(500)
        )
        async for doc in cursor:
            out.setdefault(str(doc["category"]), doc)
        return out

    async def count_by_category(self, flavour: str) -> dict[str, int]:
        out: dict[str, int] = {}
        async for doc in self.threads.find({"flavour": flavour, "status": "visible"}, {"category": 1}):
            key = str(doc["category"])
            out[key] = out.get(key, 0) + 1
        return out

    async def threads_by_ids(self, ids: list[str]) -> dict[str, Document]:
        return {str(doc["_id"]): doc async for doc in self.threads.find({"_id": {"$in": ids}})}

    async def has_threads(self, flavour: str) -> bool:
        return await self.threads.count_documents({"flavour": flavour}, limit=1) > 0

    # posts --------------------------------------------------------------------------------------

    async def insert_post(self, doc: Document) -> None:
        await self.posts.insert_one(doc)

    async def post(self, post_id: str) -> Document | None:
        found: Document | None = await self.posts.find_one({"_id": post_id})
        return found

    async def set_post(
        self, post_id: str, changes: dict[str, Any], expect_status: str | None = None
    ) -> Document | None:
        """Apply ``$set`` changes; with ``expect_status`` only when the post still has it. Returns the new post."""
        query: dict[str, Any] = {"_id": post_id}
        if expect_status is not None:
            query["status"] = expect_status
        found: Document | None = await self.posts.find_one_and_update(
            query, {"$set": changes}, return_document=ReturnDocument.AFTER
        )
        return found

    async def thread_posts(
        self, thread_id: str, viewer_id: str | None, staff: bool, skip: int, limit: int
    ) -> tuple[list[Document], int]:
        query = readable_filter(thread_id, viewer_id, staff)
        total = await self.posts.count_documents(query)
        cursor = self.posts.find(query).sort([("created_at", ASCENDING), ("_id", ASCENDING)]).skip(skip).limit(limit)
        return [doc async for doc in cursor], total

    async def position(self, post: Document, viewer_id: str | None, staff: bool) -> int:
        """How many readable posts of the thread come before ``post`` (for its page number)."""
        query = readable_filter(str(post["thread_id"]), viewer_id, staff)
        query["created_at"] = {"$lt": post["created_at"]}
        return int(await self.posts.count_documents(query))

    async def search_candidates(self, flavour: str, terms: list[str]) -> list[Document]:
        query = {"flavour": flavour, "status": "visible", "search_terms": {"$in": terms}}
        projection = {"body": 1, "thread_id": 1, "created_at": 1, "search_terms": 1, "author_pseudonym": 1}
        cursor = self.posts.find(query, projection).sort("created_at", DESCENDING).limit(SEARCH_CANDIDATES)
        return [doc async for doc in cursor]

    # revisions ----------------------------------------------------------------------------------

    async def insert_revision(self, doc: Document) -> None:
        await self.revisions.insert_one(doc)

    async def revisions_of(self, post_id: str) -> list[Document]:
        cursor = self.revisions.find({"post_id": post_id}).sort("version", DESCENDING).limit(100)
        return [doc async for doc in cursor]

    # follows ------------------------------------------------------------------------------------

    async def follow(self, account_id: str, thread_id: str, flavour: str, now: datetime) -> None:
        await self.follows.update_one(
            {"_id": f"{account_id}:{thread_id}"},
            {"$setOnInsert": {"account_id": account_id, "thread_id": thread_id, "flavour": flavour, "created_at": now}},
            upsert=True,
        )

    async def unfollow(self, account_id: str, thread_id: str) -> None:
        await self.follows.delete_one({"_id": f"{account_id}:{thread_id}"})

    async def is_following(self, account_id: str, thread_id: str) -> bool:
        return await self.follows.count_documents({"_id": f"{account_id}:{thread_id}"}, limit=1) > 0

    async def followers(self, thread_id: str) -> list[str]:
        return [str(doc["account_id"]) async for doc in self.follows.find({"thread_id": thread_id}, {"account_id": 1})]

    # notifications ------------------------------------------------------------------------------

    async def insert_notifications(self, docs: list[Document]) -> None:
        if docs:
            await self.notifications.insert_many(docs, ordered=False)

    async def notifications_of(self, account_id: str, limit: int) -> list[Document]:
        cursor = self.notifications.find({"account_id": account_id}).sort("created_at", DESCENDING).limit(limit)
        return [doc async for doc in cursor]

    async def unread_count(self, account_id: str) -> int:
        return int(await self.notifications.count_documents({"account_id": account_id, "read": False}))

    async def mark_read(self, account_id: str, notification_id: str | None = None) -> None:
        query: dict[str, Any] = {"account_id": account_id, "read": False}
        if notification_id is not None:
            query["_id"] = notification_id
        await self.notifications.update_many(query, {"$set": {"read": True}})
