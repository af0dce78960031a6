"""The :class:`chatserver.ports.PersonalDataStore` over MongoDB and Redis: where export and erasure read and write.

Which collections and keys are walked is the list in :mod:`chatserver.adapters.privacy_places`; this adapter only
runs the queries the privacy service builds (from scalars, never a client's dict) and scans the key patterns under
the deployment's prefix.
"""

from __future__ import annotations

from collections.abc import Sequence

from chatserver.adapters.bulk import update_each
from chatserver.adapters.mongo_client import Database, Document
from chatserver.adapters.redis_client import Redis

SCAN_COUNT = 1000


class MongoPersonalData:
    def __init__(self, db: Database, redis: Redis, prefix: str = "") -> None:
        self.db = db
        self.redis = redis
        self.prefix = prefix

    async def find(
        self, collection: str, query: Document, projection: Document | None = None, limit: int = 0
    ) -> list[Document]:
        return [doc async for doc in self.db[collection].find(query, projection).limit(limit)]

    async def find_one(self, collection: str, query: Document, projection: Document | None = None) -> Document | None:
        return await self.db[collection].find_one(query, projection)

    async def insert(self, collection: str, doc: Document) -> None:
        await self.db[collection].insert_one(doc)

    async def update_one(self, collection: str, query: Document, update: Document, upsert: bool = False) -> None:
        await self.db[collection].update_one(query, update, upsert=upsert)

    async def update_many(self, collection: str, query: Document, update: Document) -> int:
        return int((await self.db[collection].update_many(query, update)).modified_count)

    async def update_each(self, collection: str, updates: Sequence[tuple[Document, Document]]) -> int:
        return await update_each(self.db[collection], updates)

    async def delete_many(self, collection: str, query: Document) -> int:
        return int((await self.db[collection].delete_many(query)).deleted_count)

    async def delete_keys(self, pattern: str) -> int:
        keys = [key async for key in self.redis.scan_iter(match=self.prefix + pattern, count=SCAN_COUNT)]
        for key in keys:  # one by one: in a cluster the keys live in different slots
            await self.redis.delete(key)
        return len(keys)

    async def leave_members(self, pattern: str, member: str) -> None:
        async for key in self.redis.scan_iter(match=self.prefix + pattern, count=SCAN_COUNT):
            kind = await self.redis.type(key)
            if kind == b"set":
                await self.redis.srem(key, member)
            elif kind == b"zset":
                await self.redis.zrem(key, member)
            elif kind == b"hash":
                await self.redis.hdel(key, member)
