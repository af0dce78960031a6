"""The one PyMongo ``AsyncMongoClient`` of a process, index creation and health."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Iterator
from typing import Any

import pymongo
from pymongo import AsyncMongoClient, IndexModel
from pymongo.asynchronous.database import AsyncDatabase
from pymongo.errors import PyMongoError

from chatserver.adapters.metered import MongoCommandCounter

log = logging.getLogger("chatserver.mongo")

HEALTH_TIMEOUT_S = 2.0
# Every operation of the client is bounded (client-side operation timeout, CSOT): server selection, the
# socket wait and retries together. A request path (a page, an API call, a publish before its commit)
# answers within REQUEST_TIMEOUT_S even when the database hangs. Work outside a request (start-up index
# creation, background jobs, the CLI) runs inside ``deadline(...)`` with a longer bound of its own.
REQUEST_TIMEOUT_S = 2.0
SERVER_SELECTION_TIMEOUT_MS = 2000
CONNECT_TIMEOUT_MS = 2000
JOB_TIMEOUT_S = 60.0
GROUP_COMMIT_TIMEOUT_S = 2.5
RETRY_AFTER_S = 5

# What a database that is down, unreachable or too slow raises (for handlers outside the adapters).
DatabaseError = PyMongoError

Document = dict[str, Any]
MongoClient = AsyncMongoClient[Document]
Database = AsyncDatabase[Document]

# The index declarations of one module: collection -> its indexes, next to the repository that uses them.
Indexes = dict[str, list[IndexModel]]


def add_indexes(target: Indexes, collection: str, *indexes: IndexModel) -> None:
    target.setdefault(collection, []).extend(indexes)


def open_mongo(url: str) -> MongoClient:
    return AsyncMongoClient(
        url,
        timeoutMS=int(REQUEST_TIMEOUT_S * 1000),
        serverSelectionTimeoutMS=SERVER_SELECTION_TIMEOUT_MS,
        connectTimeoutMS=CONNECT_TIMEOUT_MS,
        retryWrites=True,
        tz_aware=True,
        appname="gem-chatserver",
        event_listeners=[MongoCommandCounter()],  # commands and errors for /metrics
    )


@contextlib.contextmanager
def deadline(seconds: float) -> Iterator[None]:
    """A bound for the database calls inside the block, in place of REQUEST_TIMEOUT_S (nested: the tighter wins)."""
    bound = pymongo.timeout(seconds)
    bound.__enter__()
    try:
        yield
    finally:
        # A task destroyed while pending closes its coroutine outside its own context, where the driver's
        # context-variable tokens cannot be reset; that context is gone anyway, so there is nothing to restore.
        with contextlib.suppress(ValueError):
            bound.__exit__(None, None, None)


async def ensure_indexes(db: Database, declared: list[Indexes]) -> None:
    """Create every declared index (idempotent); ``declared`` is the explicit list of the app's modules."""
    collections: set[str] = set()
    for indexes in declared:
        for collection, models in indexes.items():
            if models:
                await db[collection].create_indexes(models)
            collections.add(collection)
    log.info("indexes ensured for %d collections", len(collections))


async def mongo_health(client: MongoClient) -> dict[str, Any]:
    try:
        async with asyncio.timeout(HEALTH_TIMEOUT_S):
            info = await client.admin.command("buildInfo")
        return {"reachable": True, "version": str(info.get("version", ""))}
    except (PyMongoError, OSError, TimeoutError) as exc:
        return {"reachable": False, "error": type(exc).__name__}
