"""Editorial content, the pure rules: kinds, categories and statuses with their Dutch names, the limits of the forms,
text cleaning and slugs, who edits what, the workflow (which status changes each state allows) and the
second-reviewer rule for publishing."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any, Literal

from chatserver.domain import editorial

# The workflow and who edits live in chatserver.domain.editorial (shared with the market); named here too.
from chatserver.domain.editorial import (
    ACTION_NAMES,
    EDITOR_ROLES,
    MAX_SLUG_CHARS,
    STATUSES,
    TRANSITIONS,
    allowed_actions,
    is_editor,
    target_of,
)
from chatserver.domain.identity import Actor
from chatserver.i18n import N_

__all__ = [  # what other modules take from here besides its own definitions
    "ACTION_NAMES",
    "EDITOR_ROLES",
    "MAX_SLUG_CHARS",
    "STATUSES",
    "TRANSITIONS",
    "allowed_actions",
    "is_editor",
    "target_of",
]

Kind = Literal["article", "faq", "story"]
Action = Literal["submit", "publish", "unpublish", "archive", "reject", "draft"]

KINDS: dict[str, str] = {"article": N_("Artikel"), "faq": N_("Veelgestelde vraag"), "story": N_("Ervaringsverhaal")}
KIND_PLURALS: dict[str, str] = {
    "article": N_("Artikelen"),
    "faq": N_("Veelgestelde vragen"),
    "story": N_("Ervaringsverhalen"),
}
CATEGORIES: dict[str, str] = {"psycho-educatie": N_("Psycho-educatie"), "zelfhulp": N_("Zelfhulp"), "": N_("Geen")}
RESERVED_SLUGS = frozenset({"verhaal-insturen", "mijn-verhalen", "nieuw", "uitgelicht"})

MAX_TITLE_CHARS = 150
MIN_TITLE_CHARS = 3
MAX_SUMMARY_CHARS = 300
MAX_BODY_CHARS = 40_000
MIN_STORY_CHARS = 50
MAX_REASON_CHARS = 500
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
    """Running text (a title, a body, a summary) made clean: :func:`chatserver.domain.editorial.clean_text`."""
    return editorial.clean_text(value, limit)


def slugify(title: str) -> str:
    return editorial.slugify(title, "stuk")


def in_scope(actor: Actor, flavours: Iterable[str]) -> bool:
    """Every target flavour lies in the editor's scope (admins: everything)."""
    return all(actor.staff_in(f) for f in flavours)


def last_editor(doc: Mapping[str, Any]) -> str:
    """Whoever saved the piece last (its author until someone else saved it)."""
    return str(doc.get("updated_by_id") or doc.get("author_id") or "")


def involved_in(submitted_by: str, last_edited_by: str) -> frozenset[str]:
    """Who may not be the second reviewer: whoever submitted the piece for review or edited it last."""
    return frozenset(x for x in (submitted_by, last_edited_by) if x)


def needs_second_reviewer(flavours: Iterable[str], strict_flavours: Iterable[str]) -> bool:
    """A piece needs a second reviewer when any flavour it targets asks for one."""
    return bool(set(flavours) & set(strict_flavours))
