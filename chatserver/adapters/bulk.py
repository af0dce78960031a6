"""Many single-document updates in few round trips (``bulk_write``), for services that must not import pymongo."""

from __future__ import annotations

from collections.abc import Sequence

from pymongo import UpdateOne
from pymongo.asynchronous.collection import AsyncCollection

from chatserver.adapters.mongo_client import Document

BULK_CHUNK = 500


async def update_each(collection: AsyncCollection[Document], updates: Sequence[tuple[Document, Document]]) -> int:
    """Apply each (filter, update) to one document, unordered, ``BULK_CHUNK`` per round trip; how many were sent."""
    for start in range(0, len(updates), BULK_CHUNK):
        ops = [UpdateOne(query, update) for query, update in updates[start : start + BULK_CHUNK]]
        await collection.bulk_write(ops, ordered=False)
    return len(updates)
