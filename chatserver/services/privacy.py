"""Export and erasure of an account's data, over one explicit list of places.

Where the data lives is :class:`chatserver.domain.privacy.PersonalDataMap`: every collection that stores an
account id (or shows a pseudonym beside it) with what erasure does there, plus the few collections and Redis keys
treated by name. The list names storage, so it lives beside the adapters (``chatserver.adapters.privacy_places``)
and the composition root hands it in together with a :class:`chatserver.ports.PersonalDataStore` that reads and
writes those places; this service imports no adapter. Export reads the same list that erasure walks, so the two
cannot drift apart. ``tests/security/test_erasure.py`` runs a session through every feature and fails when a
collection holds an account's data without being on the list. docs/decisions/0018 explains the choices
(tombstone events, safeguarding holds, the pseudonym reservation).
"""

from __future__ import annotations

import asyncio
import logging
import re
from collections.abc import Awaitable, Callable
from datetime import datetime
from typing import TYPE_CHECKING, Any

from chatserver.clock import Clock
from chatserver.domain.accounts import DELETED_PSEUDONYM
from chatserver.domain.channels import user_channel
from chatserver.domain.privacy import (
    DELETED_AUTHOR,
    DELETED_ID,
    EXPORT_LIMIT,
    HELD_REASON,
    LIVE_CHUNK,
    ErasureResult,
    LiveChange,
    PersonalDataMap,
    Place,
    QuoteRewrite,
    dotted,
    jsonable,
    name_pattern,
    own_reports,
    renamed,
    tombstone,
)
from chatserver.ports import Document, PersonalDataStore

if TYPE_CHECKING:
    from chatserver.services.chat import ChatService

__all__ = ["ErasureResult", "PersonalDataService", "jsonable"]

log = logging.getLogger("chatserver.privacy")

Changes = Callable[[Document], dict[str, Any]]
# A feature that keeps something derived from an account's documents (a count on another document) looks before the
# erasure: ``hook(account_id)`` reads what it will need and returns what to run once every place has been walked.
EraseHook = Callable[[str], Awaitable[Callable[[], Awaitable[None]]]]


class PersonalDataService:
    """Export and erasure over the places of ``where``; the live channel events go through the chat service."""

    def __init__(
        self,
        store: PersonalDataStore,
        where: PersonalDataMap,
        clock: Clock,
        chat: ChatService | None = None,
    ) -> None:
        self.store = store
        self.where = where
        self.clock = clock
        self.chat = chat
        self.erase_hooks: list[EraseHook] = []  # the wiring adds the features' (the market's report counts)

    # export -------------------------------------------------------------------------------------------------------

    async def export(self, account_id: str) -> dict[str, list[Any]]:
        """Every listed document of the account (the account document itself is exported by identity)."""
        out: dict[str, list[Any]] = {}
        for place in self.where.places:
            if place.treatment == "account":
                continue
            projection = dict.fromkeys(place.export, 1) if place.export else None
            docs = await self.store.find(place.collection, {place.field: account_id}, projection, EXPORT_LIMIT)
            if place.treatment == "reports":
                docs = [own_reports(doc, account_id) for doc in docs]
            if docs:
                out.setdefault(place.collection, []).extend(jsonable(d) for d in docs)
        return out

    # erasure ------------------------------------------------------------------------------------------------------

    async def erase(self, account_id: str, pseudonym: str, keep_posts: bool) -> ErasureResult:
        """Walk the places; then tell the live channels (delete/edit events) what changed."""
        result = ErasureResult()
        afters = [await hook(account_id) for hook in self.erase_hooks]
        held = await self._held_channels(account_id)
        result.held_chats = sorted(held.values())
        quoted: dict[str, list[str]] = {}
        for place in self.where.places:
            quoted[place.collection] = await self._erase_place(place, account_id, keep_posts, held, result)
        live = await self._erase_events(account_id, keep_posts, set(held), result)
        live += await self._erase_quotes(pseudonym, quoted, keep_posts, result)
        await self._forget_user_channel(account_id, result)
        await self._erase_keys(account_id, result)
        await self._record_held(account_id, held)
        result.live_events = await self._emit(live)
        for after in afters:
            try:
                await after()
            except Exception:  # erased: a count brought up to date later is no reason to fail the erasure
                log.exception("a feature's follow-up after an erasure failed")
        return result

    async def _erase_place(
        self, place: Place, account_id: str, keep: bool, held: dict[str, str], result: ErasureResult
    ) -> list[str]:
        """Erase the account's documents of one place; the ids of authored documents (quoted elsewhere)."""
        query = {place.field: account_id}
        if place.treatment == "authored":
            return await self._erase_authored(place, account_id, keep, result)
        if place.treatment == "private":
            result.count(result.removed, place.collection, await self.store.delete_many(place.collection, query))
        elif place.treatment == "chats":
            await self._erase_chats(place, account_id, set(held.values()), result)
        elif place.treatment == "moderation":
            changes = {"text": "", "held_payload": None, place.field: DELETED_ID, "author": DELETED_AUTHOR}
            n = await self.store.update_many(place.collection, query, {"$set": changes})
            result.count(result.removed, place.collection, n)
        elif place.treatment == "reports":
            await self._erase_reports(place, account_id, result)
        # "account" (the tombstone, IdentityService), "retained" (kept on purpose), "events" (below): nothing here
        return []

    async def _erase_reports(self, place: Place, account_id: str, result: ErasureResult) -> None:
        """The account's reports leave the items; an item opened by its report loses that report's words too."""
        for doc in await self.store.find(place.collection, {place.field: account_id}, {"reports": 1, "reason": 1}):
            own = {str(r.get("reason", "")) for r in doc.get("reports") or () if r.get("reporter_id") == account_id}
            update: dict[str, Any] = {"$pull": {"reports": {"reporter_id": account_id}, place.field: account_id}}
            if doc.get("reason") in own:
                update["$set"] = {"reason": ""}
            await self.store.update_one(place.collection, {"_id": doc["_id"]}, update)
            result.count(result.removed, place.collection, 1)

    async def _held_channels(self, account_id: str) -> dict[str, str]:
        """channel → chat id of the account's 1-on-1 chats under a safeguarding hold."""
        query = {"hold": {"$ne": None}, "$or": [{"visitor_id": account_id}, {"staff_ids": account_id}]}
        return {
            str(doc["channel"]): str(doc["_id"])
            for doc in await self.store.find(self.where.chats, query, {"channel": 1})
        }

    async def _erase_authored(self, place: Place, account_id: str, keep: bool, result: ErasureResult) -> list[str]:
        query = {place.field: account_id}
        ids = [str(doc["_id"]) for doc in await self.store.find(place.collection, query, {"_id": 1})]
        if not ids:
            return ids
        if keep:
            changes: dict[str, Any] = {place.field: DELETED_ID} | dict.fromkeys(place.names, DELETED_PSEUDONYM)
            n = await self.store.update_many(place.collection, query, {"$set": changes})
            result.count(result.pseudonymised, place.collection, n)
        else:
            result.count(result.removed, place.collection, await self.store.delete_many(place.collection, query))
        return ids

    async def _erase_chats(self, place: Place, account_id: str, held: set[str], result: ErasureResult) -> None:
        """Transcripts not on hold lose the visitor's id, name and own words now (retention purges the rest)."""
        changes = {place.field: DELETED_ID, "visitor_pseudonym": DELETED_PSEUDONYM, "topic": "", "feedback.comment": ""}
        query = {place.field: account_id, "_id": {"$nin": sorted(held)}}
        result.count(
            result.removed, place.collection, await self.store.update_many(place.collection, query, {"$set": changes})
        )

    async def _erase_events(
        self, account_id: str, keep: bool, held: set[str], result: ErasureResult
    ) -> list[LiveChange]:
        """The account's events become tombstones in place: offsets stay, so recovery never meets a hole."""
        events = self.where.events
        ops: list[tuple[Document, Document]] = []
        live: list[LiveChange] = []
        projection = {"channel": 1, "offset": 1, "kind": 1, "data": 1}
        for doc in await self.store.find(events, {"sender": account_id}, projection):
            if str(doc["channel"]) in held:
                continue
            changes, change = tombstone(doc, keep)
            ops.append(({"_id": doc["_id"]}, {"$set": changes}))
            if change is not None:
                live.append(change)
        await self.store.update_each(events, ops)
        result.count(result.pseudonymised if keep else result.removed, events, len(ops))
        return live

    async def _erase_quotes(
        self, pseudonym: str, quoted: dict[str, list[str]], keep: bool, result: ErasureResult
    ) -> list[LiveChange]:
        """Server events and others' notifications that quote the account: its name and removed words go."""
        live: list[LiveChange] = []
        for query, change in self._quoting_events(pseudonym, quoted, keep):
            live += await self._rewrite_events(query, change, result)
        if pseudonym:
            await self._rename_in_notifications(pseudonym, result)
            await self._rename_in_quotes(QuoteRewrite(pseudonym, keep), result)
        return live

    def _quoting_events(
        self, pseudonym: str, quoted: dict[str, list[str]], keep: bool
    ) -> list[tuple[Document, Changes]]:
        """(query, changes) for the server events that show the account: spreekuur questions, forum posts,
        notifications that name it."""
        queries: list[tuple[Document, Changes]] = []
        question_ids = quoted.get(self.where.spreekuur_questions, [])
        post_ids = quoted.get(self.where.posts, [])
        if question_ids:

            def question(doc: Document) -> dict[str, Any]:
                return {"data.question.asker": None} | ({} if keep else {"data.question.text": ""})

            queries.append(({"data.question.id": {"$in": question_ids}}, question))
        if post_ids:
            queries.append(({"data.post_id": {"$in": post_ids}, "data.author": {"$exists": True}},
                            lambda doc: {"data.author": DELETED_PSEUDONYM}))  # fmt: skip
        if pseudonym:
            name = name_pattern(pseudonym)

            def notification(doc: Document) -> dict[str, Any]:
                text = str((doc.get("data") or {}).get("text", ""))
                return {"data.text": name.sub(DELETED_PSEUDONYM, text)}

            queries.append(({"kind": "notification", "data.text": {"$regex": re.escape(pseudonym)}}, notification))
        return queries

    async def _rewrite_events(self, query: Document, change: Changes, result: ErasureResult) -> list[LiveChange]:
        events = self.where.events
        ops: list[tuple[Document, Document]] = []
        live: list[LiveChange] = []
        for doc in await self.store.find(events, query, {"channel": 1, "offset": 1, "data": 1}):
            changes = change(doc)
            if all(dotted(doc, key) == value for key, value in changes.items()):
                continue  # the regex matched a longer name
            ops.append(({"_id": doc["_id"]}, {"$set": changes}))
            live.append(renamed(doc))
        if ops:
            await self.store.update_each(events, ops)
            result.count(result.pseudonymised, events, len(ops))
        return live

    async def _rename_in_notifications(self, pseudonym: str, result: ErasureResult) -> None:
        """Others' notifications that name the account ("Nieuwe reactie van …")."""
        notifications = self.where.notifications
        name = name_pattern(pseudonym)
        ops: list[tuple[Document, Document]] = []
        for doc in await self.store.find(notifications, {"text": {"$regex": re.escape(pseudonym)}}, {"text": 1}):
            text = str(doc.get("text", ""))
            new_text = name.sub(DELETED_PSEUDONYM, text)
            if new_text != text:
                ops.append(({"_id": doc["_id"]}, {"$set": {"text": new_text}}))
        if ops:
            await self.store.update_each(notifications, ops)
            result.count(result.pseudonymised, notifications, len(ops))

    async def _rename_in_quotes(self, rewrite: QuoteRewrite, result: ErasureResult) -> None:
        """Others' forum posts that quote the account ("> **Naam** schreef:" and the quoted lines, also in their
        revisions and moderation copies) show "verwijderd account"; with the posts removed, the quoted words go too."""
        from chatserver.services.forum import search_terms  # forum imports identity, which imports this module

        name_terms = set(search_terms(rewrite.pseudonym))
        where = self.where
        for collection, text_field in ((where.posts, "body"), (where.forum_revisions, "body"),
                                       (where.moderation_items, "text")):  # fmt: skip
            ops: list[tuple[Document, Document]] = []
            query = {text_field: {"$regex": re.escape(rewrite.header)}}
            for doc in await self.store.find(collection, query, {text_field: 1, "search_terms": 1}):
                text = str(doc.get(text_field, ""))
                new_text = rewrite.apply(text)
                changes: Document = {text_field: new_text}
                if "search_terms" in doc:  # the name and the removed words leave the search index too
                    gone = name_terms | (set(search_terms(text)) - set(search_terms(new_text)))
                    changes["search_terms"] = [t for t in doc.get("search_terms") or () if t not in gone]
                ops.append(({"_id": doc["_id"]}, {"$set": changes}))
            await self.store.update_each(collection, ops)
            result.count(result.pseudonymised, collection, len(ops))

    async def _forget_user_channel(self, account_id: str, result: ErasureResult) -> None:
        """The account's own notification channel: nobody can subscribe to it any more."""
        channel = user_channel(account_id)
        result.count(
            result.removed, self.where.events, await self.store.delete_many(self.where.events, {"channel": channel})
        )
        await self.store.delete_many(self.where.channel_positions, {"_id": channel})

    async def _erase_keys(self, account_id: str, result: ErasureResult) -> None:
        for pattern in self.where.redis_keys:
            result.count(result.removed, "redis", await self.store.delete_keys(pattern.format(id=account_id)))
        for pattern in self.where.redis_members:
            await self.store.leave_members(pattern, account_id)

    async def _record_held(self, account_id: str, held: dict[str, str]) -> None:
        now = self.clock()
        for chat_id in held.values():
            # The retention purge, once the hold is lifted, then drops the visitor's id and name as well.
            await self.store.update_one(
                self.where.chats, {"_id": chat_id, "visitor_id": account_id}, {"$set": {"erased_visitor": True}}
            )
            await self.store.insert(
                self.where.chat_audit,
                {
                    "_id": f"erasure-{chat_id}-{int(now.timestamp())}",
                    "chat_id": chat_id,
                    "at": now,
                    "actor": "system",
                    "pseudonym": "",
                    "role": None,
                    "action": "erasure_held",
                    "reason": HELD_REASON,
                },
            )

    async def _emit(self, changes: list[LiveChange]) -> int:
        """One delete/edit event per changed event, so open pages drop or rename it and replay buffers forget it."""
        chat = self.chat
        if chat is None or not changes:
            return 0
        sent = 0
        for start in range(0, len(changes), LIVE_CHUNK):
            chunk = changes[start : start + LIVE_CHUNK]
            outcomes = await asyncio.gather(
                *(chat.emit(channel, event) for channel, event in chunk), return_exceptions=True
            )
            failed = [o for o in outcomes if isinstance(o, BaseException)]
            if failed:
                # Stored already: the tombstones are what history and recovery serve; only the live nudge failed.
                log.warning("erasure: %d live events not sent (%s)", len(failed), type(failed[0]).__name__)
            sent += len(chunk) - len(failed)
        return sent

    # pseudonym reservation ------------------------------------------------------------------------------------------

    async def reserve(self, key_hash: str, until: datetime) -> None:
        await self.store.update_one(
            self.where.reserved_pseudonyms, {"_id": key_hash}, {"$set": {"until": until}}, upsert=True
        )

    async def is_reserved(self, key_hash: str, now: datetime) -> bool:
        query = {"_id": key_hash, "until": {"$gt": now}}
        return await self.store.find_one(self.where.reserved_pseudonyms, query, {"_id": 1}) is not None

    async def purge_reservations(self, now: datetime) -> int:
        return await self.store.delete_many(self.where.reserved_pseudonyms, {"until": {"$lte": now}})
