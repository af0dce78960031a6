"""The one refusal of the forum's use cases, and the not-found that every hidden or foreign thread answers."""

from __future__ import annotations

from dataclasses import dataclass

from chatserver.domain.forum import PostStatus
from chatserver.i18n import N_
from chatserver.services.refusal import Refused


class ForumError(Refused):
    """A refused forum use case."""


NOT_FOUND = ForumError("not_found", 404, N_("Dit onderwerp bestaat niet of je hebt er geen toegang toe."))


@dataclass(frozen=True, slots=True)
class Posted:
    """What became of a new post or an edit: visible, or held with the notice for its author."""

    thread_id: str
    post_id: str
    status: PostStatus
    notice: str = ""
    crisis: bool = False
