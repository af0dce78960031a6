"""What the public reads of content: a flavour's visible items page by page, and one visible item by its slug."""

from __future__ import annotations

from chatserver.domain.content import KINDS, MAX_SLUG_CHARS, PAGE_SIZE, PublicPage
from chatserver.ports import Clock, ContentStore, Document
from chatserver.ports.reflectie import Counter
from chatserver.services.content.refusals import NOT_FOUND


class PublicContent:
    def __init__(self, repo: ContentStore, clock: Clock, counter: Counter) -> None:
        self.repo = repo
        self.clock = clock
        self.counter = counter

    async def public_page(self, flavour: str, kind: str | None, page: int) -> PublicPage:
        kind = kind if kind in KINDS else None
        page = max(1, page)
        items, total = await self.repo.visible_page(flavour, self.clock(), kind, (page - 1) * PAGE_SIZE, PAGE_SIZE)
        pages = max(1, (total + PAGE_SIZE - 1) // PAGE_SIZE)
        return PublicPage(items=items, total=total, page=page, pages=pages)

    async def public_item(self, flavour: str, slug: str) -> Document:
        """A visible item; a draft, a scheduled or an unpublished one answers the same not-found as a bad slug."""
        if len(slug) > MAX_SLUG_CHARS + 10:
            raise NOT_FOUND
        doc = await self.repo.visible_by_slug(flavour, slug, self.clock())
        if doc is None:
            raise NOT_FOUND
        self.counter.count("content.view", flavour)
        return doc
