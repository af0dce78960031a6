"""The market's refusals: one exception shape, a Dutch detail for the person, a field for the form."""

from __future__ import annotations

from chatserver.i18n import N_
from chatserver.services.refusal import Refused


class MarktError(Refused):
    """A refused market use case."""


def not_found() -> MarktError:
    """The same answer for what does not exist and what the asker may not see."""
    return MarktError("not_found", 404, N_("Dit aanbod bestaat niet of je hebt er geen toegang toe."))
