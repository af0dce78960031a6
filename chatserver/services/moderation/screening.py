"""Screening before storing: the flavour's rules and the crisis detector on a text, the mute gate, the chat
screener that holds a live message as a moderation item, and the recall of an author's last lines."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime, timedelta
from typing import Literal

from chatserver.clock import Clock
from chatserver.domain.channels import ChannelKind, ChannelRef
from chatserver.domain.identity import Actor
from chatserver.domain.moderation import (
    PEER_TO_PEER_PLACES,
    PLACE_KIND,
    Place,
    crisis_notice,
    muted_text,
    rule_settings,
)
from chatserver.domain.moderation_items import ItemRef, actor_snapshot, aware
from chatserver.flavours import FlavourCatalog
from chatserver.ports import AccountStore, MuteStore, RecentLines
from chatserver.services.chat import Screener, Screening
from chatserver.services.moderation.queue import ItemQueue
from moderation.rules import RuleContext, RuleSettings, Verdict, evaluate, find_contact_details

SCREENED_KINDS = (ChannelKind.ROOM, ChannelKind.CHAT, ChannelKind.SPREEKUUR)
# Live channels where an author's last few lines are kept briefly and judged together (a goodbye over short lines).
RECALLED_KINDS = (ChannelKind.ROOM, ChannelKind.CHAT)
ACCOUNT_AGE_CACHE = 10_000  # accounts whose creation time is remembered (the cache starts over when full)
ESTABLISHED_DAYS = 10_000.0  # the age of a member not looked up yet: established


class Gatekeeper:
    def __init__(
        self,
        catalog: FlavourCatalog,
        accounts: AccountStore,
        mutes: MuteStore,
        recent: RecentLines,
        queue: ItemQueue,
        clock: Clock,
    ) -> None:
        self.catalog = catalog
        self.accounts = accounts
        self.mutes = mutes
        self.recent = recent
        self.queue = queue
        self.clock = clock
        self._account_age: dict[str, datetime] = {}

    # --- rules and the crisis detector -----------------------------------------------------------------------------

    def screen(
        self,
        actor: Actor,
        flavour: str,
        place: Place,
        text: str,
        *,
        account_age_days: float | Literal["unknown"] | None = "unknown",
        recent: Sequence[str] = (),
    ) -> Verdict:
        """The flavour's rules plus the crisis detector; pure (no I/O).

        ``Verdict.action`` is ``"allow"``, ``"hold"`` or ``"block"`` (``"block"`` = refuse, with ``Verdict.reason``
        in Dutch for the author). The account age is taken from ``account_age_days`` when given, else from what
        :meth:`check` last looked up for this account; guests are always new, members not looked up yet count as
        established (use :meth:`check` where pre-moderation of new accounts matters).
        """
        found = self.catalog.get(flavour)
        settings = rule_settings(found) if found is not None else RuleSettings()
        if account_age_days == "unknown":
            account_age_days = self._cached_age(actor)
        context = RuleContext(
            place=PLACE_KIND[place],
            account_age_days=account_age_days,
            peer_to_peer=place in PEER_TO_PEER_PLACES and not actor.is_staff,
            staff_author=actor.is_staff,
        )
        return evaluate(text, settings, context, recent)

    async def check(self, actor: Actor, flavour: str, place: Place, text: str, recent: Sequence[str] = ()) -> Verdict:
        """:meth:`screen` with the account's real age looked up first (one read, cached)."""
        age_days = await self.account_age_days(actor)
        return self.screen(actor, flavour, place, text, account_age_days=age_days, recent=recent)

    async def recall(self, actor: Actor, ref: ChannelRef, text: str) -> tuple[str, ...]:
        """For ``chat.recall``: the author's previous lines in a room or 1-on-1 chat, recording this one.

        Staff lines are not kept. A line with contact details is not kept either (it is refused anyway, and
        Redis must never hold an e-mail address or phone number).
        """
        if ref.kind not in RECALLED_KINDS or actor.is_staff:
            return ()
        line = None if find_contact_details(text) else text
        return await self.recent.push_and_read(ref.name, str(actor.account_id), line)

    def _cached_age(self, actor: Actor) -> float | None:
        if actor.is_guest:
            return None
        created = self._account_age.get(str(actor.account_id))
        if created is None:
            return ESTABLISHED_DAYS
        return (self.clock() - created).total_seconds() / 86_400

    async def account_age_days(self, actor: Actor) -> float | None:
        """Days since the account was made (None for a guest or an account that is gone)."""
        if actor.is_guest:
            return None
        key = str(actor.account_id)
        if key not in self._account_age:
            doc = await self.accounts.get(key)
            created = aware(doc.get("created_at")) if doc else None
            if not isinstance(created, datetime):
                return None
            if len(self._account_age) >= ACCOUNT_AGE_CACHE:
                self._account_age.clear()
            self._account_age[key] = created
        return self._cached_age(actor)

    # --- mutes -----------------------------------------------------------------------------------------------------

    async def mute_of(self, account_id: str, flavour: str) -> tuple[datetime, str] | None:
        """The end of the account's mute in this flavour and the moderator's reason, or None when not muted."""
        until = await self.muted_until(account_id, flavour)
        return None if until is None else (until, await self.mutes.reason(flavour, account_id))

    async def muted_until(self, account_id: str, flavour: str) -> datetime | None:
        """The end of the account's mute in this flavour, or None."""
        ttl_ms = await self.mutes.remaining_ms(flavour, account_id)
        if ttl_ms <= 0:
            return None
        return self.clock() + timedelta(milliseconds=ttl_ms)

    async def mute_gate(self, actor: Actor, ref: ChannelRef) -> str | None:
        """A gate for ``chat.gates``: the refusal for a muted visitor, else None (staff are never muted)."""
        if ref.kind not in SCREENED_KINDS or actor.is_staff:
            return None
        until = await self.muted_until(str(actor.account_id), ref.flavour)
        if until is None:  # the hot path: one question; the reason is read only for someone who is muted
            return None
        return muted_text(until, await self.mutes.reason(ref.flavour, str(actor.account_id)))

    # --- live messages ---------------------------------------------------------------------------------------------

    def chat_screener(self, check_mute: bool = True) -> Screener:
        """A screener for ``chat.screeners``: refuse, hold (as a moderation item) or allow a live message.

        ``check_mute=False`` when :meth:`mute_gate` is registered as a gate for the same channels.
        """

        async def screener(
            actor: Actor, ref: ChannelRef, client_msg_id: str, text: str, /, *, recent: Sequence[str] = ()
        ) -> Screening:
            if ref.kind not in SCREENED_KINDS:
                return Screening()
            if check_mute:
                refusal = await self.mute_gate(actor, ref)
                if refusal is not None:
                    return Screening("refuse", reason=refusal)
            place: Place = "chat_1on1" if ref.kind is ChannelKind.CHAT else "room"
            verdict = await self.check(actor, ref.flavour, place, text, recent)
            if verdict.action == "allow":
                return Screening()
            if verdict.action == "block" and not verdict.crisis.flagged:
                return Screening("refuse", reason=verdict.reason)
            return await self._hold(actor, ref, client_msg_id, text, verdict)

        return screener

    async def _hold(self, actor: Actor, ref: ChannelRef, client_msg_id: str, text: str, verdict: Verdict) -> Screening:
        """Keep a live message as a moderation item; a moderator's release publishes it (``held_payload``)."""
        kind = "chat_message" if ref.kind is ChannelKind.CHAT else "room_message"
        url = f"/f/{ref.flavour}/chat/{ref.ident}/" if ref.kind is ChannelKind.ROOM else None
        item = await self.queue.submit_item(
            flavour=ref.flavour,
            source="crisis" if verdict.crisis.flagged else "rule",
            ref=ItemRef(kind=kind, id=f"{ref.name}#{client_msg_id}", channel=ref.name, url=url),
            text=text,
            author=actor,
            verdict=verdict,
            held_payload={
                "channel": ref.name,
                "client_msg_id": client_msg_id,
                "text": text,
                "author": actor_snapshot(actor),
            },
        )
        if verdict.crisis.flagged:
            flavour = self.catalog.get(ref.flavour)
            return Screening("hold", notice=crisis_notice(flavour, staffed=not item.no_professional_on_shift))
        return Screening("hold", notice=verdict.reason)
