"""What moderation does to forum posts: reports by readers, and a moderator's decision on a held or reported post.

The composition root registers :meth:`ForumDecisions.on_decision` as the moderation handler and
:meth:`ForumDecisions.report_resolver` as the report resolver for ``forum_post`` items.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from chatserver.domain.channels import thread_channel
from chatserver.domain.forum import MAX_REASON_CHARS, clean_text, post_url
from chatserver.domain.identity import AccountId, Actor
from chatserver.flavours import Flavour
from chatserver.i18n import N_
from chatserver.services.forum.errors import NOT_FOUND, ForumError

if TYPE_CHECKING:
    from chatserver.flavours import FlavourCatalog
    from chatserver.ports import Document, ForumStore
    from chatserver.services.forum.editing import ForumEdits
    from chatserver.services.forum.posts import ForumPosts
    from chatserver.services.moderation import ModerationService


class ForumDecisions:
    def __init__(
        self,
        repo: ForumStore,
        catalog: FlavourCatalog,
        posts: ForumPosts,
        edits: ForumEdits,
        moderation: ModerationService,
    ) -> None:
        self.repo = repo
        self.catalog = catalog
        self.posts = posts
        self.edits = edits
        self.moderation = moderation

    # reports -----------------------------------------------------------------------------------------------

    async def report(self, actor: Actor | None, flavour: Flavour, post: Document, reason: str) -> None:
        if actor is None:
            raise ForumError("login", 403, N_("Log in om een bericht te melden."))
        if post.get("status") != "visible":
            raise NOT_FOUND
        if post.get("author_id") == actor.account_id:
            raise ForumError("own", 422, N_("Je kunt je eigen bericht niet melden."))
        reason = clean_text(reason, MAX_REASON_CHARS)
        if len(reason) < 3:
            raise ForumError("reason", 422, N_("Vertel kort wat er mis is met dit bericht."), "reason")
        from chatserver.services.moderation import ModerationError

        channel = thread_channel(flavour.slug, str(post["thread_id"]))
        try:
            await self.moderation.report(actor, "forum_post", str(post["_id"]), channel, reason)
        except ModerationError as exc:
            raise ForumError("report", exc.status, exc.detail) from exc

    async def report_resolver(self, ref: Any) -> Any:
        """The ``forum_post`` report resolver: the post a report points at, looked up by id."""
        return await self.resolve_report(str(ref.id))

    async def resolve_report(self, post_id: str) -> Any:
        """The reported post (a ``ReportedObject``) looked up by id, never taken from the reporter; or None."""
        from chatserver.services.moderation import ReportedObject

        post = await self.repo.post(post_id)
        if post is None or post.get("status") != "visible":
            return None
        author = Actor(
            account_id=AccountId(str(post["author_id"])),
            pseudonym=str(post.get("author_pseudonym", "")),
            kind="staff" if post.get("author_role") else "member",
        )
        url = post_url(str(post["flavour"]), post)
        return ReportedObject(flavour=str(post["flavour"]), text=str(post["body"]), author=author, url=url)

    # decisions ---------------------------------------------------------------------------------------------

    async def on_decision(self, view: Any, decision: Any) -> None:
        """What a moderator's decision does to a forum post (registered as the ``forum_post`` handler)."""
        post_id = str(getattr(getattr(view, "ref", None), "id", "") or "")
        post = await self.repo.post(post_id) if post_id else None
        if post is None:
            return
        flavour = self.catalog.get(str(post["flavour"]))
        thread = await self.repo.thread(str(post["thread_id"]))
        if flavour is None or thread is None:
            return
        kind = str(decision.kind)
        if kind in ("approve", "release"):
            await self.publish_held(flavour, thread, post)
        elif kind in ("reject", "hide", "ban"):
            await self._hide(flavour, thread, post)
        elif kind == "redact":
            await self._redact(flavour, thread, post, str(getattr(view, "redacted_text", "") or ""))

    async def _redact(self, flavour: Flavour, thread: Document, post: Document, text: str) -> None:
        """The moderator's version replaces the post (kept in its history); a held post is published with it.

        ``text`` comes with the decision's view: a redaction cannot be decided without one."""
        if not text:
            return
        await self.edits.replace_body(post, text, editor_id="moderator", editor_pseudonym="moderator")
        if post.get("status") == "held":
            await self.publish_held(flavour, thread, post)
        else:
            await self.posts.changed(flavour, thread, post, "post_edited")

    async def publish_held(self, flavour: Flavour, thread: Document, post: Document) -> bool:
        updated = await self.repo.set_post(str(post["_id"]), {"status": "visible"}, expect_status="held")
        if updated is None:
            return False
        fresh = await self.repo.thread(str(thread["_id"])) or thread
        await self.posts.published(flavour, fresh, updated)
        return True

    async def _hide(self, flavour: Flavour, thread: Document, post: Document) -> None:
        was_visible = post.get("status") == "visible"
        await self.repo.set_post(str(post["_id"]), {"status": "hidden"})
        if post.get("first"):
            await self.repo.update_thread(str(thread["_id"]), {"$set": {"status": "hidden"}})
        elif was_visible:
            await self.repo.update_thread(str(thread["_id"]), {"$inc": {"reply_count": -1}})
        if was_visible:
            await self.posts.changed(flavour, thread, post, "post_removed")
