"""Staffed 1-on-1 chat: the queue, accepting, transfer, warm escalation, ending, alerts, transcripts, retention.

:class:`OneOnOneService` (in :mod:`.service`) is the one door; the parts it is built from hold one concept each
(queue, conversation, crisis, upkeep, announce). The pure rules are in :mod:`chatserver.domain.oneonone`. The
names other modules import are re-exported here.
"""

from __future__ import annotations

from chatserver.domain.oneonone import OPEN_STATUSES, participants
from chatserver.services.oneonone.errors import MAX_COMMENT_CHARS, MAX_NOTE_CHARS, MAX_TOPIC_CHARS, OneOnOneError
from chatserver.services.oneonone.service import OneOnOneService

__all__ = [
    "MAX_COMMENT_CHARS",
    "MAX_NOTE_CHARS",
    "MAX_TOPIC_CHARS",
    "OPEN_STATUSES",
    "OneOnOneError",
    "OneOnOneService",
    "participants",
]
