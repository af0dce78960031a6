"""Events on live channels: validate, screen, rate-limit, persist with group commit, acknowledge, fan out.

``do_publish`` is the only way a chat message enters a channel, ``emit``
the only way a server-originated stored event does (edits, removals, queue and
moderation updates, spreekuur answers), and ``notify`` sends a live notice
that is not stored. Events and notices are the closed Structs of
:mod:`chatserver.protocol.events`; ``do_emit`` and ``do_notify`` take a kind and
a data dict, check it against the Struct of that kind and go the same way.
Concurrent events are collected while the previous batch is being written and
stored with one ``insert_many``; the sender's ack comes after the write, then
the encoded event goes to every process through the broker. A retried client
message id returns the original ack, never a second message.

The service sees the outside world through ports (:mod:`chatserver.ports`): the
event store, positions, broker and per-account limiter. What a backend being away
looks like is what those adapters list in ``unavailable_errors``.
"""

from __future__ import annotations

import asyncio
import logging
import secrets
from collections import Counter as Tally
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Literal, Protocol

from chatserver import metrics
from chatserver.clock import Clock, system_clock
from chatserver.domain.channels import ChannelRef, ChannelResolvers, check_channel, parse_channel
from chatserver.domain.identity import Actor
from chatserver.flavours import FlavourCatalog
from chatserver.ports import AccountRateLimiter, Broker, DuplicateEvents, EventStore, Positions
from chatserver.ports.reflectie import Counter
from chatserver.protocol import MAX_TEXT_CHARS, ErrorCode, MessageData, Notice, encode_frame, kind_event, message_event
from chatserver.protocol.events import (
    LIVE_NOTICE_TYPES,
    STORED_EVENT_TYPES,
    LiveNotice,
    StoredEvent,
    event_data,
    live_notice,
    stored_event,
)
from chatserver.services.turns import Turn as Turn  # re-exported: the connection and its tests import it from here

log = logging.getLogger("chatserver.chat")

MAX_BATCH = 500
COMMIT_TIMEOUT_S = 2.5
PUBLISH_TIMEOUT_S = 2.0
# How long a member's queued message waits for its commit (``_enqueue(wait_s=…)``): behind a batch stuck on a hung
# database it would otherwise wait two commit timeouts, past the 3 s answer. Server events wait for their commit.
QUEUE_WAIT_S = COMMIT_TIMEOUT_S
ACCOUNT_PUBLISH_PER_S = 100.0
ACCOUNT_PUBLISH_BURST = 200
_BIDI_OVERRIDES = {"\u202a", "\u202b", "\u202c", "\u202d", "\u202e", "\u2066", "\u2067", "\u2068", "\u2069"}
_FORBIDDEN_CHARS = {chr(c) for c in range(32) if chr(c) not in "\n\t"} | {"\x7f"} | _BIDI_OVERRIDES


class ChatError(Exception):
    def __init__(self, code: ErrorCode, retry_after_ms: int | None = None, reason: str | None = None) -> None:
        super().__init__(code.name)
        self.code = code
        self.retry_after_ms = retry_after_ms
        self.reason = reason


@dataclass(frozen=True, slots=True)
class Acked:
    channel: str
    offset: int
    epoch: str
    duplicate: bool = False
    held: bool = False
    notice: str | None = None


@dataclass(frozen=True, slots=True)
class Screening:
    """What a screener decides about a message before it is stored.

    ``hold``: the screener kept the message (e.g. as a moderation item) and it
    is not published now; ``refuse``: it is not stored at all and ``reason``
    tells the author why. ``notice`` is shown to the author either way.
    ``after`` runs once an allowed message is stored, with its ack (a 1-on-1 line
    flagged by the crisis detector is marked and alerted there); it must not raise.
    """

    action: Literal["allow", "hold", "refuse"] = "allow"
    reason: str | None = None
    notice: str | None = None
    after: Callable[[Acked], Awaitable[None]] | None = None


ALLOW = Screening()


class Screener(Protocol):
    """(actor, channel reference, client message id, text) -> Screening; called in registration order.

    ``recent`` are the author's previous lines in the same channel (oldest first) when a recall is set.
    """

    def __call__(
        self, actor: Actor, ref: ChannelRef, client_msg_id: str, text: str, /, *, recent: Sequence[str] = ()
    ) -> Awaitable[Screening]: ...


# (actor, channel reference, text) -> the author's previous lines in that channel, recording this one. Runs beside
# the gates and the rate limit, so its Redis question shares their round trip.
Recall = Callable[[Actor, ChannelRef, str], Awaitable[tuple[str, ...]]]
# (actor, channel reference) -> a refusal reason or None. Gates are quick lookups without side effects
# (a mute); they run at the same time as the rate limit, so their Redis questions share its round trip.
Gate = Callable[[Actor, ChannelRef], Awaitable[str | None]]


@dataclass(slots=True)
class _Pending:
    actor: Actor | None
    channel: str
    client_msg_id: str | None
    kind: str
    data: dict[str, Any]
    future: asyncio.Future[Acked]
    doc: dict[str, Any] = field(default_factory=dict)
    expired: bool = False  # its publisher was answered unavailable after QUEUE_WAIT_S


def live_payload(offset: int, event_json: bytes) -> bytes:
    """What goes through Redis: ``E<offset>\\n`` and the encoded event."""
    return b"E%d\n" % offset + event_json


def notice_payload(frame_json: bytes) -> bytes:
    """A notice without an offset: ``P`` and the encoded frame."""
    return b"P" + frame_json


def event_json(doc: dict[str, Any]) -> bytes:
    ts = doc["ts"]
    ts_ms = int(ts.timestamp() * 1000) if isinstance(ts, datetime) else int(ts)
    data = doc["data"]
    if doc.get("kind", "message") == "message":
        message = MessageData(
            sender=doc["pseudonym"],
            text=data["text"],
            role=doc.get("role"),
            edited=bool(data.get("edited", False)),
            deleted=bool(data.get("deleted", False)),
        )
        return message_event(doc["channel"], int(doc["offset"]), doc["epoch"], message, ts_ms)
    return kind_event(doc["channel"], int(doc["offset"]), doc["epoch"], doc["kind"], data, ts_ms)


def clean_text(text: str) -> str | None:
    text = text.strip()
    if not text or len(text) > MAX_TEXT_CHARS or any(c in _FORBIDDEN_CHARS for c in text):
        return None
    return text


@dataclass(slots=True)
class _Screened:
    """What the screeners said about an allowed message: a notice for the author and follow-ups after storing."""

    notice: str | None = None
    afters: list[Callable[[Acked], Awaitable[None]]] = field(default_factory=list)


class ChatService:
    def __init__(
        self,
        store: EventStore,
        positions: Positions,
        broker: Broker,
        limiter: AccountRateLimiter,
        catalog: FlavourCatalog,
        resolvers: ChannelResolvers,
        live_key: Callable[[str], str],
        clock: Clock = system_clock,
        *,
        counter: Counter,
    ) -> None:
        self.clock = clock  # event timestamps: 1-on-1 reply time-outs compare them with the roster's clock
        self.counter = counter  # the Reflectietafel: stored messages, counted once per group commit
        self.store = store
        self.positions = positions
        self.broker = broker
        self.limiter = limiter
        # The database or Redis away, whichever port (or feature hook behind it) noticed it first.
        self.unavailable_errors: tuple[type[Exception], ...] = tuple(
            dict.fromkeys(
                (*store.unavailable_errors, *positions.unavailable_errors, *broker.unavailable_errors, TimeoutError)
            )
        )
        self._fanout_errors: tuple[type[Exception], ...] = (*broker.unavailable_errors, TimeoutError)
        self.catalog = catalog
        self.resolvers = resolvers
        self.live_key = live_key
        self.screeners: list[Screener] = []
        self.gates: list[Gate] = []
        self.recall: Recall | None = None
        self._queue: list[_Pending] = []
        self._wake = asyncio.Event()
        self.batches = 0
        self.committed = 0

    # --- entry points ------------------------------------------------------------

    @metrics.timed_publish
    async def do_publish(
        self,
        actor: Actor,
        channel: str,
        client_msg_id: str,
        text: str,
        *,
        screen: bool = True,
        turn: Turn | None = None,
    ) -> Acked:
        """Store and fan out one chat message; raises ChatError with the code for the error frame.

        ``screen=False`` is for a message a moderator released: it was screened when it was sent.
        Redis or the database away answers ``UNAVAILABLE`` (retryable with the same client message id).
        With ``turn`` the message is stored after the sender's earlier publishes on this channel (``Turn``).
        """
        try:
            return await self._publish(actor, channel, client_msg_id, text, screen, turn)
        except ChatError:
            raise
        except self.unavailable_errors as exc:
            log.warning("publishing failed before storing (%s)", type(exc).__name__)
            raise ChatError(ErrorCode.UNAVAILABLE, 1000) from None
        finally:
            if turn is not None:
                turn.release()  # refused, held or failed: the next one need not wait

    async def _publish(
        self, actor: Actor, channel: str, client_msg_id: str, text: str, screen: bool, turn: Turn | None = None
    ) -> Acked:
        decision = await check_channel(actor, channel, "publish", self.catalog, self.resolvers)
        if not decision:
            raise ChatError(ErrorCode.FORBIDDEN)
        cleaned = clean_text(text)
        if cleaned is None:
            raise ChatError(ErrorCode.INVALID_MESSAGE)
        ref = parse_channel(channel)
        assert ref is not None  # check_channel parsed it
        recent = await self._admit(actor, ref, cleaned, screen)
        screened = _Screened()
        if screen and self.screeners:
            verdict = await self._screen(actor, ref, client_msg_id, cleaned, recent, screened)
            if verdict is not None:
                return verdict
        data = {"text": cleaned}
        acked = await self._enqueue(actor, channel, client_msg_id, "message", data, turn, wait_s=QUEUE_WAIT_S)
        if not acked.duplicate:
            for after in screened.afters:
                try:
                    await after(acked)
                except Exception:  # stored and acknowledged: a failed follow-up must not fail the message
                    log.exception("follow-up after a screened message failed")
        if screened.notice is not None:
            return Acked(acked.channel, acked.offset, acked.epoch, acked.duplicate, notice=screened.notice)
        return acked

    async def _admit(self, actor: Actor, ref: ChannelRef, cleaned: str, screen: bool) -> tuple[str, ...]:
        """The rate limit and the gates; the author's recent lines in the channel when a recall is set."""
        refusals: list[str | None] = []
        recent: tuple[str, ...] = ()
        if screen and (self.gates or self.recall is not None):
            # Started together, so their Redis questions go out in one round trip (AutoPipeline).
            limit = asyncio.ensure_future(self.limiter.retry_after_ms(actor.account_id))
            recall = asyncio.ensure_future(self.recall(actor, ref, cleaned)) if self.recall is not None else None
            try:
                refusals = list(await asyncio.gather(*(gate(actor, ref) for gate in self.gates)))
            finally:
                wait_ms = await limit  # never fails: the limiter fails open
                if recall is not None:
                    recent = await recall  # never fails: the recall fails open
        else:
            wait_ms = await self.limiter.retry_after_ms(actor.account_id)
        if wait_ms > 0:
            raise ChatError(ErrorCode.RATE_LIMITED, wait_ms)
        for refusal in refusals:
            if refusal is not None:
                raise ChatError(ErrorCode.REFUSED, reason=refusal)
        return recent

    async def _screen(
        self, actor: Actor, ref: ChannelRef, client_msg_id: str, cleaned: str, recent: tuple[str, ...], out: _Screened
    ) -> Acked | None:
        """Run the screeners in order: a refusal raises, a hold answers the held ack; else ``out`` is filled."""
        for screener in self.screeners:
            verdict = await screener(actor, ref, client_msg_id, cleaned, recent=recent)
            if verdict.action == "refuse":
                raise ChatError(ErrorCode.REFUSED, reason=verdict.reason)
            if verdict.action == "hold":
                return Acked(ref.name, 0, "", held=True, notice=verdict.notice or verdict.reason)
            out.notice = out.notice or verdict.notice
            if verdict.after is not None:
                out.afters.append(verdict.after)
        return None

    async def emit(
        self, channel: str, event: StoredEvent, *, actor: Actor | None = None, dedupe_id: str | None = None
    ) -> Acked:
        """A stored server event through the same group commit and fan-out as messages; its Struct names the kind.

        It gets an offset, so clients recover it like messages. ``dedupe_id``
        makes a retried emit return the original (like a client message id).
        """
        if type(event) not in STORED_EVENT_TYPES:
            raise TypeError(f"{type(event).__name__} is not a stored event")
        return await self._enqueue(actor, channel, dedupe_id, event.KIND, event_data(event))

    async def notify(self, channel: str, notice: LiveNotice) -> None:
        """A live notice for the channel's current subscribers; not stored, no offset, at most once."""
        if type(notice) not in LIVE_NOTICE_TYPES:
            raise TypeError(f"{type(notice).__name__} is not a live notice")
        frame = Notice(channel=channel, kind=notice.KIND, data=notice)
        try:
            await self.broker.publish(self.live_key(channel), notice_payload(encode_frame(frame)))
        except self.broker.unavailable_errors as exc:
            log.warning("notice fan-out failed (%s)", type(exc).__name__)

    async def do_emit(
        self, channel: str, kind: str, data: dict[str, Any], *, actor: Actor | None = None, dedupe_id: str | None = None
    ) -> Acked:
        """:meth:`emit` for a kind and a data dict; raises ValueError unless they are one of the stored event Structs.

        Kept while call sites move to :meth:`emit`; "message" is refused (chat messages go through ``do_publish``).
        """
        if kind == "message":
            raise ValueError("use do_publish for chat messages")
        return await self.emit(channel, stored_event(kind, data), actor=actor, dedupe_id=dedupe_id)

    async def do_notify(self, channel: str, kind: str, data: Any) -> None:
        """:meth:`notify` for a kind and a data dict; raises ValueError unless they are one of the notice Structs."""
        await self.notify(channel, live_notice(kind, data))

    async def _enqueue(
        self,
        actor: Actor | None,
        channel: str,
        client_msg_id: str | None,
        kind: str,
        data: dict[str, Any],
        turn: Turn | None = None,
        *,
        wait_s: float | None = None,
    ) -> Acked:
        if turn is not None:
            await turn.wait()
        future: asyncio.Future[Acked] = asyncio.get_running_loop().create_future()
        pending = _Pending(actor, channel, client_msg_id, kind, data, future)
        self._queue.append(pending)
        self._wake.set()
        if turn is not None:
            turn.release()  # queued: the committer keeps queue order within a channel
        try:
            async with asyncio.timeout(wait_s):
                # Shielded: a publisher that goes away (a closed socket) does not take its message back.
                return await asyncio.shield(future)
        except TimeoutError:
            pending.expired = True  # answered unavailable: the committer skips it unless it is being written
            log.warning("a queued message was not stored within %.1f s; answered unavailable", wait_s or 0)
            raise ChatError(ErrorCode.UNAVAILABLE, 1000) from None

    # --- group commit --------------------------------------------------------------

    async def run_committer(self) -> None:
        """The group-commit loop: whatever queued while the last batch was written goes in the next."""
        while True:
            await self._wake.wait()
            self._wake.clear()
            batch, self._queue = self._queue[:MAX_BATCH], self._queue[MAX_BATCH:]
            if self._queue:
                self._wake.set()
            batch = [p for p in batch if not p.expired]  # answered unavailable while waiting: not stored
            if batch:
                try:
                    await self._commit(batch)
                except Exception:
                    log.exception("group commit failed")
                    _fail(batch)

    async def _commit(self, batch: list[_Pending]) -> None:
        by_channel: dict[str, list[_Pending]] = {}
        for p in batch:
            by_channel.setdefault(p.channel, []).append(p)
        now = self.clock()
        ordered = [p for items in by_channel.values() for p in items]
        try:
            async with asyncio.timeout(COMMIT_TIMEOUT_S):
                reserved = await self.positions.reserve_many({ch: len(ps) for ch, ps in by_channel.items()})
                docs: list[dict[str, Any]] = []
                for channel, items in by_channel.items():
                    epoch, first = reserved[channel]
                    for i, p in enumerate(items):
                        p.doc = _document(p, channel, first + i, epoch, now)
                        docs.append(p.doc)
                repeats: set[int] = set()
                collisions: set[int] = set()
                try:
                    await self.store.insert_batch(docs)
                except DuplicateEvents as dup:
                    repeats, collisions = set(dup.indexes), set(dup.offset_indexes)
                stored: list[_Pending] = []
                for index, p in enumerate(ordered):
                    if index in collisions:
                        await self.positions.reset(p.channel, p.doc["epoch"])
                        log.warning("offset collision; channel gets a new epoch")
                        _settle(p, ChatError(ErrorCode.UNAVAILABLE, 200))
                    elif index in repeats:
                        await self._answer_repeat(p)
                    else:
                        stored.append(p)
        except self.unavailable_errors as exc:
            log.warning("storing %d events failed (%s)", len(batch), type(exc).__name__)
            _fail(batch)
            return
        self.batches += 1
        self.committed += len(stored)
        outgoing: list[tuple[str, bytes]] = []
        for p in stored:
            _settle(p, Acked(p.channel, p.doc["offset"], p.doc["epoch"]))
            outgoing.append((self.live_key(p.channel), live_payload(p.doc["offset"], event_json(p.doc))))
        try:
            async with asyncio.timeout(PUBLISH_TIMEOUT_S):
                await self.broker.publish_many(outgoing)
        except self._fanout_errors as exc:
            # Stored and acknowledged: subscribers refill it from the store when Redis is back.
            log.warning("fan-out of %d events failed (%s)", len(outgoing), type(exc).__name__)
        self._count_messages(stored)

    def _count_messages(self, stored: list[_Pending]) -> None:
        """The Reflectietafel's ``message``: one count per flavour and channel kind for a committed batch, after
        its fan-out (never per delivery, never per message)."""
        per_kind: Tally[tuple[str, str]] = Tally()
        for p in stored:
            if p.kind == "message":  # its channel name was checked when it was published: <kind>:<flavour>:<ident>
                kind, _, rest = p.channel.partition(":")
                per_kind[(rest.partition(":")[0], kind)] += 1
        for (flavour, kind), n in per_kind.items():
            self.counter.count("message", flavour, variant=kind, times=n)

    async def _answer_repeat(self, p: _Pending) -> None:
        sender = p.doc.get("sender", "")
        original = await self.store.find_by_client_msg_id(p.channel, sender, p.client_msg_id or "")
        if original is None:
            _settle(p, ChatError(ErrorCode.UNAVAILABLE, 1000))
        else:
            _settle(p, Acked(p.channel, int(original["offset"]), str(original["epoch"]), duplicate=True))

    # --- reading -------------------------------------------------------------------

    async def epoch(self, channel: str) -> str:
        return await self.positions.epoch(channel)

    async def last_offset(self, channel: str) -> int:
        return await self.store.last_offset(channel)

    async def read_after(self, channel: str, after_offset: int, limit: int) -> list[tuple[int, bytes]]:
        """Stored events after ``after_offset``, in order, as (offset, event JSON)."""
        docs = await self.store.read_after(channel, after_offset, limit)
        return [(int(d["offset"]), event_json(d)) for d in docs]


def _document(p: _Pending, channel: str, offset: int, epoch: str, now: datetime) -> dict[str, Any]:
    doc: dict[str, Any] = {"channel": channel, "offset": offset, "epoch": epoch, "kind": p.kind, "data": p.data}
    doc["ts"] = now
    if p.actor is not None:
        doc["sender"] = p.actor.account_id
        doc["pseudonym"] = p.actor.pseudonym
        doc["role"] = p.actor.role_label or None
    else:
        doc["sender"] = "system"
        doc["pseudonym"] = ""
    # Every stored event has a client message id: the unique index over it must not see nulls.
    doc["client_msg_id"] = p.client_msg_id if p.client_msg_id is not None else f"sys-{secrets.token_hex(8)}"
    return doc


def _settle(p: _Pending, answer: Acked | ChatError) -> None:
    """Answer one queued event, unless it was answered already or its publisher was told it is unavailable."""
    if p.future.done() or p.expired:
        return
    if isinstance(answer, ChatError):
        p.future.set_exception(answer)
    else:
        p.future.set_result(answer)


def _fail(batch: list[_Pending]) -> None:
    for p in batch:
        _settle(p, ChatError(ErrorCode.UNAVAILABLE, 1000))
