"""Editorial content use cases: write once, publish to several flavours, review, schedule, revise, feature.

The only door to content. Editors (and admins) act only in their flavours: an
item is theirs to see and change only when every flavour it targets is in
their scope; anything else answers "not found", so drafts never leak. The
public read path shows an item only when it is published, targeted at the
flavour and due (``publish_at`` at or before the injected clock's now), so
scheduled publication needs no job and is exact to the second.
"""

from __future__ import annotations

import logging
import re
import unicodedata
import uuid
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, Literal

from chatserver.adapters.content_repo import ContentRepo, SlugTaken
from chatserver.adapters.mongo_client import Database, Document
from chatserver.domain import content as workflow
from chatserver.domain.content import TRANSITIONS
from chatserver.domain.identity import Actor
from chatserver.services.refusal import Refused
from moderation.crisis import detect

log = logging.getLogger("chatserver.content")

Clock = Callable[[], datetime]
Kind = Literal["article", "faq", "story"]
Action = Literal["submit", "publish", "unpublish", "archive", "reject", "draft"]

KINDS: dict[str, str] = {"article": "Artikel", "faq": "Veelgestelde vraag", "story": "Ervaringsverhaal"}
KIND_PLURALS: dict[str, str] = {"article": "Artikelen", "faq": "Veelgestelde vragen", "story": "Ervaringsverhalen"}
CATEGORIES: dict[str, str] = {"psycho-educatie": "Psycho-educatie", "zelfhulp": "Zelfhulp", "": "Geen"}
STATUSES: dict[str, str] = {
    "draft": "Concept",
    "in_review": "Ter beoordeling",
    "published": "Gepubliceerd",
    "unpublished": "Offline gehaald",
    "archived": "Gearchiveerd",
    "rejected": "Afgewezen",
}
ACTION_NAMES: dict[str, str] = {
    "submit": "Ter beoordeling aanbieden",
    "publish": "Publiceren",
    "unpublish": "Offline halen",
    "archive": "Archiveren",
    "reject": "Afwijzen",
    "draft": "Terug naar concept",
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


class ContentError(Refused):
    """A refused content use case."""


NOT_FOUND = ContentError("not_found", 404, "Dit stuk bestaat niet of je hebt er geen toegang toe.")


@dataclass(frozen=True, slots=True)
class Draft:
    """What an editor's form holds; validated by :meth:`ContentService.check_draft`."""

    kind: str
    title: str
    body: str
    flavours: tuple[str, ...]
    summary: str = ""
    category: str = ""


@dataclass(frozen=True, slots=True)
class PublicPage:
    items: list[Document]
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


class ContentService:
    def __init__(
        self,
        db: Database,
        catalog_names: dict[str, str],
        clock: Clock | None = None,
        second_reviewer: Iterable[str] = (),
    ) -> None:
        self.repo = ContentRepo(db)
        self.catalog_names = catalog_names
        # Flavours whose pieces need a second editor to publish (``[content] second_reviewer``).
        self.second_reviewer = frozenset(second_reviewer)
        self.clock: Clock = clock or (lambda: datetime.now(UTC))

    # access ----------------------------------------------------------------------------

    def _require_editor(self, actor: Actor | None) -> Actor:
        if actor is None or not is_editor(actor):
            raise NOT_FOUND
        return actor

    async def access_item(self, actor: Actor | None, item_id: str) -> Document:
        """The item for an editor whose scope covers all its flavours; otherwise not found."""
        editor = self._require_editor(actor)
        doc = await self.repo.get(item_id)
        if doc is None:
            raise NOT_FOUND
        if not in_scope(editor, doc.get("flavours") or ()):
            raise NOT_FOUND
        return doc

    def editor_flavours(self, actor: Actor) -> list[str]:
        return [slug for slug in self.catalog_names if actor.staff_in(slug)]

    # validation ------------------------------------------------------------------------

    def check_draft(self, actor: Actor, draft: Draft) -> Draft:
        kind = draft.kind if draft.kind in KINDS else ""
        if not kind:
            raise ContentError("kind", 422, "Kies een soort: artikel, veelgestelde vraag of ervaringsverhaal.", "kind")
        title = clean_text(draft.title, MAX_TITLE_CHARS + 1)
        if len(title) < MIN_TITLE_CHARS or len(title) > MAX_TITLE_CHARS:
            raise ContentError(
                "title", 422, f"Geef een titel van {MIN_TITLE_CHARS} tot {MAX_TITLE_CHARS} tekens.", "title"
            )
        summary = clean_text(draft.summary, MAX_SUMMARY_CHARS + 1)
        if len(summary) > MAX_SUMMARY_CHARS:
            raise ContentError(
                "summary", 422, f"De samenvatting mag hoogstens {MAX_SUMMARY_CHARS} tekens zijn.", "summary"
            )
        body = clean_text(draft.body, MAX_BODY_CHARS + 1)
        if not body:
            raise ContentError("body", 422, "De tekst is leeg. Schrijf de tekst van het stuk.", "body")
        if len(body) > MAX_BODY_CHARS:
            raise ContentError("body", 422, f"De tekst is te lang (hoogstens {MAX_BODY_CHARS} tekens).", "body")
        category = draft.category if draft.category in CATEGORIES and kind == "article" else ""
        flavours = tuple(dict.fromkeys(f for f in draft.flavours if f))
        if not flavours:
            raise ContentError("flavours", 422, "Kies minstens één community waarin dit stuk verschijnt.", "flavours")
        unknown = [f for f in flavours if f not in self.catalog_names]
        if unknown:
            raise ContentError("flavours", 422, "Een van de gekozen communities bestaat niet.", "flavours")
        outside = [f for f in flavours if not actor.staff_in(f)]
        if outside:
            names = ", ".join(self.catalog_names[f] for f in outside)
            raise ContentError(
                "scope",
                403,
                f"Je bent geen redacteur van {names}. Je kunt alleen publiceren in je eigen communities; "
                "vraag een redacteur van die community of een beheerder.",
                "flavours",
            )
        return Draft(kind=kind, title=title, body=body, flavours=flavours, summary=summary, category=category)

    async def _unique_slug(self, title: str) -> str:
        base = slugify(title)
        candidate = base
        n = 1
        while candidate in RESERVED_SLUGS or await self.repo.slug_exists(candidate):
            n += 1
            candidate = f"{base[: MAX_SLUG_CHARS - 6]}-{n}"
        return candidate

    async def _insert(self, doc: Document) -> Document:
        for _attempt in range(5):
            doc["slug"] = await self._unique_slug(doc["title"])
            try:
                await self.repo.insert(doc)
                return doc
            except SlugTaken:
                continue
        raise ContentError("slug", 409, "Er bestaat al een stuk met deze titel. Kies een andere titel.", "title")

    # editors ---------------------------------------------------------------------------

    async def create(self, actor: Actor | None, draft: Draft) -> Document:
        editor = self._require_editor(actor)
        checked = self.check_draft(editor, draft)
        now = self.clock()
        doc: Document = {
            "_id": uuid.uuid4().hex,
            "kind": checked.kind,
            "category": checked.category,
            "title": checked.title,
            "summary": checked.summary,
            "body": checked.body,
            "flavours": list(checked.flavours),
            "status": "draft",
            "publish_at": None,
            "published_at": None,
            "author_id": editor.account_id,
            "author_pseudonym": editor.pseudonym,
            "byline": "Redactie",
            "created_at": now,
            "updated_at": now,
            "updated_by": editor.pseudonym,
            "version": 1,
            "reject_reason": "",
            "crisis": False,
        }
        await self._insert(doc)
        log.info("content item created (%s, %d flavours)", checked.kind, len(checked.flavours))
        return doc

    async def save(self, actor: Actor | None, item_id: str, draft: Draft, version: int) -> Document:
        """A new version; the previous one is kept as a revision with its author and time."""
        doc = await self.access_item(actor, item_id)
        assert actor is not None
        checked = self.check_draft(actor, draft)
        now = self.clock()
        if int(doc.get("version", 1)) != version:
            raise ContentError(
                "conflict",
                409,
                "Iemand anders heeft dit stuk intussen opgeslagen. Laad de pagina opnieuw en voer je wijziging "
                "nog eens in.",
            )
        revision: Document = {
            "_id": uuid.uuid4().hex,
            "item_id": item_id,
            "number": version,
            "title": doc.get("title", ""),
            "summary": doc.get("summary", ""),
            "body": doc.get("body", ""),
            "kind": doc.get("kind", ""),
            "flavours": doc.get("flavours") or [],
            "author_id": doc.get("updated_by_id") or doc.get("author_id", ""),
            "author_pseudonym": doc.get("updated_by", ""),
            "saved_at": doc.get("updated_at") or now,
        }
        changes: Document = {
            "kind": checked.kind,
            "category": checked.category,
            "title": checked.title,
            "summary": checked.summary,
            "body": checked.body,
            "flavours": list(checked.flavours),
            "updated_at": now,
            "updated_by": actor.pseudonym,
            "updated_by_id": actor.account_id,
        }
        updated = await self.repo.update_if_version(item_id, version, changes)
        if updated is None:
            raise ContentError(
                "conflict", 409, "Iemand anders heeft dit stuk intussen opgeslagen. Laad de pagina opnieuw."
            )
        await self.repo.add_revision(revision)
        return updated

    async def change_status(
        self,
        actor: Actor | None,
        item_id: str,
        action: str,
        publish_at: datetime | None = None,
        reason: str = "",
    ) -> Document:
        doc = await self.access_item(actor, item_id)
        assert actor is not None
        if action not in TRANSITIONS:
            raise ContentError("action", 422, "Deze actie bestaat niet.")
        current = str(doc.get("status", ""))
        target = workflow.target_of(current, action)
        if target is None:
            raise self._refused_transition(current, action)
        second = self.needs_second_reviewer(doc)
        if action == "publish" and second and actor.account_id in self._involved(doc):
            log.info("content item %s: publishing refused, a second reviewer is required", item_id)
            raise ContentError(
                "second_reviewer",
                403,
                "Deze community vraagt een tweede redacteur: jij hebt dit stuk ter beoordeling aangeboden of als "
                "laatste bewerkt. Een andere redacteur moet het goedkeuren en publiceren.",
            )
        now = self.clock()
        changes: Document = {"status": target, "status_changed_at": now, "status_changed_by": actor.pseudonym}
        if action == "submit":
            changes["submitted_by_id"] = actor.account_id
        if action == "publish":
            when = publish_at if publish_at is not None and publish_at > now else None
            changes["publish_at"] = when
            changes["published_at"] = when or now
            changes["reject_reason"] = ""
        if action == "reject":
            text = clean_text(reason, MAX_REASON_CHARS + 1)
            if not text:
                raise ContentError(
                    "reason", 422, "Schrijf kort waarom je dit afwijst; de schrijver krijgt de reden te zien.", "reason"
                )
            if len(text) > MAX_REASON_CHARS:
                raise ContentError("reason", 422, f"De reden mag hoogstens {MAX_REASON_CHARS} tekens zijn.", "reason")
            changes["reject_reason"] = text
        updated = await self.repo.update_if_version(item_id, int(doc.get("version", 1)), changes)
        if updated is None:
            raise ContentError("conflict", 409, "Het stuk is intussen gewijzigd. Laad de pagina opnieuw.")
        audit: Document = {
            "_id": uuid.uuid4().hex,
            "item_id": item_id,
            "action": action,
            "from": current,
            "to": target,
            "actor_id": actor.account_id,
            "role": str(actor.role),
            "at": now,
        }
        if action == "publish" and second:
            # The four-eyes approval: this entry's actor is the second reviewer (ids only, no names).
            audit["second_reviewer"] = True
        await self.repo.add_audit(audit)
        log.info("content item %s: %s -> %s", item_id, current, target)
        return updated

    def needs_second_reviewer(self, doc: Document) -> bool:
        return workflow.needs_second_reviewer(doc.get("flavours") or (), self.second_reviewer)

    @staticmethod
    def _involved(doc: Document) -> frozenset[str]:
        last_edited = str(doc.get("updated_by_id") or doc.get("author_id") or "")
        return workflow.involved_in(str(doc.get("submitted_by_id") or ""), last_edited)

    def actions_for(self, actor: Actor, doc: Document) -> list[str]:
        """The status actions the form offers ``actor`` for ``doc``: what the state allows, less publishing where
        the actor would be their own second reviewer."""
        actions = list(workflow.allowed_actions(str(doc.get("status", ""))))
        if "publish" in actions and self.needs_second_reviewer(doc) and actor.account_id in self._involved(doc):
            actions.remove("publish")
        return actions

    def _refused_transition(self, current: str, action: str) -> ContentError:
        label = STATUSES.get(current, current)
        if TRANSITIONS[action][1] == current:
            return ContentError("transition", 409, f"Dit stuk heeft al de status ‘{label}’; er is niets veranderd.")
        possible = ", ".join(f"‘{ACTION_NAMES[a]}’" for a in workflow.allowed_actions(current)) or "geen"
        return ContentError(
            "transition",
            409,
            f"‘{ACTION_NAMES[action]}’ kan niet bij een stuk met status ‘{label}’. Wel mogelijk: {possible}.",
        )

    async def staff_items(self, actor: Actor | None, status: str | None) -> list[Document]:
        editor = self._require_editor(actor)
        allowed = None if editor.is_admin else sorted(editor.flavours)
        return await self.repo.staff_list(allowed, status if status in STATUSES else None, STAFF_LIST_LIMIT)

    async def revisions(self, actor: Actor | None, item_id: str) -> tuple[Document, list[Document]]:
        doc = await self.access_item(actor, item_id)
        return doc, await self.repo.revisions_of(item_id)

    async def revision(self, actor: Actor | None, item_id: str, number: int) -> tuple[Document, Document]:
        doc = await self.access_item(actor, item_id)
        found = await self.repo.revision(item_id, number)
        if found is None:
            raise NOT_FOUND
        return doc, found

    # members: experience stories -------------------------------------------------------

    async def submit_story(self, actor: Actor | None, flavour: str, title: str, body: str) -> Document:
        if actor is None or not actor.is_member:
            raise ContentError("login", 401, "Log in om een verhaal in te sturen.")
        if flavour not in self.catalog_names:
            raise NOT_FOUND
        clean_title = clean_text(title, MAX_TITLE_CHARS + 1)
        if len(clean_title) < MIN_TITLE_CHARS or len(clean_title) > MAX_TITLE_CHARS:
            raise ContentError(
                "title", 422, f"Geef je verhaal een titel van {MIN_TITLE_CHARS} tot {MAX_TITLE_CHARS} tekens.", "title"
            )
        clean_body = clean_text(body, MAX_BODY_CHARS + 1)
        if len(clean_body) < MIN_STORY_CHARS:
            raise ContentError(
                "body", 422, f"Je verhaal is nog erg kort. Schrijf minstens {MIN_STORY_CHARS} tekens.", "body"
            )
        if len(clean_body) > MAX_BODY_CHARS:
            raise ContentError("body", 422, f"Je verhaal is te lang (hoogstens {MAX_BODY_CHARS} tekens).", "body")
        now = self.clock()
        doc: Document = {
            "_id": uuid.uuid4().hex,
            "kind": "story",
            "category": "",
            "title": clean_title,
            "summary": "",
            "body": clean_body,
            "flavours": [flavour],
            "status": "in_review",
            "publish_at": None,
            "published_at": None,
            "author_id": actor.account_id,
            "author_pseudonym": actor.pseudonym,
            "byline": actor.pseudonym,
            "created_at": now,
            "updated_at": now,
            "updated_by": actor.pseudonym,
            "version": 1,
            "reject_reason": "",
            "crisis": detect(f"{clean_title}\n{clean_body}").flagged,
        }
        await self._insert(doc)
        log.info("experience story submitted for review")
        return doc

    async def my_stories(self, actor: Actor) -> list[Document]:
        return await self.repo.by_author(actor.account_id, 100)

    # public ----------------------------------------------------------------------------

    async def public_page(self, flavour: str, kind: str | None, page: int) -> PublicPage:
        kind = kind if kind in KINDS else None
        page = max(1, page)
        items, total = await self.repo.visible_page(flavour, self.clock(), kind, (page - 1) * PAGE_SIZE, PAGE_SIZE)
        pages = max(1, (total + PAGE_SIZE - 1) // PAGE_SIZE)
        return PublicPage(items=items, total=total, page=page, pages=pages)

    async def public_item(self, flavour: str, slug: str) -> Document:
        if len(slug) > MAX_SLUG_CHARS + 10:
            raise NOT_FOUND
        doc = await self.repo.visible_by_slug(flavour, slug, self.clock())
        if doc is None:
            raise NOT_FOUND
        return doc

    # featured --------------------------------------------------------------------------

    async def featured(self, flavour: str) -> list[Document]:
        """The flavour's featured items in the editors' order, only those visible now."""
        entries = await self.repo.featured_of(flavour)
        ids = [str(e["item_id"]) for e in entries]
        visible = await self.repo.visible_ids(flavour, self.clock(), ids) if ids else {}
        return [visible[i] for i in ids if i in visible]

    def _require_flavour_editor(self, actor: Actor | None, flavour: str) -> Actor:
        editor = self._require_editor(actor)
        if flavour not in self.catalog_names or not editor.staff_in(flavour):
            raise NOT_FOUND
        return editor

    async def featured_admin(self, actor: Actor | None, flavour: str) -> tuple[list[dict[str, Any]], list[Document]]:
        """The featured list with each item's state, and the published items that may be added."""
        self._require_flavour_editor(actor, flavour)
        entries = await self.repo.featured_of(flavour)
        ids = [str(e["item_id"]) for e in entries]
        now = self.clock()
        visible = await self.repo.visible_ids(flavour, now, ids) if ids else {}
        rows: list[dict[str, Any]] = []
        for n, item_id in enumerate(ids, start=1):
            item = visible.get(item_id) or await self.repo.get(item_id)
            rows.append(
                {
                    "position": n,
                    "item_id": item_id,
                    "title": (item or {}).get("title", "(verwijderd)"),
                    "visible": item_id in visible,
                }
            )
        candidates, _total = await self.repo.visible_page(flavour, now, None, 0, 100)
        candidates = [c for c in candidates if str(c["_id"]) not in ids]
        return rows, candidates

    async def change_featured(self, actor: Actor | None, flavour: str, op: str, item_id: str) -> None:
        self._require_flavour_editor(actor, flavour)
        ids = [str(e["item_id"]) for e in await self.repo.featured_of(flavour)]
        if op == "add":
            item = await self.repo.get(item_id)
            if item is None or flavour not in (item.get("flavours") or ()) or item.get("status") != "published":
                raise ContentError(
                    "feature", 422, "Alleen gepubliceerde stukken van deze community kunnen worden uitgelicht.", "item"
                )
            if item_id in ids:
                return
            if len(ids) >= MAX_FEATURED:
                raise ContentError("feature", 422, f"Er kunnen hoogstens {MAX_FEATURED} stukken uitgelicht zijn.")
            ids.append(item_id)
        elif item_id not in ids:
            raise NOT_FOUND
        elif op == "remove":
            ids.remove(item_id)
        elif op in ("up", "down"):
            i = ids.index(item_id)
            j = i - 1 if op == "up" else i + 1
            if 0 <= j < len(ids):
                ids[i], ids[j] = ids[j], ids[i]
        else:
            raise ContentError("op", 422, "Deze actie bestaat niet.")
        await self.repo.set_featured(flavour, ids)
