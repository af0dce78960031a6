"""Chat messages on live channels: validate, rate-limit, persist with group commit, acknowledge, fan out.

``do_publish`` is the only way a chat message enters a channel. Concurrent
messages are collected while the previous batch is being written and stored
with one ``insert_many``; the sender's ack comes after the write, then the
encoded event goes to every process through Redis. A retried client message id
returns the original ack, never a second message.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from chatserver.adapters.event_store import DuplicateEvents, MongoEventStore, StoreError
from chatserver.adapters.redis_broker import AccountRateLimiter, BrokerError, RedisBroker
from chatserver.domain.channels import ChannelResolvers, check_channel
from chatserver.domain.identity import Actor
from chatserver.flavours import FlavourCatalog
from chatserver.protocol import MAX_TEXT_CHARS, ErrorCode, MessageData, message_event

log = logging.getLogger("chatserver.chat")

MAX_BATCH = 500
COMMIT_TIMEOUT_S = 2.5
PUBLISH_TIMEOUT_S = 2.0
ACCOUNT_PUBLISH_PER_S = 100.0
ACCOUNT_PUBLISH_BURST = 200
_BIDI_OVERRIDES = {"\u202d", "\u202e", "\u2066", "\u2067", "\u2068"}
_FORBIDDEN_CHARS = {chr(c) for c in range(32) if chr(c) not in "\n\t"} | {"\x7f"} | _BIDI_OVERRIDES


class ChatError(Exception):
    def __init__(self, code: ErrorCode, retry_after_ms: int | None = None) -> None:
        super().__init__(code.name)
        self.code = code
        self.retry_after_ms = retry_after_ms


@dataclass(frozen=True, slots=True)
class Acked:
    channel: str
    offset: int
    epoch: str
    duplicate: bool = False


@dataclass(slots=True)
class _Pending:
    actor: Actor
    channel: str
    client_msg_id: str
    text: str
    future: asyncio.Future[Acked]
    doc: dict[str, Any] = field(default_factory=dict)


def live_payload(offset: int, event_json: bytes) -> bytes:
    """What goes through Redis: ``E<offset>\\n`` and the encoded event."""
    return b"E%d\n" % offset + event_json


def event_json(doc: dict[str, Any]) -> bytes:
    data = MessageData(sender=doc["pseudonym"], text=doc["data"]["text"], role=doc.get("role"))
    ts = doc["ts"]
    ts_ms = int(ts.timestamp() * 1000) if isinstance(ts, datetime) else int(ts)
    return message_event(doc["channel"], int(doc["offset"]), doc["epoch"], data, ts_ms)


def clean_text(text: str) -> str | None:
    text = text.strip()
    if not text or len(text) > MAX_TEXT_CHARS or any(c in _FORBIDDEN_CHARS for c in text):
        return None
    return text


class ChatService:
    def __init__(
        self,
        store: MongoEventStore,
        broker: RedisBroker,
        limiter: AccountRateLimiter,
        catalog: FlavourCatalog,
        resolvers: ChannelResolvers,
        live_key: Callable[[str], str],
    ) -> None:
        self.store = store
        self.broker = broker
        self.limiter = limiter
        self.catalog = catalog
        self.resolvers = resolvers
        self.live_key = live_key
        self._queue: list[_Pending] = []
        self._wake = asyncio.Event()
        self.batches = 0
        self.committed = 0

    async def do_publish(self, actor: Actor, channel: str, client_msg_id: str, text: str) -> Acked:
        """Store and fan out one chat message; raises ChatError with the code for the error frame."""
        if not await check_channel(actor, channel, "publish", self.catalog, self.resolvers):
            raise ChatError(ErrorCode.FORBIDDEN)
        cleaned = clean_text(text)
        if cleaned is None:
            raise ChatError(ErrorCode.INVALID_MESSAGE)
        wait_ms = await self.limiter.retry_after_ms(actor.account_id)
        if wait_ms > 0:
            raise ChatError(ErrorCode.RATE_LIMITED, wait_ms)
        future: asyncio.Future[Acked] = asyncio.get_running_loop().create_future()
        self._queue.append(_Pending(actor, channel, client_msg_id, cleaned, future))
        self._wake.set()
        return await future

    async def run_committer(self) -> None:
        """The group-commit loop: whatever queued while the last batch was written goes in the next."""
        while True:
            await self._wake.wait()
            self._wake.clear()
            batch, self._queue = self._queue[:MAX_BATCH], self._queue[MAX_BATCH:]
            if self._queue:
                self._wake.set()
            if batch:
                try:
                    await self._commit(batch)
                except Exception:
                    log.exception("group commit failed")
                    for p in batch:
                        if not p.future.done():
                            p.future.set_exception(ChatError(ErrorCode.UNAVAILABLE, 1000))

    async def _commit(self, batch: list[_Pending]) -> None:
        by_channel: dict[str, list[_Pending]] = {}
        for p in batch:
            by_channel.setdefault(p.channel, []).append(p)
        now = datetime.now(UTC)
        try:
            async with asyncio.timeout(COMMIT_TIMEOUT_S):
                reserved = await asyncio.gather(*(self.store.reserve(ch, len(ps)) for ch, ps in by_channel.items()))
                docs: list[dict[str, Any]] = []
                for (channel, items), (epoch, first) in zip(by_channel.items(), reserved, strict=True):
                    for i, p in enumerate(items):
                        p.doc = {
                            "channel": channel,
                            "offset": first + i,
                            "epoch": epoch,
                            "kind": "message",
                            "sender": p.actor.account_id,
                            "pseudonym": p.actor.pseudonym,
                            "role": p.actor.role_label or None,
                            "client_msg_id": p.client_msg_id,
                            "data": {"text": p.text},
                            "ts": now,
                        }
                        docs.append(p.doc)
                duplicates: set[int] = set()
                try:
                    await self.store.insert_batch(docs)
                except DuplicateEvents as dup:
                    duplicates = set(dup.indexes)
                ordered = [p for items in by_channel.values() for p in items]
                stored: list[_Pending] = []
                for index, p in enumerate(ordered):
                    if index in duplicates:
                        sender = p.actor.account_id
                        original = await self.store.find_by_client_msg_id(p.channel, sender, p.client_msg_id)
                        if original is None:
                            p.future.set_exception(ChatError(ErrorCode.UNAVAILABLE, 1000))
                        else:
                            ack = Acked(p.channel, int(original["offset"]), str(original["epoch"]), duplicate=True)
                            p.future.set_result(ack)
                    else:
                        stored.append(p)
        except (StoreError, TimeoutError) as exc:
            log.warning("storing %d messages failed (%s)", len(batch), type(exc).__name__)
            for p in batch:
                if not p.future.done():
                    p.future.set_exception(ChatError(ErrorCode.UNAVAILABLE, 1000))
            return
        self.batches += 1
        self.committed += len(stored)
        outgoing: list[tuple[str, bytes]] = []
        for p in stored:
            if not p.future.done():
                p.future.set_result(Acked(p.channel, p.doc["offset"], p.doc["epoch"]))
            outgoing.append((self.live_key(p.channel), live_payload(p.doc["offset"], event_json(p.doc))))
        try:
            async with asyncio.timeout(PUBLISH_TIMEOUT_S):
                await self.broker.publish_many(outgoing)
        except (*BrokerError, TimeoutError) as exc:
            # Stored and acknowledged: subscribers refill it from the store when Redis is back.
            log.warning("fan-out of %d events failed (%s)", len(outgoing), type(exc).__name__)

    async def epoch(self, channel: str) -> str:
        return await self.store.epoch(channel)

    async def last_offset(self, channel: str) -> int:
        return await self.store.last_offset(channel)

    async def read_after(self, channel: str, after_offset: int, limit: int) -> list[tuple[int, bytes]]:
        """Stored events after ``after_offset``, in order, as (offset, event JSON)."""
        docs = await self.store.read_after(channel, after_offset, limit)
        return [(int(d["offset"]), event_json(d)) for d in docs]
