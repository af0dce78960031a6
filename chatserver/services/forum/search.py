"""Reading the forum in pages: the index per category, a category's threads, a thread's posts, search.

Search does without a text index (``$text``; the embedded database has none): posts keep their normalised words,
the store finds candidates sharing a word with the query, and :func:`chatserver.domain.forum.rank` orders them.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from chatserver.domain.forum import (
    MAX_QUERY_TERMS,
    PAGE_SIZE,
    Page,
    clean_text,
    is_forum_staff,
    page_of,
    pages_for,
    rank,
    search_terms,
    skip_for,
)
from chatserver.domain.identity import Actor
from chatserver.flavours import Flavour

if TYPE_CHECKING:
    from chatserver.ports import Document, ForumStore

MAX_QUERY_CHARS = 200


def _viewer(actor: Actor | None) -> str | None:
    return None if actor is None else str(actor.account_id)


class ForumSearch:
    def __init__(self, repo: ForumStore) -> None:
        self.repo = repo

    async def index(self, flavour: Flavour) -> tuple[dict[str, int], dict[str, Document]]:
        """Visible threads per category and the most recently active one of each."""
        return await self.repo.count_by_category(flavour.slug), await self.repo.latest_by_category(flavour.slug)

    async def category_page(self, actor: Actor | None, flavour: Flavour, category: str, number: int) -> Page:
        items, total = await self.repo.category_page(
            flavour.slug, category, _viewer(actor), skip_for(number), PAGE_SIZE
        )
        return Page(items, total, number, pages_for(total))

    async def thread_page(self, actor: Actor | None, flavour: Flavour, thread: Document, number: int) -> Page:
        staff = is_forum_staff(actor, flavour.slug)
        items, total = await self.repo.thread_posts(
            str(thread["_id"]), _viewer(actor), staff, skip_for(number), PAGE_SIZE
        )
        return Page(items, total, number, pages_for(total))

    async def page_of_post(self, actor: Actor | None, flavour: Flavour, post: Document) -> int:
        before = await self.repo.position(post, _viewer(actor), is_forum_staff(actor, flavour.slug))
        return page_of(before)

    async def search(self, flavour: Flavour, query: str) -> list[dict[str, Any]]:
        """Visible posts in visible threads matching the query's words; ranked by matches, then recency."""
        terms = search_terms(clean_text(query, MAX_QUERY_CHARS))[:MAX_QUERY_TERMS]
        if not terms:
            return []
        candidates = await self.repo.search_candidates(flavour.slug, terms)
        threads = await self.repo.threads_by_ids(list({str(doc["thread_id"]) for doc in candidates}))
        return rank(candidates, threads, terms, lambda category: flavour.category(category) is not None)
