"""The refusals of the spreekuur use cases: one exception type, the not-found that reveals nothing, the full session."""

from __future__ import annotations

from chatserver.i18n import N_
from chatserver.services.refusal import Refused


class SpreekuurError(Refused):
    """A refused spreekuur use case."""


NOT_FOUND = SpreekuurError("not_found", 404, N_("Dit spreekuur bestaat niet of je hebt er geen toegang toe."))
FULL_DETAIL = N_(
    "Dit spreekuur is vol: er kunnen geen nieuwe bezoekers meer meedoen, dus je vraag is niet verstuurd. "
    "Na afloop lees je de beantwoorde vragen terug op deze pagina; kijk in de agenda voor een volgend spreekuur."
)
DECIDED = N_("Over deze vraag is al besloten.")
