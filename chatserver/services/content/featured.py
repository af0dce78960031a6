"""Each flavour's featured list: the visible items in the editors' order on the home page, and its editing."""

from __future__ import annotations

from typing import Any

from chatserver.domain.content import MAX_FEATURED
from chatserver.domain.identity import Actor
from chatserver.i18n import N_
from chatserver.ports import Clock, ContentStore, Document
from chatserver.services.content.refusals import NOT_FOUND, ContentError, require_editor


class FeaturedLists:
    def __init__(self, repo: ContentStore, catalog_names: dict[str, str], clock: Clock) -> None:
        self.repo = repo
        self.catalog_names = catalog_names
        self.clock = clock

    async def featured(self, flavour: str) -> list[Document]:
        """The flavour's featured items in the editors' order, only those visible now."""
        ids = await self._ids(flavour)
        visible = await self.repo.visible_ids(flavour, self.clock(), ids) if ids else {}
        return [visible[i] for i in ids if i in visible]

    async def _ids(self, flavour: str) -> list[str]:
        return [str(e["item_id"]) for e in await self.repo.featured_of(flavour)]

    def _require_flavour_editor(self, actor: Actor | None, flavour: str) -> Actor:
        editor = require_editor(actor)
        if flavour not in self.catalog_names or not editor.staff_in(flavour):
            raise NOT_FOUND
        return editor

    async def featured_admin(self, actor: Actor | None, flavour: str) -> tuple[list[dict[str, Any]], list[Document]]:
        """The featured list with each item's state, and the published items that may be added."""
        self._require_flavour_editor(actor, flavour)
        ids = await self._ids(flavour)
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
        """Add, remove, or move up or down one item of the list."""
        self._require_flavour_editor(actor, flavour)
        ids = await self._ids(flavour)
        if op == "add":
            if not await self._addable(flavour, item_id, ids):
                return
            ids.append(item_id)
        elif item_id not in ids:
            raise NOT_FOUND
        elif op == "remove":
            ids.remove(item_id)
        elif op in ("up", "down"):
            _move(ids, item_id, -1 if op == "up" else 1)
        else:
            raise ContentError("op", 422, N_("Deze actie bestaat niet."))
        await self.repo.set_featured(flavour, ids)

    async def _addable(self, flavour: str, item_id: str, ids: list[str]) -> bool:
        """Whether adding ``item_id`` changes the list (False: it is on it already); refused when it may not."""
        item = await self.repo.get(item_id)
        if item is None or flavour not in (item.get("flavours") or ()) or item.get("status") != "published":
            raise ContentError(
                "feature", 422, N_("Alleen gepubliceerde stukken van deze community kunnen worden uitgelicht."), "item"
            )
        if item_id in ids:
            return False
        if len(ids) >= MAX_FEATURED:
            raise ContentError("feature", 422, N_("Er kunnen hoogstens %s stukken uitgelicht zijn.") % MAX_FEATURED)
        return True


def _move(ids: list[str], item_id: str, step: int) -> None:
    i = ids.index(item_id)
    j = i + step
    if 0 <= j < len(ids):
        ids[i], ids[j] = ids[j], ids[i]
