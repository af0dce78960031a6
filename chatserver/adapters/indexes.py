"""The explicit list of modules whose MongoDB indexes the app creates at start-up.

A repository declares its indexes beside its queries (``INDEXES``); a new repository is added here, and a test
checks that no adapter module with ``INDEXES`` is left out.
"""

from __future__ import annotations

from chatserver.adapters import (
    accounts_repo,
    content_repo,
    event_store,
    forum_repo,
    markt_repo,
    moderation_store,
    oneonone_repo,
    reflectie_store,
    rooms_repo,
    spreekuur_repo,
    vraagbaak_repo,
)
from chatserver.adapters.mongo_client import Indexes

DECLARED: list[Indexes] = [
    event_store.INDEXES,
    accounts_repo.INDEXES,
    content_repo.INDEXES,
    forum_repo.INDEXES,
    markt_repo.INDEXES,
    moderation_store.INDEXES,
    oneonone_repo.INDEXES,
    reflectie_store.INDEXES,
    rooms_repo.INDEXES,
    spreekuur_repo.INDEXES,
    vraagbaak_repo.INDEXES,
]
