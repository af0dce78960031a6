"""The capacity of a spreekuur: who holds a seat, taking one (asking, or joining while live), freeing it on leaving.

At most ``capacity`` visitors take part in one session. A visitor takes a seat by sending a question (before or
during the session) and by joining while it is live (opening its page with a session, or subscribing its live
channel). A seat is kept while the visitor has a live connection to the session and freed when their last one goes
(:meth:`Seating.on_last_leave`, decision 0009); anyone who already sent a question here is never refused again;
staff never take or need a seat. Seats live in the :class:`~chatserver.ports.SeatStore` and expire
:data:`~chatserver.domain.spreekuur.SEAT_RETENTION` after the planned end; closing or cancelling drops them.
Without a seat store, or while it does not answer, the capacity is not enforced (a warning is logged): a visitor is
never refused because a counter is unreachable.
"""

from __future__ import annotations

import logging

from chatserver.domain.channels import ChannelFacts, ChannelRef
from chatserver.domain.identity import Actor
from chatserver.domain.spreekuur import Seats, phase_of, seat_expiry
from chatserver.ports import Clock, Document, SeatStore, SeatsUnavailable, SpreekuurStore
from chatserver.ports.reflectie import Counter

log = logging.getLogger("chatserver.spreekuur")


class Seating:
    def __init__(self, repo: SpreekuurStore, store: SeatStore | None, clock: Clock, counter: Counter) -> None:
        self.repo = repo
        self.store = store
        self.clock = clock
        self.counter = counter

    async def seats(self, doc: Document, actor: Actor | None = None) -> Seats:
        """The seats of ``doc`` as ``actor`` sees them, taking none."""
        capacity = int(doc.get("capacity", 0))
        staff = actor is not None and actor.is_staff
        if self.store is None:
            return Seats(capacity, 0, True, counted=False)
        try:
            count = await self.store.count(str(doc["_id"]), actor.account_id if actor else "")
        except SeatsUnavailable as exc:
            log.warning("counting the seats of spreekuur %s failed (%s)", doc["_id"], exc)
            return Seats(capacity, 0, True, counted=False)
        return Seats(capacity, count.taken, staff or count.holder or count.taken < capacity)

    async def take_seat(self, actor: Actor, doc: Document, force: bool = False) -> Seats:
        """A seat for a visitor (kept if held); staff take none. ``force`` seats beyond the capacity."""
        if actor.is_staff or self.store is None:
            return await self.seats(doc, actor)
        sid = str(doc["_id"])
        capacity = int(doc.get("capacity", 0))
        expiry = seat_expiry(doc, self.clock())
        try:
            seated, taken, new = await self.store.take(sid, actor.account_id, capacity, expiry, force)
            if not seated and await self.repo.has_question_by(sid, actor.account_id):
                # Asked here before (the seat set may have been lost with a Redis restart): never refused again.
                seated, taken, new = await self.store.take(sid, actor.account_id, capacity, expiry, True)
        except SeatsUnavailable as exc:
            log.warning("taking a seat in spreekuur %s failed (%s); not enforcing the capacity", sid, exc)
            return Seats(capacity, 0, True, counted=False)
        if new:  # the visitor's first seat in this session: a reload or coming back is not another visitor
            self.counter.count("spreekuur.attendance", str(doc["flavour"]))
        if not seated:
            log.info("spreekuur %s is full (%d seats)", sid, capacity)
        return Seats(capacity, taken, seated)

    async def join(self, actor: Actor | None, doc: Document) -> Seats:
        """A visitor opens or follows the session: while it is live that takes a seat, before it only counts."""
        if actor is None or actor.is_staff or phase_of(doc, self.clock()) != "live":
            return await self.seats(doc, actor)
        return await self.take_seat(actor, doc)

    async def channel_facts(self, actor: Actor, flavour: str, spreekuur_id: str) -> ChannelFacts:
        """What the live channel rule needs: whether the session exists and, while live, a seat for ``actor``."""
        doc = await self.repo.get(spreekuur_id[:64])
        if doc is None or doc.get("flavour") != flavour or doc.get("cancelled"):
            return ChannelFacts(exists=False)
        return ChannelFacts(exists=True, full=not (await self.join(actor, doc)).seated)

    async def resolve_channel(self, actor: Actor, ref: ChannelRef) -> ChannelFacts:
        """The channel resolver for spreekuur channels: subscribing takes a seat (decision 0009)."""
        return await self.channel_facts(actor, ref.flavour, ref.ident)

    async def on_last_leave(self, actor: Actor, ref: ChannelRef) -> None:
        """A visitor's last live connection to the session closed: their seat is free for someone else.

        Coming back is always possible for someone who asked a question here (:meth:`take_seat` seats them
        beyond the capacity); others take a free seat again like anyone. The set's expiry after the session
        ends stays the safety net for seats whose holder's process died before it could say so.
        """
        if actor.is_staff or self.store is None:
            return
        sid = ref.ident[:64]
        try:
            freed = await self.store.free(sid, str(actor.account_id))
        except SeatsUnavailable as exc:
            log.warning("freeing a seat in spreekuur %s failed (%s)", sid, exc)
            return
        if freed:
            log.info("spreekuur %s: a seat was freed (visitor left)", sid)

    async def move_expiry(self, doc: Document) -> None:
        """The planned end moved: the seats go that much later (or sooner)."""
        if self.store is None:
            return
        try:
            await self.store.expire_at(str(doc["_id"]), seat_expiry(doc, self.clock()))
        except SeatsUnavailable as exc:
            log.warning("moving the seat expiry of spreekuur %s failed (%s)", doc["_id"], exc)

    async def drop(self, doc: Document) -> None:
        """The session closed or was cancelled: every seat goes at once."""
        if self.store is None:
            return
        try:
            await self.store.drop(str(doc["_id"]))
        except SeatsUnavailable as exc:  # the seats expire by themselves shortly after the planned end
            log.warning("dropping the seats of spreekuur %s failed (%s)", doc["_id"], exc)
