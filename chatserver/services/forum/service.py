"""The forum service: the one door to forum threads and posts, built from its parts.

:class:`ForumService` is what pages, jobs and other services hold (``services.forum``); each use case is done by
the part that owns its concept — :mod:`~chatserver.services.forum.posts` (the doors, new threads and replies,
screening, publishing), :mod:`~chatserver.services.forum.editing` (edits and their history),
:mod:`~chatserver.services.forum.decisions` (reports and moderation decisions),
:mod:`~chatserver.services.forum.follows` (follows, notifications, unread counts) and
:mod:`~chatserver.services.forum.search` (listing, paging, search).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, Literal

from chatserver.domain.channels import ChannelFacts, ChannelRef
from chatserver.domain.forum import Page
from chatserver.domain.identity import Actor
from chatserver.flavours import Flavour
from chatserver.services.forum import demo
from chatserver.services.forum.decisions import ForumDecisions
from chatserver.services.forum.editing import ForumEdits
from chatserver.services.forum.errors import Posted
from chatserver.services.forum.follows import ForumFollows
from chatserver.services.forum.posts import ForumPosts
from chatserver.services.forum.search import ForumSearch

if TYPE_CHECKING:
    from chatserver.clock import Clock
    from chatserver.flavours import FlavourCatalog
    from chatserver.ports import Document, ForumStore, UnreadCounts
    from chatserver.ports.reflectie import Counter
    from chatserver.services.chat import ChatService
    from chatserver.services.identity import IdentityService
    from chatserver.services.moderation import ModerationService


class ForumService:
    def __init__(
        self,
        *,
        repo: ForumStore,
        unread: UnreadCounts,
        catalog: FlavourCatalog,
        chat: ChatService,
        moderation: ModerationService,
        identity: IdentityService,
        clock: Clock,
        counter: Counter,
    ) -> None:
        self.repo = repo
        self.catalog = catalog
        self.clock = clock
        self.follows = ForumFollows(repo, unread, chat, clock)
        self.posts = ForumPosts(repo, catalog, chat, moderation, identity, self.follows, clock, counter)
        self.edits = ForumEdits(repo, self.posts, clock)
        self.decisions = ForumDecisions(repo, catalog, self.posts, self.edits, moderation)
        self.listing = ForumSearch(repo)

    # reading -----------------------------------------------------------------------------------------------

    async def access_thread(self, actor: Actor | None, flavour: Flavour, thread_id: str) -> Document:
        return await self.posts.access_thread(actor, flavour, thread_id)

    async def access_post(self, actor: Actor | None, flavour: Flavour, thread: Document, post_id: str) -> Document:
        return await self.posts.access_post(actor, flavour, thread, post_id)

    async def thread_facts(self, actor: Actor, ref: ChannelRef) -> ChannelFacts:
        return await self.posts.thread_facts(actor, ref)

    async def index(self, flavour: Flavour) -> tuple[dict[str, int], dict[str, Document]]:
        return await self.listing.index(flavour)

    async def category_page(self, actor: Actor | None, flavour: Flavour, category: str, number: int) -> Page:
        return await self.listing.category_page(actor, flavour, category, number)

    async def thread_page(self, actor: Actor | None, flavour: Flavour, thread: Document, number: int) -> Page:
        return await self.listing.thread_page(actor, flavour, thread, number)

    async def page_of_post(self, actor: Actor | None, flavour: Flavour, post: Document) -> int:
        return await self.listing.page_of_post(actor, flavour, post)

    async def search(self, flavour: Flavour, query: str) -> list[dict[str, Any]]:
        return await self.listing.search(flavour, query)

    async def revisions(self, post: Document) -> list[Document]:
        return await self.edits.revisions(post)

    # writing -----------------------------------------------------------------------------------------------

    def check_can_post(self, actor: Actor | None, flavour: Flavour) -> Actor:
        return self.posts.check_can_post(actor, flavour)

    async def create_thread(
        self, actor: Actor | None, flavour: Flavour, category_slug: str, title: str, body: str, ip_subject: str
    ) -> Posted:
        return await self.posts.create_thread(actor, flavour, category_slug, title, body, ip_subject)

    async def reply(
        self, actor: Actor | None, flavour: Flavour, thread: Document, body: str, ip_subject: str
    ) -> Posted:
        return await self.posts.reply(actor, flavour, thread, body, ip_subject)

    def can_edit(self, actor: Actor | None, flavour: Flavour, thread: Document, post: Document) -> bool:
        return self.edits.can_edit(actor, flavour, thread, post)

    async def edit(
        self, actor: Actor | None, flavour: Flavour, thread: Document, post: Document, body: str, title: str | None
    ) -> Posted:
        return await self.edits.edit(actor, flavour, thread, post, body, title)

    async def toggle(
        self, actor: Actor | None, flavour: Flavour, thread: Document, field: Literal["pinned", "locked"]
    ) -> bool:
        return await self.posts.toggle(actor, flavour, thread, field)

    # moderation --------------------------------------------------------------------------------------------

    async def report(self, actor: Actor | None, flavour: Flavour, post: Document, reason: str) -> None:
        await self.decisions.report(actor, flavour, post, reason)

    async def report_resolver(self, ref: Any) -> Any:
        return await self.decisions.report_resolver(ref)

    async def on_decision(self, view: Any, decision: Any) -> None:
        await self.decisions.on_decision(view, decision)

    # follows and notifications -----------------------------------------------------------------------------

    async def set_following(self, actor: Actor | None, flavour: Flavour, thread: Document, follow: bool) -> None:
        await self.follows.set_following(actor, flavour, thread, follow)

    async def is_following(self, actor: Actor | None, thread: Document) -> bool:
        return await self.follows.is_following(actor, thread)

    async def notifications(self, actor: Actor) -> list[Document]:
        return await self.follows.notifications(actor)

    async def unread_count(self, account_id: str) -> int:
        return await self.follows.unread_count(account_id)

    async def mark_read(self, actor: Actor, notification_id: str | None = None) -> None:
        await self.follows.mark_read(actor, notification_id)

    async def notify_account(self, account_id: str, text: str, url: str) -> None:
        await self.follows.notify_account(account_id, text, url)

    # demo content ------------------------------------------------------------------------------------------

    async def seed_demo(self) -> int:
        return await demo.seed_demo(self.repo, self.catalog, self.clock)
