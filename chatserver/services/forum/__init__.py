"""The forum: threads, replies, quotes, edit history, pin/lock, reports, pre-moderation, search, follows.

:class:`ForumService` (in :mod:`.service`) is the one door to forum posts; the parts it is built from hold one
concept each (posts, editing, decisions, follows, search, demo). The pure rules are in
:mod:`chatserver.domain.forum`. The names other modules import are re-exported here.
"""

from __future__ import annotations

from chatserver.domain.forum import (
    MAX_BODY_CHARS,
    MAX_TITLE_CHARS,
    PAGE_SIZE,
    Page,
    PostStatus,
    clean_text,
    fold,
    is_forum_staff,
    pages_for,
    quote_of,
    search_terms,
)
from chatserver.services.forum.errors import NOT_FOUND, ForumError, Posted
from chatserver.services.forum.posts import HOLD_NOTICE, PREMODERATED_NOTICE
from chatserver.services.forum.service import ForumService

__all__ = [
    "HOLD_NOTICE",
    "MAX_BODY_CHARS",
    "MAX_TITLE_CHARS",
    "NOT_FOUND",
    "PAGE_SIZE",
    "PREMODERATED_NOTICE",
    "ForumError",
    "ForumService",
    "Page",
    "PostStatus",
    "Posted",
    "clean_text",
    "fold",
    "is_forum_staff",
    "pages_for",
    "quote_of",
    "search_terms",
]
