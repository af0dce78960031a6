"""Suggesting a tool in a 1-on-1 chat: the staff member picks a published VitaliteitsMarkt entry of the chat's
flavour and it goes into the chat as a card (title, kind, one line of summary, the entry's stable link).

Only the staff member the chat is assigned to may send one, only while it is active, and only an entry that is
published in the chat's flavour; a card counts against the same per-account publish budget as their chat lines.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from chatserver.domain import markt as market_rules
from chatserver.domain import oneonone as rules
from chatserver.domain.identity import Actor
from chatserver.domain.markt import parse_filters
from chatserver.i18n import N_
from chatserver.protocol.events import ChatToolCard
from chatserver.services.markt.errors import MarktError
from chatserver.services.oneonone.errors import OneOnOneError

if TYPE_CHECKING:
    from chatserver.flavours import FlavourCatalog
    from chatserver.ports import AccountRateLimiter, Document
    from chatserver.services.markt import MarktService
    from chatserver.services.oneonone.announce import Announcer
    from chatserver.services.oneonone.conversation import Conversations

MAX_CARD_SUMMARY = 200
MAX_CHOICES = 300
MAX_ENTRY_SLUG = 100


@dataclass(frozen=True, slots=True)
class CardChoice:
    """A published entry the staff member can send: its slug, title and kind in Dutch."""

    slug: str
    title: str
    kind_label: str


def one_line(text: str, limit: int = MAX_CARD_SUMMARY) -> str:
    """The text on one line, cut at a word before ``limit`` characters (with an ellipsis) when longer."""
    line = " ".join(text.split())
    if len(line) <= limit:
        return line
    return line[: limit - 1].rsplit(" ", 1)[0].rstrip(",.;:–- ") + "…"


def card_of(entry: Document, flavour: str, staff: Actor) -> ChatToolCard:
    """The card of a published entry as ``staff`` sends it in a chat of ``flavour``."""
    kind = str(entry.get("kind", ""))
    return ChatToolCard(
        entry=str(entry["slug"]),
        title=str(entry.get("title", "")),
        kind=kind,
        kind_label=market_rules.KINDS.get(kind, ""),
        summary=one_line(str(entry.get("summary", ""))),
        url=f"/f/{flavour}/markt/{entry['slug']}",
        staff=staff.pseudonym,
        role=rules.role_label(staff.role),
    )


class ToolCards:
    def __init__(
        self,
        conversations: Conversations,
        announce: Announcer,
        market: MarktService,
        limiter: AccountRateLimiter,
        catalog: FlavourCatalog,
    ) -> None:
        self.conversations = conversations
        self.announce = announce
        self.market = market
        self.limiter = limiter
        self.catalog = catalog

    async def choices(self, doc: Document, query: str = "") -> list[CardChoice]:
        """The published entries of the chat's flavour, by name, narrowed by the market's own word search."""
        filters = parse_filters({"q": query, "sorteer": "naam"})
        found = await self.market.finder.find(str(doc["flavour"]), filters, None)
        return [
            CardChoice(str(e["slug"]), str(e.get("title", "")), market_rules.KINDS.get(str(e.get("kind", "")), ""))
            for e in found.entries[:MAX_CHOICES]
        ]

    async def send(self, actor: Actor, chat_id: str, entry_slug: str) -> ChatToolCard:
        """Put the card of ``entry_slug`` into the chat; the staff member the chat is assigned to, only."""
        doc = await self.conversations.active_of(actor, chat_id)
        flavour = str(doc["flavour"])
        slug = entry_slug.strip()[:MAX_ENTRY_SLUG]
        if not slug:
            raise OneOnOneError(422, N_("Kies eerst aanbod uit de VitaliteitsMarkt."))
        try:
            entry = await self.market.catalogue.published(flavour, slug)
        except MarktError:
            f = self.catalog.get(flavour)
            name = f.name if f else flavour
            raise OneOnOneError(
                422, N_("Dit aanbod staat niet (meer) in de VitaliteitsMarkt van %s. Kies ander aanbod.") % name
            ) from None
        wait_ms = await self.limiter.retry_after_ms(actor.account_id)
        if wait_ms > 0:
            raise OneOnOneError(429, N_("Je stuurt te snel; wacht even en probeer het dan opnieuw."))
        card = card_of(entry, flavour, actor)
        await self.announce.step(doc, card)
        self.market.uptake.count(str(entry["_id"]), flavour, None, "card")  # no region: nothing of the visitor
        return card
