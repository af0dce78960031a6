"""Editing posts: who may, the screening of the new text, and the history that keeps every earlier version."""

from __future__ import annotations

import secrets
from typing import TYPE_CHECKING

from chatserver.domain import forum as rules
from chatserver.domain.identity import Actor
from chatserver.flavours import Flavour
from chatserver.i18n import N_
from chatserver.services.forum.errors import ForumError, Posted
from chatserver.services.forum.posts import held_notice

if TYPE_CHECKING:
    from chatserver.clock import Clock
    from chatserver.ports import Document, ForumStore
    from chatserver.services.forum.posts import ForumPosts


class ForumEdits:
    def __init__(self, repo: ForumStore, posts: ForumPosts, clock: Clock) -> None:
        self.repo = repo
        self.posts = posts
        self.clock = clock

    def can_edit(self, actor: Actor | None, flavour: Flavour, thread: Document, post: Document) -> bool:
        return rules.can_edit(actor, flavour.slug, thread, post)

    async def revisions(self, post: Document) -> list[Document]:
        return await self.repo.revisions_of(str(post["_id"]))

    def _new_title(self, post: Document, title: str | None) -> str | None:
        """The first post's new title (checked), or None when the edit keeps the title."""
        if not post.get("first") or title is None:
            return None
        new_title = rules.clean_title(title)
        if not rules.MIN_TITLE_CHARS <= len(new_title) <= rules.MAX_TITLE_CHARS:
            raise ForumError(
                "title",
                422,
                N_("Een titel heeft %s tot %s tekens.") % (rules.MIN_TITLE_CHARS, rules.MAX_TITLE_CHARS),
                "title",
            )
        return new_title

    async def edit(
        self, actor: Actor | None, flavour: Flavour, thread: Document, post: Document, body: str, title: str | None
    ) -> Posted:
        if actor is None or not self.can_edit(actor, flavour, thread, post):
            raise ForumError("forbidden", 403, N_("Je kunt dit bericht niet bewerken."))
        body = self.posts.check_body(body)
        new_title = self._new_title(post, title)
        thread_id, post_id = str(thread["_id"]), str(post["_id"])
        if body == post.get("body") and (new_title is None or new_title == thread.get("title")):
            return Posted(thread_id, post_id, post["status"])
        await self.posts.check_not_muted(actor, flavour)
        screened = f"{new_title}\n\n{body}" if new_title else body
        verdict, source = await self.posts.screen(actor, flavour, screened)
        if source == "premoderation":
            source = None  # an edit of an approved post is not pre-moderated again; rule and crisis holds are
        await self.replace_body(post, body, str(actor.account_id), actor.pseudonym, new_title, thread)
        fresh = await self.repo.post(post_id) or post
        if source is None:
            if fresh.get("status") == "visible":
                await self.posts.changed(flavour, thread, fresh, "post_edited")
            return Posted(thread_id, post_id, fresh["status"])
        if fresh.get("status") == "visible":
            await self._withdraw(flavour, thread, fresh)
        await self.posts.submit_hold(actor, flavour, thread, fresh, verdict, source)
        notice, crisis = held_notice(flavour, verdict)
        return Posted(thread_id, post_id, "held", notice, crisis)

    async def _withdraw(self, flavour: Flavour, thread: Document, post: Document) -> None:
        """A visible post whose edit is held goes back to held (a first post takes its thread along)."""
        await self.repo.set_post(str(post["_id"]), {"status": "held"})
        if post.get("first"):
            await self.repo.update_thread(str(thread["_id"]), {"$set": {"status": "held"}})
        else:
            await self.repo.update_thread(str(thread["_id"]), {"$inc": {"reply_count": -1}})
        await self.posts.changed(flavour, thread, post, "post_removed")

    async def replace_body(
        self,
        post: Document,
        body: str,
        editor_id: str,
        editor_pseudonym: str,
        new_title: str | None = None,
        thread: Document | None = None,
    ) -> None:
        """Keep the current version in the history, then replace it."""
        now = self.clock()
        first_title = str(thread["title"]) if thread is not None and post.get("first") else None
        revision = rules.revision_of(secrets.token_hex(8), post, first_title, editor_id, editor_pseudonym, now)
        await self.repo.insert_revision(revision)
        title = new_title if new_title is not None else (first_title or "")
        changes = {
            "body": body,
            "edited_at": now,
            "version": int(post.get("version", 1)) + 1,
            "search_terms": rules.search_terms(f"{title}\n{body}"),
        }
        await self.repo.set_post(str(post["_id"]), changes)
        if new_title is not None and thread is not None:
            await self.repo.update_thread(str(thread["_id"]), {"$set": {"title": new_title}})
