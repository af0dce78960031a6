"""The VraagBaak, the pure rules: a question's statuses and their Dutch names, the limits, the private link's token
and its stored hash, and who among staff may see a question."""

from __future__ import annotations

import hashlib
import re
from collections.abc import Mapping
from typing import Any

from chatserver.domain.identity import Actor
from chatserver.i18n import N_

RETENTION_DAYS = 60
UNHANDLED_RETENTION_DAYS = 180
MIN_QUESTION_CHARS = 10
MAX_QUESTION_CHARS = 3000
MAX_ANSWER_CHARS = 10_000
MAX_NOTE_CHARS = 1000
MAX_URL_CHARS = 500
STAFF_LIST_LIMIT = 300
RECENTLY_DONE_LIMIT = 50
TOKEN_RE = re.compile(r"^[A-Za-z0-9_-]{20,100}$")

STATUSES: dict[str, str] = {
    "open": N_("Wacht op een medewerker"),
    "claimed": N_("Een medewerker is ermee bezig"),
    "answered": N_("Beantwoord"),
    "routed": N_("Doorverwezen"),
    "closed": N_("Gesloten"),
}
ACTIVE_STATUSES = ("open", "claimed")
"""A question in one of these still waits for staff; any other status is done (and counts towards retention)."""

OUTCOME_TEXTS: dict[str, str] = {
    "answered": N_("Je vraag aan de VraagBaak is beantwoord."),
    "routed": N_("Je vraag aan de VraagBaak is doorgestuurd; er staat een link naar het antwoord klaar."),
    "closed": N_("Een medewerker heeft je vraag aan de VraagBaak gesloten."),
}
"""What a member who asked while logged in is told when their question reaches one of these statuses."""


def hash_token(token: str) -> str:
    """The stored form of a private link's token (the token itself is never stored)."""
    return hashlib.sha256(token.encode()).hexdigest()


def may_see(actor: Actor | None, doc: Mapping[str, Any]) -> bool:
    """Staff see questions routed to their flavours and every unrouted (portal) question."""
    if actor is None or not actor.is_staff:
        return False
    flavour = doc.get("flavour")
    return flavour is None or actor.staff_in(str(flavour))
