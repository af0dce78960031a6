"""The catalogue for editors: write an entry once for several flavours, draft → review → published, revisions.

The same workflow table as articles (``chatserver.domain.content.TRANSITIONS``). An editor sees and changes an
entry only when every flavour it appears in is in their scope; anything else answers "not found". Every save
keeps the previous version as a revision (the whole form, so an old rating and its reasons stay readable).
"""

from __future__ import annotations

import logging
import uuid
from collections.abc import Mapping
from typing import Any

from chatserver.clock import Clock
from chatserver.domain import markt as rules
from chatserver.domain.identity import Actor
from chatserver.domain.markt import ACTION_NAMES, MAX_SLUG_CHARS, RegionIndex, is_editor, slugify
from chatserver.i18n import N_
from chatserver.ports.markt import Document, EntrySlugTaken, MarktStore
from chatserver.services.markt.drafts import EntryDraft, check_fields, form_values
from chatserver.services.markt.errors import MarktError, not_found

log = logging.getLogger("chatserver.markt")

STAFF_LIST_LIMIT = 300
RESERVED_SLUGS = frozenset({"regio", "vragenlijst", "mijn-ervaringen", "export", "lokaal"})
REVISED_FIELDS = ("kind", "title", "summary", "body", "audience", "needs", "languages", "costs", "cost_note",
                  "platforms", "maker", "quality_marks", "mdr_class", "privacy_note", "privacy_url", "evidence",
                  "evidence_note", "links", "local", "rating", "flavours")  # fmt: skip


def in_scope(actor: Actor, flavours: Any) -> bool:
    return all(actor.staff_in(str(f)) for f in flavours or ())


class Catalogue:
    def __init__(self, store: MarktStore, catalog_names: Mapping[str, str], regions: RegionIndex, clock: Clock) -> None:
        self.store = store
        self.catalog_names = dict(catalog_names)
        self.regions = regions
        self.clock = clock

    # access --------------------------------------------------------------------------------------------------

    def require_editor(self, actor: Actor | None) -> Actor:
        if actor is None or not is_editor(actor):
            raise not_found()
        return actor

    async def access_entry(self, actor: Actor | None, entry_id: str) -> Document:
        editor = self.require_editor(actor)
        doc = await self.store.entry(entry_id[:64])
        if doc is None or not in_scope(editor, doc.get("flavours")):
            raise not_found()
        return doc

    def scoped(self, actor: Actor) -> list[str]:
        return [slug for slug in self.catalog_names if actor.staff_in(slug)]

    def form_values(self, doc: Document) -> dict[str, Any]:
        values = form_values(doc)
        names = [self.regions.gemeenten[c].name for c in values.pop("gemeenten_codes") if c in self.regions.gemeenten]
        values["gemeenten"] = ", ".join(names)
        return values

    def _checked(self, editor: Actor, draft: EntryDraft) -> dict[str, Any]:
        fields = check_fields(draft, self.regions, self.catalog_names)
        outside = [f for f in fields["flavours"] if not editor.staff_in(f)]
        if outside:
            names = ", ".join(self.catalog_names[f] for f in outside)
            refusal = N_("Je bent geen redacteur van %s. Vraag een redacteur van die community of een beheerder.")
            raise MarktError("scope", 403, refusal % names, "flavours")
        return fields

    # editors -------------------------------------------------------------------------------------------------

    async def _unique_slug(self, title: str) -> str:
        base = slugify(title)
        candidate, n = base, 1
        while candidate in RESERVED_SLUGS or await self.store.slug_exists(candidate):
            n += 1
            candidate = f"{base[: MAX_SLUG_CHARS - 6]}-{n}"
        return candidate

    async def create(self, actor: Actor | None, draft: EntryDraft) -> Document:
        editor = self.require_editor(actor)
        fields = self._checked(editor, draft)
        now = self.clock()
        doc: Document = {
            "_id": uuid.uuid4().hex, **fields, "status": "draft", "version": 1, "published_at": None,
            "created_at": now, "updated_at": now, "author_id": str(editor.account_id),
            "updated_by": editor.pseudonym, "updated_by_id": str(editor.account_id), "reject_reason": "",
            "report_stats": {},
        }  # fmt: skip
        for _attempt in range(5):
            doc["slug"] = await self._unique_slug(fields["title"])
            try:
                await self.store.insert_entry(doc)
            except EntrySlugTaken:
                continue
            log.info("market entry created (%s, %d flavours)", fields["kind"], len(fields["flavours"]))
            return doc
        raise MarktError("slug", 409, N_("Er bestaat al aanbod met deze naam. Kies een andere naam."), "title")

    async def save(self, actor: Actor | None, entry_id: str, draft: EntryDraft, version: int) -> Document:
        """A new version; the previous one is kept whole as a revision (who and when)."""
        doc = await self.access_entry(actor, entry_id)
        editor = self.require_editor(actor)
        fields = self._checked(editor, draft)
        conflict = MarktError("conflict", 409, N_("Iemand anders heeft dit aanbod intussen opgeslagen. Laad de pagina "
                              "opnieuw en voer je wijziging nog eens in."))  # fmt: skip
        if int(doc.get("version", 1)) != version:
            raise conflict
        now = self.clock()
        revision: Document = {
            "_id": uuid.uuid4().hex, "entry_id": entry_id, "number": version,
            "snapshot": {k: doc.get(k) for k in REVISED_FIELDS},
            "title": doc.get("title", ""), "author_id": doc.get("updated_by_id", ""),
            "author_pseudonym": doc.get("updated_by", ""), "saved_at": doc.get("updated_at") or now,
        }  # fmt: skip
        changes = {**fields, "updated_at": now, "updated_by": editor.pseudonym,
                   "updated_by_id": str(editor.account_id)}  # fmt: skip
        updated = await self.store.update_if_version(entry_id, version, changes)
        if updated is None:
            raise conflict
        await self.store.add_revision(revision)
        return updated

    async def change_status(self, actor: Actor | None, entry_id: str, action: str, reason: str = "") -> Document:
        doc = await self.access_entry(actor, entry_id)
        editor = self.require_editor(actor)
        current = str(doc.get("status", ""))
        if action not in rules.TRANSITIONS:
            raise MarktError("action", 422, N_("Deze actie bestaat niet."))
        target = rules.target_of(current, action)
        if target is None:
            label = rules.STATUSES.get(current, current)
            possible = ", ".join(f"‘{ACTION_NAMES[a]}’" for a in rules.allowed_actions(current)) or "geen"
            refusal = N_("‘%s’ kan niet bij aanbod met status ‘%s’. Wel mogelijk: %s.")
            raise MarktError("transition", 409, refusal % (ACTION_NAMES[action], label, possible))
        now = self.clock()
        changes: Document = {"status": target, "status_changed_at": now, "status_changed_by": editor.pseudonym}
        if action == "publish":
            changes.update(published_at=doc.get("published_at") or now, reject_reason="")
        if action == "reject":
            text = " ".join(reason.split())[:500]
            if len(text) < 3:
                raise MarktError("reason", 422, N_("Schrijf kort waarom je dit afwijst."), "reason")
            changes["reject_reason"] = text
        updated = await self.store.update_if_version(entry_id, int(doc.get("version", 1)), changes)
        if updated is None:
            raise MarktError("conflict", 409, N_("Het aanbod is intussen gewijzigd. Laad de pagina opnieuw."))
        await self.store.add_audit({"_id": uuid.uuid4().hex, "entry_id": entry_id, "action": action, "from": current,
                                    "to": target, "actor_id": str(editor.account_id), "role": str(editor.role),
                                    "at": now})  # fmt: skip
        log.info("market entry %s: %s -> %s", entry_id, current, target)
        return updated

    async def staff_entries(self, actor: Actor | None, status: str | None) -> list[Document]:
        editor = self.require_editor(actor)
        allowed = None if editor.is_admin else sorted(editor.flavours)
        wanted = status if status in rules.STATUSES else None
        return await self.store.staff_list(allowed, wanted, STAFF_LIST_LIMIT)

    async def revisions(self, actor: Actor | None, entry_id: str) -> tuple[Document, list[Document]]:
        doc = await self.access_entry(actor, entry_id)
        return doc, await self.store.revisions_of(entry_id)

    async def revision(self, actor: Actor | None, entry_id: str, number: int) -> tuple[Document, Document]:
        doc = await self.access_entry(actor, entry_id)
        found = await self.store.revision(entry_id, number)
        if found is None:
            raise not_found()
        return doc, found

    # public --------------------------------------------------------------------------------------------------

    async def published(self, flavour: str, slug: str) -> Document:
        if flavour not in self.catalog_names or len(slug) > MAX_SLUG_CHARS + 10:
            raise not_found()
        doc = await self.store.published_by_slug(flavour, slug)
        if doc is None:
            raise not_found()
        return doc
