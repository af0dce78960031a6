"""Forum use cases: threads, replies, quotes, edit history, pin/lock, reports, pre-moderation, search, follows.

The only door to forum posts. A post is ``visible``, ``held`` (waiting for a
moderator; its author and the flavour's staff see it, marked) or ``hidden``.
Every new post and every edit is screened by the moderation service; a hold
(the flavour's rules, a crisis hit, a pre-moderated category or a new account)
becomes a moderation item whose decision comes back through the handler
registered for ``forum_post``. Publishing a post announces it on the thread's
live channel and notifies the thread's followers.
"""

from __future__ import annotations

import logging
import re
import secrets
import unicodedata
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING, Any, Literal

from chatserver.adapters.forum_repo import ForumRepo
from chatserver.adapters.mongo_client import Document
from chatserver.domain.channels import ChannelFacts, ChannelRef, thread_channel, user_channel
from chatserver.domain.identity import AccountId, Actor
from chatserver.flavours import Flavour
from chatserver.services.identity import IdentityError
from chatserver.services.refusal import Refused

if TYPE_CHECKING:
    from chatserver.adapters.mongo_client import Database
    from chatserver.adapters.redis_client import Redis
    from chatserver.flavours import FlavourCatalog
    from chatserver.services.chat import ChatService
    from chatserver.services.identity import IdentityService
    from chatserver.services.moderation import ModerationService
    from moderation.queue import ItemSource
    from moderation.rules import Verdict

log = logging.getLogger("chatserver.forum")

PostStatus = Literal["visible", "held", "hidden"]

PAGE_SIZE = 20
MIN_TITLE_CHARS = 5
MAX_TITLE_CHARS = 120
MIN_BODY_CHARS = 2
MAX_BODY_CHARS = 20_000
MAX_REASON_CHARS = 500
MAX_QUERY_TERMS = 8
MAX_SEARCH_TERMS = 400
NOTIFICATION_LIMIT = 100
UNREAD_TTL_S = 7 * 24 * 3600
SEARCH_RESULTS = 20

_STOPWORD_TEXT = (
    "de het een en van in op te dat die is ik je jij we wij ze zij hij er met voor aan om maar ook als dan "
    "nog wel niet geen bij uit of tot naar over zo wat wie hoe waar mijn jouw zijn haar hun dit deze al was"
)
STOPWORDS = frozenset(_STOPWORD_TEXT.split(" "))
_TOKEN = re.compile(r"[a-z0-9]+")

HOLD_NOTICE = "Je bericht wacht op goedkeuring van een moderator. Alleen jij ziet het tot het is goedgekeurd."
PREMODERATED_NOTICE = (
    "In deze categorie bekijkt een moderator elk bericht voordat het zichtbaar wordt. "
    "Je bericht wacht op goedkeuring; alleen jij ziet het tot het is goedgekeurd."
)


class ForumError(Refused):
    """A refused forum use case."""


NOT_FOUND = ForumError("not_found", 404, "Dit onderwerp bestaat niet of je hebt er geen toegang toe.")


@dataclass(frozen=True, slots=True)
class Posted:
    thread_id: str
    post_id: str
    status: PostStatus
    notice: str = ""
    crisis: bool = False


@dataclass(frozen=True, slots=True)
class Page:
    items: list[Document]
    total: int
    page: int
    pages: int


def new_id() -> str:
    return secrets.token_hex(8)


def fold(text: str) -> str:
    """Lower-cased, accent-folded text (``Één café`` → ``een cafe``)."""
    decomposed = unicodedata.normalize("NFKD", text)
    return "".join(ch for ch in decomposed if not unicodedata.combining(ch)).lower()


def search_terms(text: str) -> list[str]:
    """The normalised words of a text for the search index: folded, without stop words, unique, capped."""
    seen: dict[str, None] = {}
    for token in _TOKEN.findall(fold(text)):
        if len(token) >= 2 and token not in STOPWORDS:
            seen.setdefault(token[:40], None)
        if len(seen) >= MAX_SEARCH_TERMS:
            break
    return list(seen)


def clean_text(value: str, limit: int) -> str:
    """Trimmed, capped NFC text without control characters or lone surrogates (newlines kept)."""
    value = value.encode("utf-8", "replace").decode("utf-8")
    value = unicodedata.normalize("NFC", value)
    value = "".join(ch for ch in value if ch in "\n\t" or unicodedata.category(ch) not in ("Cc", "Cf", "Cs"))
    return value.replace("\r", "").strip()[:limit]


def quote_of(post: Document) -> str:
    """The Markdown blockquote that a reply quoting ``post`` starts with."""
    lines = str(post.get("body", "")).splitlines() or [""]
    quoted = "\n".join(f"> {line}" if line else ">" for line in lines[:40])
    return f"> **{post.get('author_pseudonym', '')}** schreef:\n>\n{quoted}\n\n"


def pages_for(total: int) -> int:
    return max(1, (total + PAGE_SIZE - 1) // PAGE_SIZE)


def is_forum_staff(actor: Actor | None, flavour: str) -> bool:
    return actor is not None and actor.staff_in(flavour)


class ForumService:
    def __init__(
        self,
        *,
        db: Database,
        redis: Redis,
        key: Callable[..., str],
        catalog: FlavourCatalog,
        chat: ChatService,
        moderation: ModerationService,
        identity: IdentityService,
        clock: Callable[[], datetime] | None = None,
    ) -> None:
        self.db = db
        self.redis = redis
        self.key = key
        self.catalog = catalog
        self.chat = chat
        self.moderation = moderation
        self.identity = identity
        self.repo = ForumRepo(db)
        self.clock: Callable[[], datetime] = clock or (lambda: datetime.now(UTC))
        # How the owner of an account hears of an attack on it: through the forum's notifications.
        identity.account_notifiers.append(self.notify_account)

    def _unread_key(self, account_id: str) -> str:
        return self.key("forum", "unread", account_id)

    # reading ---------------------------------------------------------------------------------------------

    async def access_thread(self, actor: Actor | None, flavour: Flavour, thread_id: str) -> Document:
        """The thread if this actor may read it in this flavour; else the one not-found for every reason."""
        if len(thread_id) > 64:
            raise NOT_FOUND
        thread = await self.repo.thread(thread_id)
        if thread is None or thread.get("flavour") != flavour.slug:
            raise NOT_FOUND
        if flavour.category(str(thread.get("category"))) is None:
            raise NOT_FOUND
        if thread.get("status") == "visible":
            return thread
        if thread.get("status") == "held" and self._author_or_staff(actor, flavour, thread):
            return thread
        raise NOT_FOUND

    async def access_post(self, actor: Actor | None, flavour: Flavour, thread: Document, post_id: str) -> Document:
        if len(post_id) > 64:
            raise NOT_FOUND
        post = await self.repo.post(post_id)
        if post is None or post.get("thread_id") != thread["_id"]:
            raise NOT_FOUND
        if post.get("status") == "visible":
            return post
        if post.get("status") == "held" and self._author_or_staff(actor, flavour, post):
            return post
        raise NOT_FOUND

    def _author_or_staff(self, actor: Actor | None, flavour: Flavour, doc: Document) -> bool:
        if actor is None:
            return False
        return doc.get("author_id") == actor.account_id or is_forum_staff(actor, flavour.slug)

    async def category_page(self, actor: Actor | None, flavour: Flavour, category: str, number: int) -> Page:
        viewer = None if actor is None else str(actor.account_id)
        items, total = await self.repo.category_page(
            flavour.slug, category, viewer, (number - 1) * PAGE_SIZE, PAGE_SIZE
        )
        return Page(items, total, number, pages_for(total))

    async def thread_page(self, actor: Actor | None, flavour: Flavour, thread: Document, number: int) -> Page:
        viewer = None if actor is None else str(actor.account_id)
        staff = is_forum_staff(actor, flavour.slug)
        items, total = await self.repo.thread_posts(
            str(thread["_id"]), viewer, staff, (number - 1) * PAGE_SIZE, PAGE_SIZE
        )
        return Page(items, total, number, pages_for(total))

    async def page_of_post(self, actor: Actor | None, flavour: Flavour, post: Document) -> int:
        viewer = None if actor is None else str(actor.account_id)
        before = await self.repo.position(post, viewer, is_forum_staff(actor, flavour.slug))
        return before // PAGE_SIZE + 1

    async def index(self, flavour: Flavour) -> tuple[dict[str, int], dict[str, Document]]:
        return await self.repo.count_by_category(flavour.slug), await self.repo.latest_by_category(flavour.slug)

    async def revisions(self, post: Document) -> list[Document]:
        return await self.repo.revisions_of(str(post["_id"]))

    # writing ---------------------------------------------------------------------------------------------

    def check_can_post(self, actor: Actor | None, flavour: Flavour) -> Actor:
        if actor is None or actor.is_guest:
            raise ForumError("login", 403, "Log in of maak een account aan om te reageren. Lezen kan altijd.")
        if flavour.validation.forum_post and not actor.validated and not actor.is_staff:
            raise ForumError("validation", 403, "Om op het forum te schrijven moet je account eerst gevalideerd zijn.")
        return actor

    async def _muted(self, actor: Actor, flavour: Flavour) -> None:
        if actor.is_staff:
            return
        mute = await self.moderation.mute_of(str(actor.account_id), flavour.slug)
        if mute is not None:
            from chatserver.services.moderation import muted_text

            raise ForumError("muted", 403, muted_text(*mute))

    async def _account_age_days(self, actor: Actor) -> float | None:
        age: float | None = await self.moderation.account_age_days(actor)
        return age

    async def _screen(self, actor: Actor, flavour: Flavour, text: str) -> tuple[Verdict | None, ItemSource | None]:
        """The moderation verdict and, when the post must wait, the item source ("rule" or "premoderation")."""
        age = None if actor.is_staff else await self._account_age_days(actor)
        # An account that is not on file (yet) counts as established, as in the moderation service.
        known: Any = age if age is not None else "unknown"
        verdict: Verdict = self.moderation.screen(actor, flavour.slug, "forum", text, account_age_days=known)
        if verdict.action == "block":
            raise ForumError("refused", 422, verdict.reason or "Dit bericht kan niet geplaatst worden.", "body")
        if verdict.action == "hold":
            only_premoderation = all(hit.rule == "premoderation" for hit in verdict.hits) and verdict.hits
            return verdict, "premoderation" if only_premoderation and not verdict.crisis.flagged else "rule"
        if actor.is_staff:
            return verdict, None
        rules = flavour.moderation
        if rules.premoderate_new_accounts and age is not None and age < rules.new_account_days:
            return verdict, "premoderation"
        return verdict, None

    def _check_body(self, body: str) -> str:
        cleaned = clean_text(body, MAX_BODY_CHARS + 1)
        if len(cleaned) < MIN_BODY_CHARS:
            raise ForumError("body", 422, "Schrijf een bericht.", "body")
        if len(cleaned) > MAX_BODY_CHARS:
            raise ForumError("body", 422, f"Je bericht is te lang (hoogstens {MAX_BODY_CHARS} tekens).", "body")
        return cleaned

    def _post_doc(
        self, actor: Actor, flavour: Flavour, thread_id: str, category: str, body: str, title: str
    ) -> Document:
        now = self.clock()
        return {
            "_id": new_id(),
            "thread_id": thread_id,
            "flavour": flavour.slug,
            "category": category,
            "author_id": str(actor.account_id),
            "author_pseudonym": actor.pseudonym,
            "author_role": actor.role if actor.is_staff else None,
            "body": body,
            "status": "visible",
            "created_at": now,
            "edited_at": None,
            "version": 1,
            "search_terms": search_terms(f"{title}\n{body}"),
            "moderation_item": None,
            "first": title != "",
        }

    async def create_thread(
        self, actor: Actor | None, flavour: Flavour, category_slug: str, title: str, body: str, ip_subject: str
    ) -> Posted:
        author = self.check_can_post(actor, flavour)
        category = flavour.category(category_slug)
        if category is None:
            raise NOT_FOUND
        title = " ".join(clean_text(title, MAX_TITLE_CHARS + 1).split())
        if len(title) < MIN_TITLE_CHARS:
            raise ForumError(
                "title", 422, f"Geef je onderwerp een titel van minstens {MIN_TITLE_CHARS} tekens.", "title"
            )
        if len(title) > MAX_TITLE_CHARS:
            raise ForumError("title", 422, f"De titel is te lang (hoogstens {MAX_TITLE_CHARS} tekens).", "title")
        body = self._check_body(body)
        await self._muted(author, flavour)
        verdict, source = await self._screen(author, flavour, f"{title}\n\n{body}")
        if source is None and category.premoderated and not author.is_staff:
            source = "premoderation"
        await self._limit_only(author, ip_subject)
        now = self.clock()
        thread_id = new_id()
        post = self._post_doc(author, flavour, thread_id, category.slug, body, title)
        status: PostStatus = "held" if source else "visible"
        post["status"] = status
        thread: Document = {
            "_id": thread_id,
            "flavour": flavour.slug,
            "category": category.slug,
            "title": title,
            "author_id": str(author.account_id),
            "author_pseudonym": author.pseudonym,
            "author_role": author.role if author.is_staff else None,
            "status": status,
            "pinned": False,
            "locked": False,
            "created_at": now,
            "last_post_at": now,
            "reply_count": 0,
            "first_post_id": post["_id"],
        }
        await self.repo.insert_thread(thread)
        await self.repo.insert_post(post)
        await self.repo.follow(str(author.account_id), thread_id, flavour.slug, now)
        return await self._after_insert(author, flavour, thread, post, verdict, source, category.premoderated)

    async def reply(
        self, actor: Actor | None, flavour: Flavour, thread: Document, body: str, ip_subject: str
    ) -> Posted:
        author = self.check_can_post(actor, flavour)
        if thread.get("locked") and not author.staff_in(flavour.slug):
            raise ForumError("locked", 403, "Dit onderwerp is gesloten: er kan niet meer op gereageerd worden.")
        if thread.get("status") != "visible":
            raise ForumError("waiting", 409, "Je kunt reageren zodra het onderwerp is goedgekeurd.")
        body = self._check_body(body)
        await self._muted(author, flavour)
        category = flavour.category(str(thread["category"]))
        premoderated = bool(category and category.premoderated)
        verdict, source = await self._screen(author, flavour, body)
        if source is None and premoderated and not author.is_staff:
            source = "premoderation"
        await self._limit_only(author, ip_subject)
        post = self._post_doc(author, flavour, str(thread["_id"]), str(thread["category"]), body, "")
        post["status"] = "held" if source else "visible"
        await self.repo.insert_post(post)
        await self.repo.follow(str(author.account_id), str(thread["_id"]), flavour.slug, self.clock())
        return await self._after_insert(author, flavour, thread, post, verdict, source, premoderated)

    async def _limit_only(self, actor: Actor, ip_subject: str) -> None:
        try:
            await self.identity.limit_action("post", actor, ip_subject)
        except IdentityError as exc:
            raise ForumError("rate_limited", 429, exc.detail) from exc

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
        if source is None:
            await self._published(flavour, thread, post)
            return Posted(thread_id, post_id, "visible")
        crisis = bool(verdict is not None and verdict.crisis.flagged)
        await self._submit_hold(author, flavour, thread, post, verdict, source)
        if crisis:
            from chatserver.services.moderation import crisis_notice

            notice = crisis_notice(flavour)
        elif source == "premoderation" and premoderated:
            notice = PREMODERATED_NOTICE
        else:
            notice = (verdict.reason if verdict is not None else None) or HOLD_NOTICE
        return Posted(thread_id, post_id, "held", notice=notice, crisis=crisis)

    def post_url(self, flavour: Flavour, post: Document) -> str:
        return f"/f/{flavour.slug}/forum/t/{post['thread_id']}/p/{post['_id']}/ga"

    async def _submit_hold(
        self,
        author: Actor,
        flavour: Flavour,
        thread: Document,
        post: Document,
        verdict: Verdict | None,
        source: ItemSource,
    ) -> None:
        moderation = self.moderation
        from chatserver.services.moderation import ItemRef

        text = str(post["body"])
        if post.get("first"):
            text = f"{thread['title']}\n\n{text}"
        ref = ItemRef(
            kind="forum_post",
            id=str(post["_id"]),
            channel=thread_channel(flavour.slug, str(thread["_id"])),
            url=self.post_url(flavour, post),
        )
        item_id = await moderation.submit(
            flavour=flavour.slug,
            source=source,
            ref=ref,
            text=text,
            author=author,
            verdict=verdict,
            held_payload={"post_id": str(post["_id"]), "thread_id": str(thread["_id"])},
        )
        await self.repo.set_post(str(post["_id"]), {"moderation_item": item_id})

    async def _published(self, flavour: Flavour, thread: Document, post: Document) -> None:
        """A post became visible: thread counters, the live event, followers' notifications."""
        now = self.clock()
        thread_id = str(thread["_id"])
        if post.get("first"):
            await self.repo.update_thread(thread_id, {"$set": {"status": "visible", "last_post_at": now}})
            return
        await self.repo.update_thread(thread_id, {"$set": {"last_post_at": now}, "$inc": {"reply_count": 1}})
        channel = thread_channel(flavour.slug, thread_id)
        chat = self.chat
        if chat is not None:
            data = {
                "post_id": str(post["_id"]),
                "thread_id": thread_id,
                "author": post.get("author_pseudonym", ""),
                "role": post.get("author_role"),
                "fragment": f"/f/{flavour.slug}/forum/t/{thread_id}/p/{post['_id']}",
            }
            try:
                await chat.do_emit(channel, "post", data)
            except Exception as exc:  # the post is stored; readers see it on the next page load
                log.warning("forum live event failed (%s)", type(exc).__name__)
        await self._notify_followers(flavour, thread, post)

    async def _notify_followers(self, flavour: Flavour, thread: Document, post: Document) -> None:
        followers = [a for a in await self.repo.followers(str(thread["_id"])) if a != post.get("author_id")]
        if not followers:
            return
        now = self.clock()
        text = f"Nieuwe reactie van {post.get('author_pseudonym', '')} in “{thread['title']}”"
        url = self.post_url(flavour, post)
        docs = [
            {"_id": new_id(), "account_id": account_id, "flavour": flavour.slug, "text": text, "url": url,
             "created_at": now, "read": False}
            for account_id in followers
        ]  # fmt: skip
        await self.repo.insert_notifications(docs)
        chat = self.chat
        for account_id in followers:
            key = self._unread_key(account_id)
            if await self.redis.exists(key):
                await self.redis.incr(key)
            if chat is not None:
                try:
                    await chat.do_emit(user_channel(account_id), "notification", {"text": text, "url": url})
                except Exception as exc:
                    log.warning("notification event failed (%s)", type(exc).__name__)

    async def notify_account(self, account_id: str, text: str, url: str) -> None:
        """A notification that is not about a thread (e.g. "someone is trying to log in as you") in the same
        list, counter and live event as follow notifications."""
        doc = {"_id": new_id(), "account_id": str(account_id), "flavour": "", "text": text, "url": url,
               "created_at": self.clock(), "read": False}  # fmt: skip
        await self.repo.insert_notifications([doc])
        key = self._unread_key(str(account_id))
        if await self.redis.exists(key):
            await self.redis.incr(key)
        chat = self.chat
        if chat is not None:
            try:
                await chat.do_emit(user_channel(str(account_id)), "notification", {"text": text, "url": url})
            except Exception as exc:
                log.warning("notification event failed (%s)", type(exc).__name__)

    # moderation decisions ----------------------------------------------------------------------------------

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
            text = await self._redacted_text(view)
            if text:
                await self._replace_body(post, text, editor_id="moderator", editor_pseudonym="moderator")
                if post.get("status") == "held":
                    await self.publish_held(flavour, thread, post)
                else:
                    await self._emit_changed(flavour, thread, post, "post_edited")

    async def _redacted_text(self, view: Any) -> str:
        text = str(getattr(view, "redacted_text", "") or "")
        if text:
            return text
        doc = await self.db["moderation_items"].find_one({"_id": str(view.id)}, {"redacted_text": 1})
        return str((doc or {}).get("redacted_text") or "")

    async def publish_held(self, flavour: Flavour, thread: Document, post: Document) -> bool:
        updated = await self.repo.set_post(str(post["_id"]), {"status": "visible"}, expect_status="held")
        if updated is None:
            return False
        fresh = await self.repo.thread(str(thread["_id"])) or thread
        await self._published(flavour, fresh, updated)
        return True

    async def _hide(self, flavour: Flavour, thread: Document, post: Document) -> None:
        was_visible = post.get("status") == "visible"
        await self.repo.set_post(str(post["_id"]), {"status": "hidden"})
        if post.get("first"):
            await self.repo.update_thread(str(thread["_id"]), {"$set": {"status": "hidden"}})
        elif was_visible:
            await self.repo.update_thread(str(thread["_id"]), {"$inc": {"reply_count": -1}})
        if was_visible:
            await self._emit_changed(flavour, thread, post, "post_removed")

    async def _emit_changed(self, flavour: Flavour, thread: Document, post: Document, kind: str) -> None:
        chat = self.chat
        try:
            fragment = f"/f/{flavour.slug}/forum/t/{thread['_id']}/p/{post['_id']}"
            data = {"post_id": str(post["_id"]), "fragment": fragment}
            await chat.do_emit(thread_channel(flavour.slug, str(thread["_id"])), kind, data)
        except Exception as exc:
            log.warning("forum live event failed (%s)", type(exc).__name__)

    async def report_resolver(self, ref: Any) -> Any:
        """The ``forum_post`` report resolver: the post a report points at, looked up by id."""
        return await self.resolve_report(str(ref.id))

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
        return ReportedObject(
            flavour=str(post["flavour"]), text=str(post["body"]), author=author, url=self.post_url_of(post)
        )

    def post_url_of(self, post: Document) -> str:
        return f"/f/{post['flavour']}/forum/t/{post['thread_id']}/p/{post['_id']}/ga"

    # edits ------------------------------------------------------------------------------------------------

    def can_edit(self, actor: Actor | None, flavour: Flavour, thread: Document, post: Document) -> bool:
        if actor is None or actor.is_guest or post.get("status") == "hidden":
            return False
        if actor.staff_in(flavour.slug):
            return True
        return post.get("author_id") == actor.account_id and not thread.get("locked")

    async def edit(
        self, actor: Actor | None, flavour: Flavour, thread: Document, post: Document, body: str, title: str | None
    ) -> Posted:
        if actor is None or not self.can_edit(actor, flavour, thread, post):
            raise ForumError("forbidden", 403, "Je kunt dit bericht niet bewerken.")
        body = self._check_body(body)
        new_title = None
        if post.get("first") and title is not None:
            new_title = " ".join(clean_text(title, MAX_TITLE_CHARS + 1).split())
            if not MIN_TITLE_CHARS <= len(new_title) <= MAX_TITLE_CHARS:
                raise ForumError(
                    "title", 422, f"Een titel heeft {MIN_TITLE_CHARS} tot {MAX_TITLE_CHARS} tekens.", "title"
                )
        if body == post.get("body") and (new_title is None or new_title == thread.get("title")):
            return Posted(str(thread["_id"]), str(post["_id"]), post["status"])
        await self._muted(actor, flavour)
        screened = f"{new_title}\n\n{body}" if new_title else body
        verdict, source = await self._screen(actor, flavour, screened)
        if source == "premoderation":
            source = None  # an edit of an approved post is not pre-moderated again; rule and crisis holds are
        await self._replace_body(post, body, str(actor.account_id), actor.pseudonym, new_title, thread)
        fresh = await self.repo.post(str(post["_id"])) or post
        if source is not None:
            if fresh.get("status") == "visible":
                await self.repo.set_post(str(post["_id"]), {"status": "held"})
                if fresh.get("first"):
                    await self.repo.update_thread(str(thread["_id"]), {"$set": {"status": "held"}})
                else:
                    await self.repo.update_thread(str(thread["_id"]), {"$inc": {"reply_count": -1}})
                await self._emit_changed(flavour, thread, fresh, "post_removed")
            await self._submit_hold(actor, flavour, thread, fresh, verdict, source)
            crisis = bool(verdict is not None and verdict.crisis.flagged)
            if crisis:
                from chatserver.services.moderation import crisis_notice

                return Posted(str(thread["_id"]), str(post["_id"]), "held", crisis_notice(flavour), True)
            reason = verdict.reason if verdict is not None else None
            return Posted(str(thread["_id"]), str(post["_id"]), "held", reason or HOLD_NOTICE)
        if fresh.get("status") == "visible":
            await self._emit_changed(flavour, thread, fresh, "post_edited")
        return Posted(str(thread["_id"]), str(post["_id"]), fresh["status"])

    async def _replace_body(
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
        version = int(post.get("version", 1))
        old_title = thread.get("title") if (thread is not None and post.get("first")) else None
        await self.repo.insert_revision(
            {
                "_id": new_id(),
                "post_id": str(post["_id"]),
                "thread_id": str(post["thread_id"]),
                "flavour": str(post["flavour"]),
                "author_id": str(post["author_id"]),
                "author_pseudonym": str(post.get("author_pseudonym", "")),
                "version": version,
                "body": str(post.get("body", "")),
                "title": old_title,
                "written_at": post.get("edited_at") or post.get("created_at"),
                "replaced_at": now,
                "replaced_by": editor_pseudonym if editor_id != post.get("author_id") else "",
            }
        )
        title = new_title if new_title is not None else (str(thread["title"]) if thread and post.get("first") else "")
        await self.repo.set_post(
            str(post["_id"]),
            {"body": body, "edited_at": now, "version": version + 1, "search_terms": search_terms(f"{title}\n{body}")},
        )
        if new_title is not None and thread is not None:
            await self.repo.update_thread(str(thread["_id"]), {"$set": {"title": new_title}})

    # staff: pin and lock -------------------------------------------------------------------------------

    async def toggle(
        self, actor: Actor | None, flavour: Flavour, thread: Document, field: Literal["pinned", "locked"]
    ) -> bool:
        if not is_forum_staff(actor, flavour.slug):
            raise NOT_FOUND
        value = not bool(thread.get(field))
        await self.repo.update_thread(str(thread["_id"]), {"$set": {field: value}})
        return value

    # reports -------------------------------------------------------------------------------------------

    async def report(self, actor: Actor | None, flavour: Flavour, post: Document, reason: str) -> None:
        if actor is None:
            raise ForumError("login", 403, "Log in om een bericht te melden.")
        if post.get("status") != "visible":
            raise NOT_FOUND
        if post.get("author_id") == actor.account_id:
            raise ForumError("own", 422, "Je kunt je eigen bericht niet melden.")
        reason = clean_text(reason, MAX_REASON_CHARS)
        if len(reason) < 3:
            raise ForumError("reason", 422, "Vertel kort wat er mis is met dit bericht.", "reason")
        moderation = self.moderation
        if moderation is None:
            raise ForumError("unavailable", 503, "Melden lukt nu even niet. Probeer het later opnieuw.")
        from chatserver.services.moderation import ModerationError

        try:
            await moderation.report(
                actor, "forum_post", str(post["_id"]), thread_channel(flavour.slug, str(post["thread_id"])), reason
            )
        except ModerationError as exc:
            raise ForumError("report", exc.status, exc.detail) from exc

    # follows and notifications -------------------------------------------------------------------------

    async def set_following(self, actor: Actor | None, flavour: Flavour, thread: Document, follow: bool) -> None:
        if actor is None or actor.is_guest:
            raise ForumError("login", 403, "Log in om een onderwerp te volgen.")
        if follow:
            await self.repo.follow(str(actor.account_id), str(thread["_id"]), flavour.slug, self.clock())
        else:
            await self.repo.unfollow(str(actor.account_id), str(thread["_id"]))

    async def is_following(self, actor: Actor | None, thread: Document) -> bool:
        if actor is None or actor.is_guest:
            return False
        return await self.repo.is_following(str(actor.account_id), str(thread["_id"]))

    async def notifications(self, actor: Actor) -> list[Document]:
        return await self.repo.notifications_of(str(actor.account_id), NOTIFICATION_LIMIT)

    async def unread_count(self, account_id: str) -> int:
        """A Redis counter per account, rebuilt from MongoDB when it is missing."""
        key = self._unread_key(account_id)
        cached = await self.redis.get(key)
        if cached is not None:
            return max(0, int(cached))
        count = await self.repo.unread_count(account_id)
        await self.redis.set(key, count, ex=UNREAD_TTL_S)
        return count

    async def mark_read(self, actor: Actor, notification_id: str | None = None) -> None:
        await self.repo.mark_read(str(actor.account_id), notification_id)
        await self.redis.delete(self._unread_key(str(actor.account_id)))

    # search ----------------------------------------------------------------------------------------------

    async def search(self, flavour: Flavour, query: str) -> list[dict[str, Any]]:
        """Visible posts in visible threads matching the query's words; ranked by matches, then recency."""
        terms = search_terms(clean_text(query, 200))[:MAX_QUERY_TERMS]
        if not terms:
            return []
        candidates = await self.repo.search_candidates(flavour.slug, terms)
        threads = await self.repo.threads_by_ids(list({str(doc["thread_id"]) for doc in candidates}))
        wanted = set(terms)
        scored: list[tuple[int, datetime, Document, Document]] = []
        for doc in candidates:
            thread = threads.get(str(doc["thread_id"]))
            if thread is None or thread.get("status") != "visible" or flavour.category(str(thread["category"])) is None:
                continue
            matches = len(wanted.intersection(doc.get("search_terms") or ()))
            scored.append((matches, doc["created_at"], doc, thread))
        scored.sort(key=lambda row: (row[0], row[1]), reverse=True)
        return [
            {"post": doc, "thread": thread, "matches": matches, "all": matches == len(wanted)}
            for matches, _, doc, thread in scored[:SEARCH_RESULTS]
        ]

    # demo content ----------------------------------------------------------------------------------------

    async def seed_demo(self) -> int:
        """A few realistic threads with replies per flavour; does nothing for a flavour that has threads."""
        from chatserver.services.forum_demo import DEMO_THREADS

        created = 0
        for flavour in self.catalog:
            if await self.repo.has_threads(flavour.slug):
                continue
            base = self.clock() - timedelta(days=6)
            for index, (title, opening, replies) in enumerate(DEMO_THREADS):
                category = flavour.forum_categories[index % len(flavour.forum_categories)]
                thread_id = new_id()
                start = base + timedelta(days=index * 2)
                posts = [(f"demo-{flavour.slug}-{index}-0", opening[0], opening[1], start)]
                for offset, (name, text) in enumerate(replies, start=1):
                    posts.append(
                        (f"demo-{flavour.slug}-{index}-{offset}", name, text, start + timedelta(hours=offset * 3))
                    )
                first_id = ""
                for position, (post_id, name, text, at) in enumerate(posts):
                    post_id = new_id()
                    first_id = first_id or post_id
                    await self.repo.insert_post(
                        {
                            "_id": post_id, "thread_id": thread_id, "flavour": flavour.slug,
                            "category": category.slug, "author_id": f"demo-{name.lower()}",
                            "author_pseudonym": name, "author_role": None, "body": text, "status": "visible",
                            "created_at": at, "edited_at": None, "version": 1,
                            "search_terms": search_terms(f"{title if position == 0 else ''}\n{text}"),
                            "moderation_item": None, "first": position == 0,
                        }
                    )  # fmt: skip
                await self.repo.insert_thread(
                    {
                        "_id": thread_id, "flavour": flavour.slug, "category": category.slug, "title": title,
                        "author_id": f"demo-{opening[0].lower()}", "author_pseudonym": opening[0],
                        "author_role": None, "status": "visible", "pinned": index == 0, "locked": False,
                        "created_at": start, "last_post_at": posts[-1][3], "reply_count": len(replies),
                        "first_post_id": first_id,
                    }
                )  # fmt: skip
                created += 1
        return created
