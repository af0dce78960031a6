"""What the editorial products share (the content CMS and the VitaliteitsMarkt): the workflow of a piece (its
states, actions and the one table of transitions), who edits, clean text and slugs. Pure functions, no I/O."""

from __future__ import annotations

import re
import unicodedata

from chatserver.domain.identity import Actor
from chatserver.i18n import N_

STATUSES: dict[str, str] = {
    "draft": N_("Concept"),
    "in_review": N_("Ter beoordeling"),
    "published": N_("Gepubliceerd"),
    "unpublished": N_("Offline gehaald"),
    "archived": N_("Gearchiveerd"),
    "rejected": N_("Afgewezen"),
}
ACTION_NAMES: dict[str, str] = {
    "submit": N_("Ter beoordeling aanbieden"),
    "publish": N_("Publiceren"),
    "unpublish": N_("Offline halen"),
    "archive": N_("Archiveren"),
    "reject": N_("Afwijzen"),
    "draft": N_("Terug naar concept"),
}
EDITOR_ROLES = frozenset({"editor", "admin"})
MAX_SLUG_CHARS = 80

# action -> (the states it may start from, the state it leads to). The one table: the services check against it
# and the status forms offer exactly these actions. No action leads from a state to itself.
TRANSITIONS: dict[str, tuple[frozenset[str], str]] = {
    "submit": (frozenset({"draft", "rejected", "unpublished"}), "in_review"),
    "publish": (frozenset({"draft", "in_review", "unpublished"}), "published"),
    "unpublish": (frozenset({"published"}), "unpublished"),
    "archive": (frozenset({"draft", "in_review", "published", "unpublished", "rejected"}), "archived"),
    "reject": (frozenset({"in_review"}), "rejected"),
    "draft": (frozenset({"in_review", "unpublished", "archived", "rejected"}), "draft"),
}


def allowed_actions(status: str) -> tuple[str, ...]:
    """The actions a piece in ``status`` allows, in the table's order."""
    return tuple(action for action, (sources, _target) in TRANSITIONS.items() if status in sources)


def target_of(status: str, action: str) -> str | None:
    """The state ``action`` leads to from ``status``; None when the table does not allow it."""
    rule = TRANSITIONS.get(action)
    if rule is None or status not in rule[0]:
        return None
    return rule[1]


def is_editor(actor: Actor | None) -> bool:
    return actor is not None and actor.is_staff and actor.role in EDITOR_ROLES


def clean_text(value: str, limit: int, *, drop_format: bool = False) -> str:
    """Trimmed, capped NFC text without lone surrogates or control characters (newlines and tabs kept).

    ``drop_format`` also drops format characters (zero-width and direction marks): for names and search words, not
    for running text, where a zero-width joiner holds an emoji together.
    """
    dropped = ("Cc", "Cf", "Cs") if drop_format else ("Cc",)
    value = value.encode("utf-8", "replace").decode("utf-8")
    value = unicodedata.normalize("NFC", value)
    value = "".join(ch for ch in value if ch in "\n\t" or unicodedata.category(ch) not in dropped)
    return value.replace("\r", "").strip()[:limit]


def slugify(title: str, fallback: str) -> str:
    """A URL slug from a title: ASCII letters, digits and hyphens; ``fallback`` when nothing of it is left."""
    ascii_title = unicodedata.normalize("NFKD", title).encode("ascii", "ignore").decode("ascii").lower()
    slug = re.sub(r"[^a-z0-9]+", "-", ascii_title).strip("-")
    return slug[:MAX_SLUG_CHARS].rstrip("-") or fallback
