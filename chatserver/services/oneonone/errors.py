"""The refusal of a 1-on-1 use case (an HTTP status and the Dutch explanation) and the limits on what is typed."""

from __future__ import annotations

from chatserver.i18n import N_

MAX_TOPIC_CHARS = 200
MAX_NOTE_CHARS = 2000
MAX_COMMENT_CHARS = 1000


class OneOnOneError(Exception):
    def __init__(self, status: int, detail: str) -> None:
        super().__init__(detail)
        self.status = status
        self.detail = detail


def not_found() -> OneOnOneError:
    """The one answer for a chat that does not exist, is gone, or is not this person's."""
    return OneOnOneError(404, N_("Dit gesprek bestaat niet (meer)."))
