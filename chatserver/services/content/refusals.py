"""The refusals of the content use cases, and the editor check every editorial door starts with."""

from __future__ import annotations

from chatserver.domain.content import is_editor
from chatserver.domain.identity import Actor
from chatserver.i18n import N_
from chatserver.services.refusal import Refused


class ContentError(Refused):
    """A refused content use case."""


NOT_FOUND = ContentError("not_found", 404, N_("Dit stuk bestaat niet of je hebt er geen toegang toe."))
CONFLICT_RELOAD = N_("Iemand anders heeft dit stuk intussen opgeslagen. Laad de pagina opnieuw.")


def require_editor(actor: Actor | None) -> Actor:
    """The actor when they are an editor (or admin); anyone else gets the not-found that reveals nothing."""
    if actor is None or not is_editor(actor):
        raise NOT_FOUND
    return actor
