"""Editorial content, the pure rules: kinds, categories and statuses with their Dutch names, the limits of the forms,
text cleaning and slugs, who edits what, the workflow (which status changes each state allows) and the
second-reviewer rule for publishing."""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any, Literal

from chatserver.domain.identity import Actor
from chatserver.i18n import N_

Kind = Literal["article", "faq", "story"]
Action = Literal["submit", "publish", "unpublish", "archive", "reject", "draft"]

KINDS: dict[str, str] = {"article": N_("Artikel"), "faq": N_("Veelgestelde vraag"), "story": N_("Ervaringsverhaal")}
KIND_PLURALS: dict[str, str] = {
    "article": N_("Artikelen"),
    "faq": N_("Veelgestelde vragen"),
    "story": N_("Ervaringsverhalen"),
}
CATEGORIES: dict[str, str] = {"psycho-educatie": N_("Psycho-educatie"), "zelfhulp": N_("Zelfhulp"), "": N_("Geen")}
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
RESERVED_SLUGS = frozenset({"verhaal-insturen", "mijn-verhalen", "nieuw", "uitgelicht"})

MAX_TITLE_CHARS = 150
MIN_TITLE_CHARS = 3
MAX_SUMMARY_CHARS = 300
MAX_BODY_CHARS = 40_000
MIN_STORY_CHARS = 50
MAX_REASON_CHARS = 500
MAX_SLUG_CHARS = 80
PAGE_SIZE = 10
STAFF_LIST_LIMIT = 200
MAX_FEATURED = 12


@dataclass(frozen=True, slots=True)
class Draft:
    """What an editor's form holds; validated by ``ContentService.check_draft``."""

    kind: str
    title: str
    body: str
    flavours: tuple[str, ...]
    summary: str = ""
    category: str = ""


@dataclass(frozen=True, slots=True)
class PublicPage:
    items: list[dict[str, Any]]
    total: int
    page: int
    pages: int


def clean_text(value: str, limit: int) -> str:
    """Trimmed, capped, NFC text without lone surrogates or control characters (newlines and tabs kept)."""
    value = value.encode("utf-8", "replace").decode("utf-8")
    value = unicodedata.normalize("NFC", value)
    value = "".join(ch for ch in value if ch in "\n\t" or unicodedata.category(ch) != "Cc")
    return value.replace("\r", "").strip()[:limit]


def slugify(title: str) -> str:
    """A URL slug from a title: ASCII letters, digits and hyphens."""
    ascii_title = unicodedata.normalize("NFKD", title).encode("ascii", "ignore").decode("ascii").lower()
    slug = re.sub(r"[^a-z0-9]+", "-", ascii_title).strip("-")
    return slug[:MAX_SLUG_CHARS].rstrip("-") or "stuk"


def is_editor(actor: Actor | None) -> bool:
    return actor is not None and actor.is_staff and actor.role in EDITOR_ROLES


def in_scope(actor: Actor, flavours: Iterable[str]) -> bool:
    """Every target flavour lies in the editor's scope (admins: everything)."""
    return all(actor.staff_in(f) for f in flavours)


def last_editor(doc: Mapping[str, Any]) -> str:
    """Whoever saved the piece last (its author until someone else saved it)."""
    return str(doc.get("updated_by_id") or doc.get("author_id") or "")


# action -> (the states it may start from, the state it leads to). The one table: the service checks against it
# and the status form offers exactly these actions. No action leads from a state to itself.
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


def involved_in(submitted_by: str, last_edited_by: str) -> frozenset[str]:
    """Who may not be the second reviewer: whoever submitted the piece for review or edited it last."""
    return frozenset(x for x in (submitted_by, last_edited_by) if x)


def needs_second_reviewer(flavours: Iterable[str], strict_flavours: Iterable[str]) -> bool:
    """A piece needs a second reviewer when any flavour it targets asks for one."""
    return bool(set(flavours) & set(strict_flavours))
