"""Where an account's data lives — one explicit list — and the use cases that walk it: export and erasure.

``PLACES`` names every collection that stores an account id (or shows a
pseudonym beside it) and what erasure does there; export reads the same list.
Nothing registers itself: a feature that stores account data adds its line
here. ``tests/security/test_erasure.py`` runs a session through every feature
and fails when a collection holds an account's data without being listed here
or exempted in ``NOT_PERSONAL`` with a reason. docs/decisions/0018 explains the
choices (tombstone events, safeguarding holds, the pseudonym reservation).
"""

from __future__ import annotations

import asyncio
import logging
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any, Literal

from chatserver.adapters.bulk import update_each
from chatserver.adapters.event_store import EVENTS
from chatserver.adapters.forum_repo import NOTIFICATIONS, POSTS
from chatserver.adapters.forum_repo import REVISIONS as FORUM_REVISIONS
from chatserver.adapters.moderation_store import ITEMS as MODERATION_ITEMS
from chatserver.adapters.mongo_client import Database, Document
from chatserver.adapters.oneonone_repo import AUDIT as CHAT_AUDIT
from chatserver.adapters.oneonone_repo import CHATS
from chatserver.adapters.redis_client import Redis
from chatserver.adapters.spreekuur_repo import QUESTIONS as SPREEKUUR_QUESTIONS
from chatserver.domain.accounts import DELETED_PSEUDONYM
from chatserver.domain.channels import user_channel
from chatserver.services.privacy_places import (
    CHANNEL_POSITIONS,
    DELETED_AUTHOR,
    DELETED_ID,
    EXPORT_LIMIT,
    LIVE_CHUNK,
    PLACES,
    REDIS_MEMBER_PLACES,
    REDIS_PLACES,
    RESERVED_PSEUDONYMS,
    Place,
)

if TYPE_CHECKING:
    from chatserver.services.chat import ChatService

log = logging.getLogger("chatserver.privacy")

Clock = Callable[[], datetime]


@dataclass
class ErasureResult:
    """What erasure did: documents removed or pseudonymised per collection, and what it kept and why."""

    removed: dict[str, int] = field(default_factory=dict)
    pseudonymised: dict[str, int] = field(default_factory=dict)
    held_chats: list[str] = field(default_factory=list)
    live_events: int = 0

    def count(self, bucket: dict[str, int], collection: str, n: int) -> None:
        if n:
            bucket[collection] = bucket.get(collection, 0) + n


@dataclass(frozen=True, slots=True)
class _LiveChange:
    channel: str
    kind: Literal["delete", "edit"]
    data: dict[str, Any]


class PersonalDataService:
    """Export and erasure over ``PLACES``; the live channel events go through the chat service when it runs."""

    def __init__(
        self,
        db: Database,
        clock: Clock | None = None,
        chat: Callable[[], ChatService | None] | None = None,
        redis: Redis | None = None,
        redis_prefix: str = "",
    ) -> None:
        self.db = db
        self.redis = redis
        self.redis_prefix = redis_prefix
        self.clock: Clock = clock or (lambda: datetime.now(UTC))
        self.chat = chat or (lambda: None)

    # export -------------------------------------------------------------------------------------------------------

    async def export(self, account_id: str) -> dict[str, list[Any]]:
        """Every listed document of the account (the account document itself is exported by identity)."""
        out: dict[str, list[Any]] = {}
        for place in PLACES:
            if place.treatment == "account":
                continue
            projection = dict.fromkeys(place.export, 1) if place.export else None
            cursor = self.db[place.collection].find({place.field: account_id}, projection).limit(EXPORT_LIMIT)
            docs = [doc async for doc in cursor]
            if place.treatment == "reports":
                docs = [_own_reports(doc, account_id) for doc in docs]
            if docs:
                out.setdefault(place.collection, []).extend(jsonable(d) for d in docs)
        return out

    # erasure ------------------------------------------------------------------------------------------------------

    async def erase(self, account_id: str, pseudonym: str, keep_posts: bool) -> ErasureResult:
        """Walk ``PLACES``; then tell the live channels (delete/edit events) what changed."""
        result = ErasureResult()
        live: list[_LiveChange] = []
        held = await self._held_channels(account_id)
        result.held_chats = sorted(held.values())
        quoted: dict[str, list[str]] = {}
        for place in PLACES:
            quoted[place.collection] = await self._erase_place(place, account_id, keep_posts, held, result)
        live += await self._erase_events(account_id, keep_posts, set(held), result)
        live += await self._erase_quotes(pseudonym, quoted, keep_posts, result)
        await self._forget_user_channel(account_id, result)
        await self._erase_redis(account_id, result)
        await self._record_held(account_id, held)
        result.live_events = await self._emit(live)
        return result

    async def _erase_place(
        self, place: Place, account_id: str, keep: bool, held: dict[str, str], result: ErasureResult
    ) -> list[str]:
        """Erase the account's documents of one place; the ids of authored documents (quoted elsewhere)."""
        coll = self.db[place.collection]
        query = {place.field: account_id}
        if place.treatment == "authored":
            return await self._erase_authored(place, account_id, keep, result)
        if place.treatment == "private":
            result.count(result.removed, place.collection, (await coll.delete_many(query)).deleted_count)
        elif place.treatment == "chats":
            await self._erase_chats(place, account_id, set(held.values()), result)
        elif place.treatment == "moderation":
            changes = {"text": "", "held_payload": None, place.field: DELETED_ID, "author": DELETED_AUTHOR}
            updated = await coll.update_many(query, {"$set": changes})
            result.count(result.removed, place.collection, updated.modified_count)
        elif place.treatment == "reports":
            await self._erase_reports(place, account_id, result)
        # "account" (the tombstone, IdentityService), "retained" (kept on purpose), "events" (below): nothing here
        return []

    async def _erase_reports(self, place: Place, account_id: str, result: ErasureResult) -> None:
        """The account's reports leave the items; an item opened by its report loses that report's words too."""
        coll = self.db[place.collection]
        async for doc in coll.find({place.field: account_id}, {"reports": 1, "reason": 1}):
            own = {str(r.get("reason", "")) for r in doc.get("reports") or () if r.get("reporter_id") == account_id}
            update: dict[str, Any] = {"$pull": {"reports": {"reporter_id": account_id}, place.field: account_id}}
            if doc.get("reason") in own:
                update["$set"] = {"reason": ""}
            await coll.update_one({"_id": doc["_id"]}, update)
            result.count(result.removed, place.collection, 1)

    async def _held_channels(self, account_id: str) -> dict[str, str]:
        """channel → chat id of the account's 1-on-1 chats under a safeguarding hold."""
        query = {"hold": {"$ne": None}, "$or": [{"visitor_id": account_id}, {"staff_ids": account_id}]}
        return {str(doc["channel"]): str(doc["_id"]) async for doc in self.db[CHATS].find(query, {"channel": 1})}

    async def _erase_authored(self, place: Place, account_id: str, keep: bool, result: ErasureResult) -> list[str]:
        coll = self.db[place.collection]
        ids = [str(doc["_id"]) async for doc in coll.find({place.field: account_id}, {"_id": 1})]
        if not ids:
            return ids
        if keep:
            changes: dict[str, Any] = {place.field: DELETED_ID} | dict.fromkeys(place.names, DELETED_PSEUDONYM)
            n = (await coll.update_many({place.field: account_id}, {"$set": changes})).modified_count
            result.count(result.pseudonymised, place.collection, n)
        else:
            n = (await coll.delete_many({place.field: account_id})).deleted_count
            result.count(result.removed, place.collection, n)
        return ids

    async def _erase_chats(self, place: Place, account_id: str, held: set[str], result: ErasureResult) -> None:
        """Transcripts not on hold lose the visitor's id, name and own words now (retention purges the rest)."""
        changes = {place.field: DELETED_ID, "visitor_pseudonym": DELETED_PSEUDONYM, "topic": "", "feedback.comment": ""}
        query = {place.field: account_id, "_id": {"$nin": sorted(held)}}
        n = (await self.db[place.collection].update_many(query, {"$set": changes})).modified_count
        result.count(result.removed, place.collection, n)

    async def _erase_events(
        self, account_id: str, keep: bool, held: set[str], result: ErasureResult
    ) -> list[_LiveChange]:
        """The account's events become tombstones in place: offsets stay, so recovery never meets a hole."""
        coll = self.db[EVENTS]
        ops: list[tuple[Document, Document]] = []
        live: list[_LiveChange] = []
        projection = {"channel": 1, "offset": 1, "kind": 1, "data": 1}
        async for doc in coll.find({"sender": account_id}, projection):
            channel, offset = str(doc["channel"]), int(doc["offset"])
            if channel in held:
                continue
            kind = doc.get("kind", "message")
            data = doc.get("data") or {}
            changes: dict[str, Any] = {
                "sender": DELETED_ID,
                "pseudonym": DELETED_PSEUDONYM,
                "role": None,
                # unique per channel, as the (channel, sender, client_msg_id) index needs
                "client_msg_id": f"erased-{offset}",
            }
            if not keep and "text" in data:
                changes["data.text"] = ""
            if not keep and kind == "message":
                changes["data.deleted"] = True
            ops.append(({"_id": doc["_id"]}, {"$set": changes}))
            if kind != "message" or data.get("deleted"):
                continue
            if keep:
                live.append(_LiveChange(channel, "edit", {"offset": offset, "text": data.get("text", ""),
                                                          "sender": DELETED_PSEUDONYM}))  # fmt: skip
            else:
                live.append(_LiveChange(channel, "delete", {"offset": offset}))
        await update_each(coll, ops)
        result.count(result.pseudonymised if keep else result.removed, EVENTS, len(ops))
        return live

    async def _erase_quotes(
        self, pseudonym: str, quoted: dict[str, list[str]], keep: bool, result: ErasureResult
    ) -> list[_LiveChange]:
        """Server events and others' notifications that quote the account: its name and removed words go."""
        coll = self.db[EVENTS]
        live: list[_LiveChange] = []
        question_ids = quoted.get(SPREEKUUR_QUESTIONS, [])
        post_ids = quoted.get(POSTS, [])
        queries: list[tuple[dict[str, Any], Callable[[Document], dict[str, Any]]]] = []
        if question_ids:

            def question(doc: Document) -> dict[str, Any]:
                changes: dict[str, Any] = {"data.question.asker": None}
                if not keep:
                    changes["data.question.text"] = ""
                return changes

            queries.append(({"data.question.id": {"$in": question_ids}}, question))
        if post_ids:
            queries.append(({"data.post_id": {"$in": post_ids}, "data.author": {"$exists": True}},
                            lambda doc: {"data.author": DELETED_PSEUDONYM}))  # fmt: skip
        if pseudonym:
            # The name as a whole word: "Anna" is renamed, "Annabel" is left alone.
            name = re.compile(rf"(?<!\w){re.escape(pseudonym)}(?!\w)")

            def notification(doc: Document) -> dict[str, Any]:
                text = str((doc.get("data") or {}).get("text", ""))
                return {"data.text": name.sub(DELETED_PSEUDONYM, text)}

            queries.append(({"kind": "notification", "data.text": {"$regex": re.escape(pseudonym)}}, notification))
            await self._rename_in_notifications(pseudonym, name, result)
            await self._rename_in_quotes(pseudonym, keep, result)
        for query, change in queries:
            ops: list[tuple[Document, Document]] = []
            async for doc in coll.find(query, {"channel": 1, "offset": 1, "data": 1}):
                changes = change(doc)
                if all(_get(doc, key) == value for key, value in changes.items()):
                    continue  # the regex matched a longer name
                ops.append(({"_id": doc["_id"]}, {"$set": changes}))
                data = {"offset": int(doc["offset"]), "sender": DELETED_PSEUDONYM}
                live.append(_LiveChange(str(doc["channel"]), "edit", data))
            if ops:
                await update_each(coll, ops)
                result.count(result.pseudonymised, EVENTS, len(ops))
        return live

    async def _rename_in_notifications(self, pseudonym: str, name: re.Pattern[str], result: ErasureResult) -> None:
        """Others' notifications that name the account ("Nieuwe reactie van …")."""
        coll = self.db[NOTIFICATIONS]
        ops: list[tuple[Document, Document]] = []
        async for doc in coll.find({"text": {"$regex": re.escape(pseudonym)}}, {"text": 1}):
            text = str(doc.get("text", ""))
            renamed = name.sub(DELETED_PSEUDONYM, text)
            if renamed != text:
                ops.append(({"_id": doc["_id"]}, {"$set": {"text": renamed}}))
        if ops:
            await update_each(coll, ops)
            result.count(result.pseudonymised, NOTIFICATIONS, len(ops))

    async def _rename_in_quotes(self, pseudonym: str, keep: bool, result: ErasureResult) -> None:
        """Others' forum posts that quote the account ("> **Naam** schreef:" and the quoted lines, also in their
        revisions and moderation copies) show "verwijderd account"; with the posts removed, the quoted words go too."""
        from chatserver.services.forum import search_terms  # forum imports identity, which imports this module

        header = f"> **{pseudonym}** schreef:"
        block = re.compile(rf"^{re.escape(header)}\n(?:>.*(?:\n|$))*", re.MULTILINE)
        renamed = f"> **{DELETED_PSEUDONYM}** schreef:"
        removed = f"{renamed}\n>\n> (verwijderd)\n"
        name_terms = set(search_terms(pseudonym))
        for collection, text_field in ((POSTS, "body"), (FORUM_REVISIONS, "body"), (MODERATION_ITEMS, "text")):
            coll = self.db[collection]
            ops: list[tuple[Document, Document]] = []
            query = {text_field: {"$regex": re.escape(header)}}
            async for doc in coll.find(query, {text_field: 1, "search_terms": 1}):
                text = str(doc.get(text_field, ""))
                new_text = text.replace(header, renamed) if keep else block.sub(removed, text)
                changes: Document = {text_field: new_text}
                if "search_terms" in doc:  # the name and the removed words leave the search index too
                    gone = name_terms | (set(search_terms(text)) - set(search_terms(new_text)))
                    changes["search_terms"] = [t for t in doc.get("search_terms") or () if t not in gone]
                ops.append(({"_id": doc["_id"]}, {"$set": changes}))
            await update_each(coll, ops)
            result.count(result.pseudonymised, collection, len(ops))

    async def _forget_user_channel(self, account_id: str, result: ErasureResult) -> None:
        """The account's own notification channel: nobody can subscribe to it any more."""
        channel = user_channel(account_id)
        n = (await self.db[EVENTS].delete_many({"channel": channel})).deleted_count
        result.count(result.removed, EVENTS, n)
        await self.db[CHANNEL_POSITIONS].delete_many({"_id": channel})

    async def _erase_redis(self, account_id: str, result: ErasureResult) -> None:
        if self.redis is None:
            return
        for pattern in REDIS_PLACES:
            match = self.redis_prefix + pattern.format(id=account_id)
            keys = [key async for key in self.redis.scan_iter(match=match, count=1000)]
            for key in keys:  # one by one: in a cluster the keys live in different slots
                await self.redis.delete(key)
            result.count(result.removed, "redis", len(keys))
        for pattern in REDIS_MEMBER_PLACES:
            async for key in self.redis.scan_iter(match=self.redis_prefix + pattern, count=1000):
                kind = await self.redis.type(key)
                if kind == b"set":
                    await self.redis.srem(key, account_id)
                elif kind == b"zset":
                    await self.redis.zrem(key, account_id)
                elif kind == b"hash":
                    await self.redis.hdel(key, account_id)

    async def _record_held(self, account_id: str, held: dict[str, str]) -> None:
        now = self.clock()
        for chat_id in held.values():
            # The retention purge, once the hold is lifted, then drops the visitor's id and name as well.
            await self.db[CHATS].update_one(
                {"_id": chat_id, "visitor_id": account_id}, {"$set": {"erased_visitor": True}}
            )
            await self.db[CHAT_AUDIT].insert_one(
                {
                    "_id": f"erasure-{chat_id}-{int(now.timestamp())}",
                    "chat_id": chat_id,
                    "at": now,
                    "actor": "system",
                    "pseudonym": "",
                    "role": None,
                    "action": "erasure_held",
                    "reason": "Account gewist; dit gesprek staat onder bewaarplicht en blijft bewaard tot die "
                    "is opgeheven. Daarna geldt de gewone bewaartermijn.",
                }
            )

    async def _emit(self, changes: list[_LiveChange]) -> int:
        """One delete/edit event per changed event, so open pages drop or rename it and replay buffers forget it."""
        chat = self.chat()
        if chat is None or not changes:
            return 0
        sent = 0
        for start in range(0, len(changes), LIVE_CHUNK):
            chunk = changes[start : start + LIVE_CHUNK]
            outcomes = await asyncio.gather(
                *(chat.do_emit(c.channel, c.kind, c.data) for c in chunk), return_exceptions=True
            )
            failed = [o for o in outcomes if isinstance(o, BaseException)]
            if failed:
                # Stored already: the tombstones are what history and recovery serve; only the live nudge failed.
                log.warning("erasure: %d live events not sent (%s)", len(failed), type(failed[0]).__name__)
            sent += len(chunk) - len(failed)
        return sent

    # pseudonym reservation ------------------------------------------------------------------------------------------

    async def reserve(self, key_hash: str, until: datetime) -> None:
        await self.db[RESERVED_PSEUDONYMS].update_one({"_id": key_hash}, {"$set": {"until": until}}, upsert=True)

    async def is_reserved(self, key_hash: str, now: datetime) -> bool:
        doc = await self.db[RESERVED_PSEUDONYMS].find_one({"_id": key_hash, "until": {"$gt": now}}, {"_id": 1})
        return doc is not None

    async def purge_reservations(self, now: datetime) -> int:
        return int((await self.db[RESERVED_PSEUDONYMS].delete_many({"until": {"$lte": now}})).deleted_count)


def _get(doc: Document, dotted: str) -> Any:
    value: Any = doc
    for part in dotted.split("."):
        value = value.get(part) if isinstance(value, dict) else None
    return value


def _own_reports(doc: Document, account_id: str) -> Document:
    reports = [r for r in doc.get("reports") or () if isinstance(r, dict) and r.get("reporter_id") == account_id]
    return {"_id": doc["_id"], "reports": [{"reason": r.get("reason", "")} for r in reports]}


def iso(value: Any) -> str | None:
    return value.astimezone(UTC).isoformat() if isinstance(value, datetime) else None


def jsonable(value: Any) -> Any:
    if isinstance(value, datetime):
        return iso(value)
    if isinstance(value, dict):
        return {str(k): jsonable(v) for k, v in value.items()}
    if isinstance(value, list | tuple | set | frozenset):
        return [jsonable(v) for v in value]
    if isinstance(value, str | int | float | bool) or value is None:
        return value
    return str(value)
