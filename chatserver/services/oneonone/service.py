"""The 1-on-1 chat service: the one door to staffed 1-on-1 chats, built from its parts.

:class:`OneOnOneService` is what pages, jobs and the wiring hold (``services.oneonone``); each use case is done by
the part that owns its concept — :mod:`~chatserver.services.oneonone.queue` (requests and the queue),
:mod:`~chatserver.services.oneonone.conversation` (the chat, transfer, escalation, ending, the hold),
:mod:`~chatserver.services.oneonone.crisis` (crisis signals), :mod:`~chatserver.services.oneonone.cards` (a
VitaliteitsMarkt entry suggested as a card) and :mod:`~chatserver.services.oneonone.upkeep` (ticks and
retention); :mod:`~chatserver.services.oneonone.announce` says it all live.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import TYPE_CHECKING, Any

from chatserver.domain.channels import ChannelFacts, ChannelRef
from chatserver.domain.identity import Actor
from chatserver.flavours import FlavourCatalog
from chatserver.services.chat import Screening
from chatserver.services.oneonone.announce import Announcer
from chatserver.services.oneonone.cards import CardChoice, ToolCards
from chatserver.services.oneonone.conversation import Conversations
from chatserver.services.oneonone.crisis import CrisisSignals
from chatserver.services.oneonone.queue import ChatQueue
from chatserver.services.oneonone.upkeep import ChatUpkeep, Online

if TYPE_CHECKING:
    from chatserver.clock import Clock
    from chatserver.ports import Document, OneOnOneStore
    from chatserver.ports.reflectie import Counter
    from chatserver.protocol.events import ChatToolCard
    from chatserver.services.chat import ChatService
    from chatserver.services.markt import MarktService
    from chatserver.services.moderation import ModerationService
    from chatserver.services.shifts import ShiftService


class OneOnOneService:
    def __init__(
        self,
        repo: OneOnOneStore,
        shifts: ShiftService,
        catalog: FlavourCatalog,
        chat: ChatService,
        clock: Clock,
        moderation: ModerationService,
        market: MarktService,
        online: Online | None = None,
        *,
        counter: Counter,
    ) -> None:
        self.repo = repo
        self.shifts = shifts
        self.catalog = catalog
        self.clock = clock
        self.announce = Announcer(repo, shifts, chat, clock)
        self.crisis = CrisisSignals(repo, shifts, catalog, chat, moderation, self.announce)
        self.queue = ChatQueue(repo, shifts, catalog, chat, self.announce, self.crisis, clock, counter)
        self.conversations = Conversations(repo, shifts, catalog, self.announce, clock, counter)
        self.upkeep = ChatUpkeep(repo, shifts, catalog, self.conversations, self.announce, clock, online)
        self.cards = ToolCards(self.conversations, self.announce, market, chat.limiter, catalog)

    # channels and screening (registered by the wiring) -----------------------------------------------------

    async def resolve(self, actor: Actor, ref: ChannelRef) -> ChannelFacts:
        return await self.conversations.resolve(actor, ref)

    async def crisis_screener(
        self, actor: Actor, ref: ChannelRef, client_msg_id: str, text: str, /, *, recent: Sequence[str] = ()
    ) -> Screening:
        return await self.crisis.screener(actor, ref, client_msg_id, text, recent=recent)

    # requests and the queue --------------------------------------------------------------------------------

    async def availability(self, flavour: str) -> dict[str, Any]:
        return await self.queue.availability(flavour)

    async def current(self, actor: Actor | None, flavour: str) -> Document | None:
        return await self.queue.current(actor, flavour)

    async def request(self, actor: Actor, flavour: str, topic: str, risk: bool = False) -> Document:
        return await self.queue.request(actor, flavour, topic, risk)

    async def position_view(self, doc: Document, waiting: list[Document] | None = None) -> dict[str, Any]:
        return await self.announce.position_view(doc, waiting)

    async def notify_positions(self, flavour: str, waiting: list[Document] | None = None) -> None:
        await self.announce.notify_positions(flavour, waiting)

    def scope(self, actor: Actor) -> list[str]:
        return self.queue.scope(actor)

    async def queue_view(self, actor: Actor) -> dict[str, Any]:
        return await self.queue.queue_view(actor)

    async def my_chats(self, actor: Actor) -> list[Document]:
        return await self.queue.my_chats(actor)

    async def accept(self, actor: Actor, chat_id: str | None = None) -> Document:
        return await self.queue.accept(actor, chat_id)

    # the conversation --------------------------------------------------------------------------------------

    async def access_visitor(self, actor: Actor | None, flavour: str, chat_id: str) -> Document:
        return await self.conversations.access_visitor(actor, flavour, chat_id)

    async def access_staff(self, actor: Actor | None, chat_id: str) -> Document:
        return await self.conversations.access_staff(actor, chat_id)

    async def history(self, doc: Document, limit: int = 500) -> list[Document]:
        return await self.conversations.history(doc, limit)

    async def leave(self, actor: Actor, flavour: str, chat_id: str) -> Document:
        return await self.conversations.leave(actor, flavour, chat_id)

    async def consent(self, actor: Actor, flavour: str, chat_id: str, agree: bool) -> Document:
        return await self.conversations.consent(actor, flavour, chat_id, agree)

    async def feedback(self, actor: Actor, flavour: str, chat_id: str, score: int, comment: str) -> None:
        await self.conversations.feedback(actor, flavour, chat_id, score, comment)

    async def transcript(self, doc: Document, site: str = "") -> str:
        return await self.conversations.transcript(doc, site)

    async def add_note(self, actor: Actor, chat_id: str, text: str) -> Document:
        return await self.conversations.add_note(actor, chat_id, text)

    async def colleagues(self, actor: Actor, doc: Document) -> list[Document]:
        return await self.conversations.colleagues(actor, doc)

    async def transfer(self, actor: Actor, chat_id: str, target_id: str, note: str) -> Document:
        return await self.conversations.transfer(actor, chat_id, target_id, note)

    async def escalate(
        self, actor: Actor, chat_id: str, to_role: str, note: str, target_id: str | None = None
    ) -> Document:
        return await self.conversations.escalate(actor, chat_id, to_role, note, target_id)

    async def end(self, actor: Actor, chat_id: str, tags: list[str]) -> Document:
        return await self.conversations.end(actor, chat_id, tags)

    async def set_hold(self, actor: Actor, chat_id: str, on: bool, reason: str) -> Document:
        return await self.conversations.set_hold(actor, chat_id, on, reason)

    async def card_choices(self, doc: Document, query: str = "") -> list[CardChoice]:
        return await self.cards.choices(doc, query)

    async def send_card(self, actor: Actor, chat_id: str, entry_slug: str) -> ChatToolCard:
        return await self.cards.send(actor, chat_id, entry_slug)

    async def reoffer(self, doc: Document, line: str, note: str | None = None) -> Document | None:
        return await self.conversations.reoffer(doc, line, note)

    async def handover(self, account_id: str, flavours: list[str], note: str) -> None:
        await self.conversations.handover(account_id, flavours, note)

    # by the clock ------------------------------------------------------------------------------------------

    async def tick(self, now: datetime | None = None) -> None:
        await self.upkeep.tick(now)

    async def purge(self, now: datetime | None = None) -> int:
        return await self.upkeep.purge(now)

    async def rederive(self) -> None:
        await self.upkeep.rederive()
