"""Following threads and the notifications that come of it: one list per account, an unread count, a live event.

A new visible reply notifies every follower of the thread but its author; other services use the same list,
counter and live event for their own notices (a log-in warning, a vraagbaak answer) through
:meth:`ForumFollows.notify_account`.
"""

from __future__ import annotations

import logging
import secrets
from datetime import datetime
from typing import TYPE_CHECKING, Any

from chatserver.domain.channels import user_channel
from chatserver.domain.forum import follow_text, post_url
from chatserver.domain.identity import Actor
from chatserver.flavours import Flavour
from chatserver.i18n import N_
from chatserver.protocol.events import AccountNotification
from chatserver.services.forum.errors import ForumError

if TYPE_CHECKING:
    from chatserver.clock import Clock
    from chatserver.ports import Document, ForumStore, UnreadCounts
    from chatserver.services.chat import ChatService

log = logging.getLogger("chatserver.forum")

NOTIFICATION_LIMIT = 100


class ForumFollows:
    def __init__(self, repo: ForumStore, unread: UnreadCounts, chat: ChatService, clock: Clock) -> None:
        self.repo = repo
        self.unread = unread
        self.chat = chat
        self.clock = clock

    # following -------------------------------------------------------------------------------------------

    async def set_following(self, actor: Actor | None, flavour: Flavour, thread: Document, follow: bool) -> None:
        if actor is None or actor.is_guest:
            raise ForumError("login", 403, N_("Log in om een onderwerp te volgen."))
        if follow:
            await self.follow(str(actor.account_id), flavour, str(thread["_id"]))
        else:
            await self.repo.unfollow(str(actor.account_id), str(thread["_id"]))

    async def follow(self, account_id: str, flavour: Flavour, thread_id: str) -> None:
        await self.repo.follow(account_id, thread_id, flavour.slug, self.clock())

    async def is_following(self, actor: Actor | None, thread: Document) -> bool:
        if actor is None or actor.is_guest:
            return False
        return await self.repo.is_following(str(actor.account_id), str(thread["_id"]))

    # notifications ---------------------------------------------------------------------------------------

    async def notifications(self, actor: Actor) -> list[Document]:
        return await self.repo.notifications_of(str(actor.account_id), NOTIFICATION_LIMIT)

    async def unread_count(self, account_id: str) -> int:
        """The cached count per account, rebuilt from the stored notifications when it is missing."""
        cached = await self.unread.cached(account_id)
        if cached is not None:
            return cached
        count = await self.repo.unread_count(account_id)
        await self.unread.remember(account_id, count)
        return count

    async def mark_read(self, actor: Actor, notification_id: str | None = None) -> None:
        await self.repo.mark_read(str(actor.account_id), notification_id)
        await self.unread.forget(str(actor.account_id))

    async def notify_followers(self, flavour: Flavour, thread: Document, post: Document) -> None:
        """A reply became visible: a notification for every follower of the thread but its author."""
        followers = [a for a in await self.repo.followers(str(thread["_id"])) if a != post.get("author_id")]
        if not followers:
            return
        text = follow_text(str(post.get("author_pseudonym", "")), str(thread["title"]))
        url = post_url(flavour.slug, post)
        now = self.clock()
        await self.repo.insert_notifications([self._doc(a, flavour.slug, text, url, now) for a in followers])
        for account_id in followers:
            await self._announce(account_id, text, url)

    async def notify_account(self, account_id: str, text: str, url: str) -> None:
        """A notification that is not about a thread (e.g. "someone is trying to log in as you") in the same
        list, counter and live event as follow notifications."""
        await self.repo.insert_notifications([self._doc(str(account_id), "", text, url, self.clock())])
        await self._announce(str(account_id), text, url)

    @staticmethod
    def _doc(account_id: str, flavour: str, text: str, url: str, now: datetime) -> dict[str, Any]:
        return {"_id": secrets.token_hex(8), "account_id": account_id, "flavour": flavour, "text": text, "url": url,
                "created_at": now, "read": False}  # fmt: skip

    async def _announce(self, account_id: str, text: str, url: str) -> None:
        """One more unread for the account and the live event on its user channel."""
        await self.unread.bump(account_id)
        try:
            await self.chat.emit(user_channel(account_id), AccountNotification(text=text, url=url))
        except Exception as exc:  # stored: the account sees it on the next page load
            log.warning("notification event failed (%s)", type(exc).__name__)
