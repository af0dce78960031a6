"""Threads and posts: the doors to them, starting a thread, replying, screening, holding and publishing.

A post is ``visible``, ``held`` (waiting for a moderator; its author and the flavour's staff see it, marked) or
``hidden``. Every new post is screened by the moderation service; a hold (the flavour's rules, a crisis hit, a
pre-moderated category or a new account) becomes a moderation item whose decision comes back through
:mod:`chatserver.services.forum.decisions`. Publishing a post announces it on the thread's live channel and
notifies the thread's followers.
"""

from __future__ import annotations

import logging
import secrets
from typing import TYPE_CHECKING, Any, Literal

from chatserver.domain.channels import ChannelFacts, ChannelRef, thread_channel
from chatserver.domain.forum import (
    MAX_BODY_CHARS,
    MAX_ID_CHARS,
    MAX_TITLE_CHARS,
    MIN_BODY_CHARS,
    MIN_TITLE_CHARS,
    clean_text,
    clean_title,
    fragment_url,
    is_forum_staff,
    new_post,
    new_thread,
    post_url,
    readable,
)
from chatserver.domain.identity import Actor
from chatserver.flavours import Flavour
from chatserver.i18n import N_
from chatserver.protocol.events import ForumPost, ForumPostEdited, ForumPostRemoved
from chatserver.services.forum.errors import NOT_FOUND, ForumError, Posted
from chatserver.services.identity import IdentityError

if TYPE_CHECKING:
    from chatserver.clock import Clock
    from chatserver.flavours import FlavourCatalog
    from chatserver.ports import Document, ForumStore
    from chatserver.ports.reflectie import Counter
    from chatserver.services.chat import ChatService
    from chatserver.services.forum.follows import ForumFollows
    from chatserver.services.identity import IdentityService
    from chatserver.services.moderation import ModerationService
    from moderation.queue import ItemSource
    from moderation.rules import Verdict

    Screened = tuple[Verdict | None, ItemSource | None]

log = logging.getLogger("chatserver.forum")

HOLD_NOTICE = N_("Je bericht wacht op goedkeuring van een moderator. Alleen jij ziet het tot het is goedgekeurd.")
PREMODERATED_NOTICE = N_(
    "In deze categorie bekijkt een moderator elk bericht voordat het zichtbaar wordt. "
    "Je bericht wacht op goedkeuring; alleen jij ziet het tot het is goedgekeurd."
)


def new_id() -> str:
    return secrets.token_hex(8)


def held_notice(flavour: Flavour, verdict: Verdict | None) -> tuple[str, bool]:
    """What the author of a held post reads, and whether it was a crisis hit."""
    if verdict is not None and verdict.crisis.flagged:
        from chatserver.services.moderation import crisis_notice

        return crisis_notice(flavour), True
    return (verdict.reason if verdict is not None else None) or HOLD_NOTICE, False


class ForumPosts:
    def __init__(
        self,
        repo: ForumStore,
        catalog: FlavourCatalog,
        chat: ChatService,
        moderation: ModerationService,
        identity: IdentityService,
        follows: ForumFollows,
        clock: Clock,
        counter: Counter,
    ) -> None:
        self.repo = repo
        self.catalog = catalog
        self.chat = chat
        self.moderation = moderation
        self.identity = identity
        self.follows = follows
        self.clock = clock
        self.counter = counter

    # the doors ---------------------------------------------------------------------------------------------

    async def access_thread(self, actor: Actor | None, flavour: Flavour, thread_id: str) -> Document:
        """The thread if this actor may read it in this flavour; else the one not-found for every reason."""
        if len(thread_id) > MAX_ID_CHARS:
            raise NOT_FOUND
        thread = await self.repo.thread(thread_id)
        if thread is None or thread.get("flavour") != flavour.slug:
            raise NOT_FOUND
        if flavour.category(str(thread.get("category"))) is None:
            raise NOT_FOUND
        if readable(actor, flavour.slug, thread):
            return thread
        raise NOT_FOUND

    async def access_post(self, actor: Actor | None, flavour: Flavour, thread: Document, post_id: str) -> Document:
        if len(post_id) > MAX_ID_CHARS:
            raise NOT_FOUND
        post = await self.repo.post(post_id)
        if post is None or post.get("thread_id") != thread["_id"]:
            raise NOT_FOUND
        if readable(actor, flavour.slug, post):
            return post
        raise NOT_FOUND

    async def thread_facts(self, actor: Actor, ref: ChannelRef) -> ChannelFacts:
        """The channel resolver for forum threads: the thread exists for a reader who may see it."""
        flavour = self.catalog.get(ref.flavour)
        if flavour is None:
            return ChannelFacts(exists=False)
        try:
            await self.access_thread(actor, flavour, ref.ident)
        except ForumError:
            return ChannelFacts(exists=False)
        return ChannelFacts(exists=True)

    # checks and screening ----------------------------------------------------------------------------------

    def check_can_post(self, actor: Actor | None, flavour: Flavour) -> Actor:
        if actor is None or actor.is_guest:
            raise ForumError("login", 403, N_("Log in of maak een account aan om te reageren. Lezen kan altijd."))
        if flavour.validation.forum_post and not actor.validated and not actor.is_staff:
            raise ForumError(
                "validation", 403, N_("Om op het forum te schrijven moet je account eerst gevalideerd zijn.")
            )
        return actor

    def check_body(self, body: str) -> str:
        cleaned = clean_text(body, MAX_BODY_CHARS + 1)
        if len(cleaned) < MIN_BODY_CHARS:
            raise ForumError("body", 422, N_("Schrijf een bericht."), "body")
        if len(cleaned) > MAX_BODY_CHARS:
            raise ForumError("body", 422, N_("Je bericht is te lang (hoogstens %s tekens).") % MAX_BODY_CHARS, "body")
        return cleaned

    def _check_title(self, title: str) -> str:
        title = clean_title(title)
        if len(title) < MIN_TITLE_CHARS:
            raise ForumError(
                "title", 422, N_("Geef je onderwerp een titel van minstens %s tekens.") % MIN_TITLE_CHARS, "title"
            )
        if len(title) > MAX_TITLE_CHARS:
            raise ForumError("title", 422, N_("De titel is te lang (hoogstens %s tekens).") % MAX_TITLE_CHARS, "title")
        return title

    async def check_not_muted(self, actor: Actor, flavour: Flavour) -> None:
        if actor.is_staff:
            return
        mute = await self.moderation.mute_of(str(actor.account_id), flavour.slug)
        if mute is not None:
            from chatserver.services.moderation import muted_text

            raise ForumError("muted", 403, muted_text(*mute))

    async def screen(self, actor: Actor, flavour: Flavour, text: str) -> Screened:
        """The moderation verdict and, when the post must wait, the item source ("rule" or "premoderation")."""
        age = None if actor.is_staff else await self.moderation.account_age_days(actor)
        # An account that is not on file (yet) counts as established, as in the moderation service.
        known: Any = age if age is not None else "unknown"
        verdict: Verdict = self.moderation.screen(actor, flavour.slug, "forum", text, account_age_days=known)
        if verdict.action == "block":
            raise ForumError("refused", 422, verdict.reason or N_("Dit bericht kan niet geplaatst worden."), "body")
        if verdict.action == "hold":
            only_premoderation = all(hit.rule == "premoderation" for hit in verdict.hits) and verdict.hits
            return verdict, "premoderation" if only_premoderation and not verdict.crisis.flagged else "rule"
        if actor.is_staff:
            return verdict, None
        rules = flavour.moderation
        if rules.premoderate_new_accounts and age is not None and age < rules.new_account_days:
            return verdict, "premoderation"
        return verdict, None

    async def _screen_new(
        self, author: Actor, flavour: Flavour, text: str, premoderated: bool, ip_subject: str
    ) -> Screened:
        """Screening for a new post: a pre-moderated category holds what the rules let through (staff excepted);
        then the author's post rate limit."""
        verdict, source = await self.screen(author, flavour, text)
        if source is None and premoderated and not author.is_staff:
            source = "premoderation"
        try:
            await self.identity.limit_action("post", author, ip_subject)
        except IdentityError as exc:
            raise ForumError("rate_limited", 429, exc.detail) from exc
        return verdict, source

    # writing -----------------------------------------------------------------------------------------------

    async def create_thread(
        self, actor: Actor | None, flavour: Flavour, category_slug: str, title: str, body: str, ip_subject: str
    ) -> Posted:
        author = self.check_can_post(actor, flavour)
        category = flavour.category(category_slug)
        if category is None:
            raise NOT_FOUND
        title = self._check_title(title)
        body = self.check_body(body)
        await self.check_not_muted(author, flavour)
        text = f"{title}\n\n{body}"
        verdict, source = await self._screen_new(author, flavour, text, category.premoderated, ip_subject)
        now = self.clock()
        thread_id = new_id()
        post = new_post(new_id(), author, flavour.slug, thread_id, category.slug, body, title, now)
        post["status"] = "held" if source else "visible"
        thread = new_thread(thread_id, author, flavour.slug, category.slug, title, post, now)
        await self.repo.insert_thread(thread)
        await self.repo.insert_post(post)
        await self.repo.follow(str(author.account_id), thread_id, flavour.slug, now)
        return await self._after_insert(author, flavour, thread, post, verdict, source, category.premoderated)

    async def reply(
        self, actor: Actor | None, flavour: Flavour, thread: Document, body: str, ip_subject: str
    ) -> Posted:
        author = self.check_can_post(actor, flavour)
        if thread.get("locked") and not author.staff_in(flavour.slug):
            raise ForumError("locked", 403, N_("Dit onderwerp is gesloten: er kan niet meer op gereageerd worden."))
        if thread.get("status") != "visible":
            raise ForumError("waiting", 409, N_("Je kunt reageren zodra het onderwerp is goedgekeurd."))
        body = self.check_body(body)
        await self.check_not_muted(author, flavour)
        category = flavour.category(str(thread["category"]))
        premoderated = bool(category and category.premoderated)
        verdict, source = await self._screen_new(author, flavour, body, premoderated, ip_subject)
        thread_id = str(thread["_id"])
        post = new_post(new_id(), author, flavour.slug, thread_id, str(thread["category"]), body, "", self.clock())
        post["status"] = "held" if source else "visible"
        await self.repo.insert_post(post)
        await self.repo.follow(str(author.account_id), thread_id, flavour.slug, self.clock())
        return await self._after_insert(author, flavour, thread, post, verdict, source, premoderated)

    async def _after_insert(
        self,
        author: Actor,
        flavour: Flavour,
        thread: Document,
        post: Document,
        verdict: Verdict | None,
        source: ItemSource | None,
        premoderated: bool,
    ) -> Posted:
        thread_id, post_id = str(thread["_id"]), str(post["_id"])
        self.counter.count("forum.post", flavour.slug)  # every stored post, shown now or held for a moderator
        if source is None:
            await self.published(flavour, thread, post)
            return Posted(thread_id, post_id, "visible")
        await self.submit_hold(author, flavour, thread, post, verdict, source)
        notice, crisis = held_notice(flavour, verdict)
        if not crisis and source == "premoderation" and premoderated:
            notice = PREMODERATED_NOTICE
        return Posted(thread_id, post_id, "held", notice=notice, crisis=crisis)

    async def submit_hold(
        self,
        author: Actor,
        flavour: Flavour,
        thread: Document,
        post: Document,
        verdict: Verdict | None,
        source: ItemSource,
    ) -> None:
        """A moderation item for a held post (its thread's title with it for a first post)."""
        from chatserver.services.moderation import ItemRef

        text = str(post["body"])
        if post.get("first"):
            text = f"{thread['title']}\n\n{text}"
        ref = ItemRef(
            kind="forum_post",
            id=str(post["_id"]),
            channel=thread_channel(flavour.slug, str(thread["_id"])),
            url=post_url(flavour.slug, post),
        )
        item_id = await self.moderation.submit(
            flavour=flavour.slug,
            source=source,
            ref=ref,
            text=text,
            author=author,
            verdict=verdict,
            held_payload={"post_id": str(post["_id"]), "thread_id": str(thread["_id"])},
        )
        await self.repo.set_post(str(post["_id"]), {"moderation_item": item_id})

    async def published(self, flavour: Flavour, thread: Document, post: Document) -> None:
        """A post became visible: thread counters, the live event, followers' notifications."""
        now = self.clock()
        thread_id = str(thread["_id"])
        if post.get("first"):
            await self.repo.update_thread(thread_id, {"$set": {"status": "visible", "last_post_at": now}})
            return
        await self.repo.update_thread(thread_id, {"$set": {"last_post_at": now}, "$inc": {"reply_count": 1}})
        event = ForumPost(
            post_id=str(post["_id"]),
            thread_id=thread_id,
            author=str(post.get("author_pseudonym", "")),
            role=post.get("author_role"),
            fragment=fragment_url(flavour.slug, thread_id, str(post["_id"])),
        )
        try:
            await self.chat.emit(thread_channel(flavour.slug, thread_id), event)
        except Exception as exc:  # the post is stored; readers see it on the next page load
            log.warning("forum live event failed (%s)", type(exc).__name__)
        await self.follows.notify_followers(flavour, thread, post)

    async def changed(
        self, flavour: Flavour, thread: Document, post: Document, kind: Literal["post_edited", "post_removed"]
    ) -> None:
        """Tell the thread's readers that a visible post changed or went (they fetch its fragment again)."""
        thread_id, post_id = str(thread["_id"]), str(post["_id"])
        fragment = fragment_url(flavour.slug, thread_id, post_id)
        event = (
            ForumPostEdited(post_id=post_id, fragment=fragment)
            if kind == "post_edited"
            else ForumPostRemoved(post_id=post_id, fragment=fragment)
        )
        try:
            await self.chat.emit(thread_channel(flavour.slug, thread_id), event)
        except Exception as exc:
            log.warning("forum live event failed (%s)", type(exc).__name__)

    # staff: pin and lock -----------------------------------------------------------------------------------

    async def toggle(
        self, actor: Actor | None, flavour: Flavour, thread: Document, field: Literal["pinned", "locked"]
    ) -> bool:
        if not is_forum_staff(actor, flavour.slug):
            raise NOT_FOUND
        value = not bool(thread.get(field))
        await self.repo.update_thread(str(thread["_id"]), {"$set": {field: value}})
        return value
