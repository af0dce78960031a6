"""Content items as editors and members write them: the editor's door to an item, checked drafts, unique slugs,
new items and new versions (the previous one kept as a revision), and members' experience stories for review.

Editors (and admins) act only in their flavours: an item is theirs to see and change only when every flavour it
targets is in their scope; anything else answers "not found", so drafts never leak.
"""

from __future__ import annotations

import logging
import uuid
from datetime import datetime

from chatserver.domain.content import (
    CATEGORIES,
    KINDS,
    MAX_BODY_CHARS,
    MAX_SLUG_CHARS,
    MAX_SUMMARY_CHARS,
    MAX_TITLE_CHARS,
    MIN_STORY_CHARS,
    MIN_TITLE_CHARS,
    RESERVED_SLUGS,
    STAFF_LIST_LIMIT,
    STATUSES,
    Draft,
    in_scope,
    slugify,
)
from chatserver.domain.content import clean_text as clean
from chatserver.domain.identity import Actor
from chatserver.i18n import N_
from chatserver.ports import Clock, ContentStore, Document, SlugTaken
from chatserver.services.content.refusals import CONFLICT_RELOAD, NOT_FOUND, ContentError, require_editor
from moderation.crisis import detect

log = logging.getLogger("chatserver.content")

SLUG_ATTEMPTS = 5


class ContentItems:
    def __init__(self, repo: ContentStore, catalog_names: dict[str, str], clock: Clock) -> None:
        self.repo = repo
        self.catalog_names = catalog_names
        self.clock = clock

    # access ----------------------------------------------------------------------------

    async def access_item(self, actor: Actor | None, item_id: str) -> Document:
        """The item for an editor whose scope covers all its flavours; otherwise not found."""
        editor = require_editor(actor)
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
            raise ContentError(
                "kind", 422, N_("Kies een soort: artikel, veelgestelde vraag of ervaringsverhaal."), "kind"
            )
        title, summary, body = _checked_texts(draft)
        category = draft.category if draft.category in CATEGORIES and kind == "article" else ""
        flavours = self._checked_flavours(actor, draft.flavours)
        return Draft(kind=kind, title=title, body=body, flavours=flavours, summary=summary, category=category)

    def _checked_flavours(self, actor: Actor, chosen: tuple[str, ...]) -> tuple[str, ...]:
        flavours = tuple(dict.fromkeys(f for f in chosen if f))
        if not flavours:
            raise ContentError(
                "flavours", 422, N_("Kies minstens één community waarin dit stuk verschijnt."), "flavours"
            )
        unknown = [f for f in flavours if f not in self.catalog_names]
        if unknown:
            raise ContentError("flavours", 422, N_("Een van de gekozen communities bestaat niet."), "flavours")
        outside = [f for f in flavours if not actor.staff_in(f)]
        if outside:
            names = ", ".join(self.catalog_names[f] for f in outside)
            raise ContentError(
                "scope",
                403,
                N_(
                    "Je bent geen redacteur van %s. Je kunt alleen publiceren in je eigen communities; vraag een "
                    "redacteur van die community of een beheerder."
                )
                % names,
                "flavours",
            )
        return flavours

    async def _unique_slug(self, title: str) -> str:
        base = slugify(title)
        candidate = base
        n = 1
        while candidate in RESERVED_SLUGS or await self.repo.slug_exists(candidate):
            n += 1
            candidate = f"{base[: MAX_SLUG_CHARS - 6]}-{n}"
        return candidate

    async def _insert(self, doc: Document) -> Document:
        for _attempt in range(SLUG_ATTEMPTS):
            doc["slug"] = await self._unique_slug(doc["title"])
            try:
                await self.repo.insert(doc)
                return doc
            except SlugTaken:
                continue
        raise ContentError("slug", 409, N_("Er bestaat al een stuk met deze titel. Kies een andere titel."), "title")

    # editors ---------------------------------------------------------------------------

    async def create(self, actor: Actor | None, draft: Draft) -> Document:
        editor = require_editor(actor)
        checked = self.check_draft(editor, draft)
        doc = _new_item(checked, editor, byline="Redactie", status="draft", crisis=False, now=self.clock())
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
                N_(
                    "Iemand anders heeft dit stuk intussen opgeslagen. Laad de pagina opnieuw en voer je wijziging "
                    "nog eens in."
                ),
            )
        revision = _revision_of(doc, item_id, version, now)
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
            raise ContentError("conflict", 409, CONFLICT_RELOAD)
        await self.repo.add_revision(revision)
        return updated

    async def staff_items(self, actor: Actor | None, status: str | None) -> list[Document]:
        editor = require_editor(actor)
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
            raise ContentError("login", 401, N_("Log in om een verhaal in te sturen."))
        if flavour not in self.catalog_names:
            raise NOT_FOUND
        clean_title, clean_body = _checked_story(title, body)
        story = Draft(kind="story", title=clean_title, body=clean_body, flavours=(flavour,))
        crisis = detect(f"{clean_title}\n{clean_body}").flagged
        doc = _new_item(story, actor, byline=actor.pseudonym, status="in_review", crisis=crisis, now=self.clock())
        await self._insert(doc)
        log.info("experience story submitted for review")
        return doc

    async def my_stories(self, actor: Actor) -> list[Document]:
        return await self.repo.by_author(actor.account_id, 100)


def _checked_texts(draft: Draft) -> tuple[str, str, str]:
    """The draft's title, summary and body, cleaned and within their limits, or the refusal naming the field."""
    title = clean(draft.title, MAX_TITLE_CHARS + 1)
    if len(title) < MIN_TITLE_CHARS or len(title) > MAX_TITLE_CHARS:
        raise ContentError(
            "title", 422, N_("Geef een titel van %s tot %s tekens.") % (MIN_TITLE_CHARS, MAX_TITLE_CHARS), "title"
        )
    summary = clean(draft.summary, MAX_SUMMARY_CHARS + 1)
    if len(summary) > MAX_SUMMARY_CHARS:
        raise ContentError(
            "summary", 422, N_("De samenvatting mag hoogstens %s tekens zijn.") % MAX_SUMMARY_CHARS, "summary"
        )
    body = clean(draft.body, MAX_BODY_CHARS + 1)
    if not body:
        raise ContentError("body", 422, N_("De tekst is leeg. Schrijf de tekst van het stuk."), "body")
    if len(body) > MAX_BODY_CHARS:
        raise ContentError("body", 422, N_("De tekst is te lang (hoogstens %s tekens).") % MAX_BODY_CHARS, "body")
    return title, summary, body


def _checked_story(title: str, body: str) -> tuple[str, str]:
    clean_title = clean(title, MAX_TITLE_CHARS + 1)
    if len(clean_title) < MIN_TITLE_CHARS or len(clean_title) > MAX_TITLE_CHARS:
        raise ContentError(
            "title",
            422,
            N_("Geef je verhaal een titel van %s tot %s tekens.") % (MIN_TITLE_CHARS, MAX_TITLE_CHARS),
            "title",
        )
    clean_body = clean(body, MAX_BODY_CHARS + 1)
    if len(clean_body) < MIN_STORY_CHARS:
        raise ContentError(
            "body", 422, N_("Je verhaal is nog erg kort. Schrijf minstens %s tekens.") % MIN_STORY_CHARS, "body"
        )
    if len(clean_body) > MAX_BODY_CHARS:
        raise ContentError("body", 422, N_("Je verhaal is te lang (hoogstens %s tekens).") % MAX_BODY_CHARS, "body")
    return clean_title, clean_body


def _new_item(draft: Draft, author: Actor, *, byline: str, status: str, crisis: bool, now: datetime) -> Document:
    return {
        "_id": uuid.uuid4().hex,
        "kind": draft.kind,
        "category": draft.category,
        "title": draft.title,
        "summary": draft.summary,
        "body": draft.body,
        "flavours": list(draft.flavours),
        "status": status,
        "publish_at": None,
        "published_at": None,
        "author_id": author.account_id,
        "author_pseudonym": author.pseudonym,
        "byline": byline,
        "created_at": now,
        "updated_at": now,
        "updated_by": author.pseudonym,
        "version": 1,
        "reject_reason": "",
        "crisis": crisis,
    }


def _revision_of(doc: Document, item_id: str, version: int, now: datetime) -> Document:
    """The stored version ``version`` as a revision: what it said, who saved it and when."""
    return {
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
