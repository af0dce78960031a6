"""The one PyMongo ``AsyncMongoClient`` of a process, index creation and health."""

from __future__ import annotations

import asyncio
import logging
from typing import Any

from pymongo import AsyncMongoClient, IndexModel
from pymongo.asynchronous.database import AsyncDatabase
from pymongo.errors import PyMongoError

log = logging.getLogger("chatserver.mongo")

HEALTH_TIMEOUT_S = 2.0

Document = dict[str, Any]
MongoClient = AsyncMongoClient[Document]
Database = AsyncDatabase[Document]

# Index declarations of every aggregate, created idempotently at start-up.
# Features add their collections here, next to the repository that uses them.
INDEXES: dict[str, list[IndexModel]] = {}


def register_indexes(collection: str, *indexes: IndexModel) -> None:
    INDEXES.setdefault(collection, []).extend(indexes)


def open_mongo(url: str) -> MongoClient:
    return AsyncMongoClient(
        url,
        serverSelectionTimeoutMS=3000,
        connectTimeoutMS=2000,
        socketTimeoutMS=10000,
        retryWrites=True,
        tz_aware=True,
        appname="gem-chatserver",
    )


async def ensure_indexes(db: Database) -> None:
    for collection, indexes in INDEXES.items():
        if indexes:
            await db[collection].create_indexes(indexes)
    log.info("indexes ensured for %d collections", len(INDEXES))


async def mongo_health(client: MongoClient) -> dict[str, Any]:
    try:
        async with asyncio.timeout(HEALTH_TIMEOUT_S):
            info = await client.admin.command("buildInfo")
        return {"reachable": True, "version": str(info.get("version", ""))}
    except (PyMongoError, OSError, TimeoutError) as exc:
        return {"reachable": False, "error": type(exc).__name__}
