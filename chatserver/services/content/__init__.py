"""Editorial content use cases: write once, publish to several flavours, review, schedule, revise, feature.

The package by concept: :mod:`.items` (the editor's door, drafts, versions, members' stories), :mod:`.workflow`
(status changes, scheduled publication, the second reviewer), :mod:`.public` (what visitors read),
:mod:`.featured` (each flavour's featured list) and :mod:`.service`, which builds them into the one
:class:`ContentService`. The pure rules are in :mod:`chatserver.domain.content`, re-exported here.
"""

from chatserver.domain.content import (
    ACTION_NAMES,
    CATEGORIES,
    EDITOR_ROLES,
    KIND_PLURALS,
    KINDS,
    MAX_BODY_CHARS,
    MAX_FEATURED,
    MAX_REASON_CHARS,
    MAX_SLUG_CHARS,
    MAX_SUMMARY_CHARS,
    MAX_TITLE_CHARS,
    MIN_STORY_CHARS,
    MIN_TITLE_CHARS,
    PAGE_SIZE,
    RESERVED_SLUGS,
    STAFF_LIST_LIMIT,
    STATUSES,
    Action,
    Draft,
    Kind,
    PublicPage,
    clean_text,
    in_scope,
    is_editor,
    slugify,
)
from chatserver.services.content.refusals import NOT_FOUND, ContentError
from chatserver.services.content.service import ContentService

__all__ = [
    "ACTION_NAMES",
    "CATEGORIES",
    "EDITOR_ROLES",
    "KINDS",
    "KIND_PLURALS",
    "MAX_BODY_CHARS",
    "MAX_FEATURED",
    "MAX_REASON_CHARS",
    "MAX_SLUG_CHARS",
    "MAX_SUMMARY_CHARS",
    "MAX_TITLE_CHARS",
    "MIN_STORY_CHARS",
    "MIN_TITLE_CHARS",
    "NOT_FOUND",
    "PAGE_SIZE",
    "RESERVED_SLUGS",
    "STAFF_LIST_LIMIT",
    "STATUSES",
    "Action",
    "ContentError",
    "ContentService",
    "Draft",
    "Kind",
    "PublicPage",
    "clean_text",
    "in_scope",
    "is_editor",
    "slugify",
]
