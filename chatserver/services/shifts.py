"""Shifts: staff signing on and off per flavour with a capacity, the roster and its switching, coverage alerts.

The shift status of each staff member is stored (``OneOnOneStore``); who is on shift now per flavour and role is
also kept in fast sets (``OnShiftSets``) that every process reads, rebuilt from the store after a restart.
"""

from __future__ import annotations

import logging
import secrets
from collections.abc import Awaitable, Callable, Collection
from datetime import UTC, date, datetime, timedelta
from functools import partial
from typing import TYPE_CHECKING

from chatserver.clock import Clock
from chatserver.domain import oneonone as rules
from chatserver.domain.channels import queue_channel
from chatserver.domain.identity import Actor, Tier
from chatserver.flavours import Flavour, FlavourCatalog, is_open
from chatserver.i18n import N_
from chatserver.ports import Document, OneOnOneStore, OnShiftSets
from chatserver.protocol.events import QueueAlert, QueueAlertBody, QueueAlertCleared, StaffOnShift

if TYPE_CHECKING:
    from chatserver.services.chat import ChatService

log = logging.getLogger("chatserver.shifts")

ALERT_TIERS: tuple[Tier, ...] = (Tier.PROFESSIONAL,)
GAP_ALERT_TTL_S = 3600
ROSTER_BLOCK_MAX = timedelta(hours=14)
PROFESSIONAL_ROLES = ("professional", "admin")  # an admin counts as a professional (same tier)
# (account id, flavours, handover note) -> None: what happens to the open chats of someone signing off.
HandoverHook = Callable[[str, list[str], str], Awaitable[None]]


class ShiftError(Exception):
    def __init__(self, status: int, detail: str) -> None:
        super().__init__(detail)
        self.status = status
        self.detail = detail


class ShiftService:
    def __init__(
        self, repo: OneOnOneStore, onshift: OnShiftSets, catalog: FlavourCatalog, chat: ChatService, clock: Clock
    ) -> None:
        self.repo = repo
        self.onshift = onshift
        self.catalog = catalog
        self.chat = chat
        self.clock = clock
        self.handover: HandoverHook | None = None

    # status -----------------------------------------------------------------------------------

    async def sign_on(self, actor: Actor, flavours: list[str], capacity: int, source: str = "manual") -> Document:
        if rules.tier_of_role(actor.role) is None or not actor.is_staff:
            raise ShiftError(
                403, N_("Alleen vrijwilligers, ervaringsdeskundigen en professionals draaien chatdiensten.")
            )
        chosen = sorted({f for f in flavours if self.catalog.get(f) is not None and actor.staff_in(f)})
        if not chosen:
            raise ShiftError(422, N_("Kies minstens één community waarvoor je dienst hebt."))
        return await self._put(actor.account_id, actor.pseudonym, str(actor.role), chosen, capacity, source)

    async def _put(
        self, account_id: str, pseudonym: str, role: str, flavours: list[str], capacity: int, source: str
    ) -> Document:
        existing = await self.repo.shift(account_id)
        since = existing["since"] if existing else self.clock()
        doc: Document = {
            "_id": account_id,
            "pseudonym": pseudonym,
            "role": role,
            "flavours": flavours,
            "capacity": rules.clamp_capacity(capacity),
            "since": since,
            "source": source,
        }
        covered = {f: await self.professional_on_shift(f) for f in flavours}
        await self.repo.put_shift(doc)
        old = set(existing["flavours"]) if existing else set()
        for flavour in old - set(flavours):
            await self.onshift.remove(flavour, str(existing["role"] if existing else role), account_id)
        for flavour in flavours:
            await self.onshift.add(flavour, role, account_id)
        for flavour in old ^ set(flavours) | set(flavours):
            await self.announce(flavour)
        if rules.tier_of_role(role) == Tier.PROFESSIONAL:
            # Coverage changes where a professional is new (the first) and where one left.
            changed = [f for f in flavours if not covered[f]] + sorted(old - set(flavours))
            for flavour in changed:
                await self.coverage_changed(flavour)
        return doc

    async def sign_off(self, account_id: str, note: str = "", flavours: list[str] | None = None) -> None:
        """Leave the shift (for ``flavours`` or all); open chats go back to the queue with the handover note."""
        existing = await self.repo.shift(account_id)
        if existing is None:
            return
        current = list(existing["flavours"])
        leaving = [f for f in current if flavours is None or f in flavours]
        staying = [f for f in current if f not in leaving]
        if staying:
            await self.repo.put_shift({**existing, "flavours": staying})
        else:
            await self.repo.delete_shift(account_id)
        for flavour in leaving:
            await self.onshift.remove(flavour, str(existing["role"]), account_id)
        if self.handover is not None and leaving:
            await self.handover(account_id, leaving, note.strip()[:2000])
        for flavour in leaving:
            await self.announce(flavour)
            if rules.tier_of_role(str(existing["role"])) == Tier.PROFESSIONAL:
                await self.coverage_changed(flavour)

    async def status_of(self, account_id: str) -> Document | None:
        return await self.repo.shift(account_id)

    async def on_shift(self, flavour: str) -> list[Document]:
        return await self.repo.shifts_in(flavour)

    async def staff_count(self, flavour: str) -> int:
        total = 0
        for role in rules.CHAT_ROLES:
            total += await self.onshift.count(flavour, role)
        return total

    async def professional_on_shift(self, flavour: str) -> bool:
        """Whether a professional (or an admin, same tier) is on shift in ``flavour``."""
        for role in PROFESSIONAL_ROLES:
            if await self.onshift.count(flavour, role) > 0:
                return True
        return False

    async def is_on_shift(self, account_id: str, flavour: str) -> bool:
        doc = await self.repo.shift(account_id)
        return doc is not None and flavour in doc["flavours"]

    async def rebuild(self) -> None:
        """Re-derive the Redis on-shift sets from MongoDB (after a restart or a Redis data loss)."""
        docs = await self.repo.all_shifts()
        for flavour in self.catalog:
            for role in rules.CHAT_ROLES:
                wanted = {str(d["_id"]) for d in docs if d["role"] == role and flavour.slug in d["flavours"]}
                held = await self.onshift.members(flavour.slug, role)
                # Differences are checked again one by one: someone may sign on or off while this runs.
                for account_id in wanted ^ held:
                    fresh = await self.repo.shift(account_id)
                    if fresh is not None and fresh["role"] == role and flavour.slug in fresh["flavours"]:
                        await self.onshift.add(flavour.slug, role, account_id)
                    else:
                        await self.onshift.remove(flavour.slug, role, account_id)

    async def announce(self, flavour: str) -> None:
        """A live count for the staff consoles of the flavour."""
        await self.chat.notify(queue_channel(flavour), StaffOnShift(staff_on_shift=await self.staff_count(flavour)))

    # alerts ----------------------------------------------------------------------------------------

    async def raise_alert(
        self, flavour: str, kind: str, text: str, chat_id: str | None = None, about: datetime | None = None
    ) -> None:
        """Store an alert for the consoles and send it live on the flavour's queue channel.

        ``about`` is the moment the alert concerns (for a coverage gap: when it starts)."""
        now = self.clock()
        doc: Document = {"_id": secrets.token_hex(8), "flavour": flavour, "kind": kind, "text": text, "at": now}
        if about is not None:
            doc["about"] = about
        if chat_id:
            doc["chat_id"] = chat_id
        await self.repo.add_alert(doc)
        log.info("1-on-1 alert %s in %s", kind, flavour)
        alert = QueueAlertBody(kind=kind, text=text, at=now.isoformat(), chat_id=chat_id)
        await self.chat.emit(queue_channel(flavour), QueueAlert(alert=alert))

    async def coverage_changed(self, flavour: str) -> None:
        """After someone signs on or off in ``flavour``: a professional on shift clears the coverage alert (live,
        and on every console that loads later); when the last one leaves, the gap is checked again at once."""
        now = self.clock()
        if not await self.professional_on_shift(flavour):
            await self.coverage_alerts(now, only=flavour)
            return
        if not await self.repo.resolve_alerts(flavour, "coverage", now):
            return
        # The hourly dedupe must not keep a gap that opens again today from being told.
        for hour in range(int(rules.GAP_HORIZON / timedelta(hours=1)) + 2):
            moment = (now + timedelta(hours=hour)).astimezone(UTC)
            await self.onshift.unmark_gap(flavour, int(Tier.PROFESSIONAL), f"{moment:%Y%m%d%H}")
        log.info("coverage alert cleared in %s", flavour)
        await self.chat.emit(queue_channel(flavour), QueueAlertCleared(kind="coverage"))

    # roster ------------------------------------------------------------------------------------------

    async def add_block(
        self,
        admin: Actor,
        flavour: str,
        account_id: str,
        pseudonym: str,
        role: str,
        day: date,
        start: str,
        end: str,
        member_flavours: Collection[str] = (),
    ) -> Document:
        """A roster block; ``role`` and ``member_flavours`` are the staff member's stored role and flavours."""
        if not admin.is_admin:
            raise ShiftError(404, N_("Niet gevonden."))
        if self.catalog.get(flavour) is None:
            raise ShiftError(422, N_("Onbekende community."))
        if rules.tier_of_role(role) is None:
            raise ShiftError(422, N_("Deze medewerker draait geen chatdiensten."))
        if role != "admin" and flavour not in member_flavours:
            # On shift in a community they cannot serve, they would take chats they may not open.
            raise ShiftError(422, N_("Deze medewerker hoort niet bij deze community."))
        if not (rules.valid_hhmm(start) and rules.valid_hhmm(end)) or start == end:
            raise ShiftError(422, N_("Vul een begin- en eindtijd in als UU:MM (verschillend)."))
        start_at, end_at = rules.block_interval(day, start, end)
        if end_at - start_at > ROSTER_BLOCK_MAX:
            raise ShiftError(422, N_("Een dienst duurt hoogstens 14 uur."))
        doc: Document = {
            "_id": secrets.token_hex(8),
            "flavour": flavour,
            "account_id": account_id,
            "pseudonym": pseudonym,
            "role": role,
            "day": day.isoformat(),
            "start": start,
            "end": end,
            "start_at": start_at,
            "end_at": end_at,
            "started": False,
            "ended": False,
        }
        await self.repo.add_block(doc)
        return doc

    async def delete_block(self, admin: Actor, block_id: str) -> bool:
        if not admin.is_admin:
            return False
        return await self.repo.delete_block(block_id, [f.slug for f in self.catalog])

    async def blocks(self, flavour: str, start: datetime, end: datetime) -> list[Document]:
        return await self.repo.blocks(flavour, start, end)

    async def roster_tick(self, now: datetime | None = None) -> int:
        """Switch staff status at block starts and ends; returns the number of switches made."""
        now = now or self.clock()
        docs = await self.repo.due_blocks(now)
        blocks = [rules.block_of(d) for d in docs]
        by_id = {d["_id"]: d for d in docs}
        started = {d["_id"] for d in docs if d.get("started")}
        ended = {d["_id"] for d in docs if d.get("ended")}
        made = 0
        for switch in rules.roster_switches(blocks, started, ended, now):
            doc = by_id[switch.block_id]
            if switch.action == "on":
                made += await self._block_starts(doc)
            else:
                made += await self._block_ends(doc, now)
        return made

    async def _block_starts(self, doc: Document) -> int:
        """Sign the block's staff member on in its flavour (keeping their other flavours); 1 when switched."""
        if not await self.repo.mark_block(str(doc["_id"]), "started"):
            return 0
        account_id = str(doc["account_id"])
        current = await self.repo.shift(account_id)
        flavours = sorted(set(current["flavours"] if current else []) | {str(doc["flavour"])})
        capacity = int(current["capacity"]) if current else rules.DEFAULT_CAPACITY
        await self._put(account_id, str(doc["pseudonym"]), str(doc["role"]), flavours, capacity, "roster")
        return 1

    async def _block_ends(self, doc: Document, now: datetime) -> int:
        """Sign the block's staff member off in its flavour, unless a next block of theirs starts now."""
        block_id, account_id, flavour = str(doc["_id"]), str(doc["account_id"]), str(doc["flavour"])
        if not await self.repo.mark_block(block_id, "ended"):
            return 0
        await self.repo.mark_block(block_id, "started")
        later = await self.repo.blocks(flavour, now, now + timedelta(seconds=1))
        if any(b["account_id"] == account_id for b in later):
            return 0  # a back-to-back block of the same person continues the shift
        await self.sign_off(account_id, N_("Einde van de geplande dienst."), [flavour])
        return 1

    async def coverage_alerts(self, now: datetime | None = None, only: str | None = None) -> int:
        """Alert (once an hour per flavour and tier) when a tier has nobody on shift in the next two hours.

        A professional signed on covers the horizon until they sign off (signing off checks again)."""
        now = now or self.clock()
        raised = 0
        for flavour in self.catalog:
            if only is not None and flavour.slug != only:
                continue
            blocks = [rules.block_of(d) for d in await self.repo.blocks(flavour.slug, now, now + rules.GAP_HORIZON)]
            for tier in ALERT_TIERS:
                raised += await self._gap_alert(flavour, tier, blocks, now)
        return raised

    async def _gap_alert(self, flavour: Flavour, tier: Tier, blocks: list[rules.Block], now: datetime) -> int:
        """Alert about the first gap of ``tier`` in the flavour's next two hours, once per hour of the gap."""
        on_now = tier == Tier.PROFESSIONAL and await self.professional_on_shift(flavour.slug)
        if on_now:
            return 0
        gap = rules.tier_gap(blocks, tier, now, partial(is_open, flavour), on_now)
        if gap is None:
            return 0
        # Once per flavour, tier and hour of the gap: a later tick about the same gap stays quiet.
        if not await self.onshift.mark_gap(flavour.slug, int(tier), f"{gap.astimezone(UTC):%Y%m%d%H}", GAP_ALERT_TTL_S):
            return 0
        when = gap.astimezone(rules.TIMEZONE).strftime("%H:%M")
        who = rules.TIER_NAMES[tier]
        await self.raise_alert(
            flavour.slug,
            "coverage",
            N_("Vanaf %s is er geen %s ingeroosterd of in dienst (komende twee uur).") % (when, who.split(" ", 1)[1]),
            about=gap,
        )
        return 1
