"""The audit chain of moderation: every first claim, decision and alert as a hash-chained entry, the pages of the
audit log with the staff's names, and the check of the whole chain (the rules of the chain: ``moderation.audit``)."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Sequence

from chatserver.clock import Clock
from chatserver.domain.identity import Actor
from chatserver.domain.moderation import ERASED_ACCOUNT, NOT_FOUND, ModerationError, scope_of, staff_of
from chatserver.domain.moderation_items import to_ms
from chatserver.i18n import N_
from chatserver.ports import AccountStore, ModerationRecords
from moderation import audit as audit_chain
from moderation.audit import AuditEntry
from moderation.queue import ModerationItem, Staff
from moderation.tiers import StaffRole

log = logging.getLogger("chatserver.moderation")

AUDIT_RETRIES = 20  # two consoles appending at once: the loser reads the new last entry and tries again
AUDIT_RETRY_S = 0.005
SYSTEM_ACTOR = "systeem"


class AuditTrail:
    """Appends to the one audit log of all flavours; reads it per flavour for the staff who may see them."""

    def __init__(self, records: ModerationRecords, accounts: AccountStore, clock: Clock) -> None:
        self.records = records
        self.accounts = accounts
        self.clock = clock

    async def record(self, actor: Actor, staff: Staff, action: str, reason: str, item: ModerationItem) -> AuditEntry:
        """An entry by a staff member; a log that stays busy is a 503 (the action is then not taken)."""
        for _ in range(AUDIT_RETRIES):
            entry = await self._append(str(actor.account_id), staff.role, action, reason, item)
            if entry is not None:
                return entry
            await asyncio.sleep(AUDIT_RETRY_S)
        raise ModerationError(503, N_("Het auditlog is even niet bij te werken. Probeer het opnieuw."))

    async def record_system(self, action: str, reason: str, item: ModerationItem, role: StaffRole) -> None:
        """An entry by the server itself (an alert sent); ``role`` is the role it went to. Never raises."""
        for _ in range(AUDIT_RETRIES):
            try:
                if await self._append(SYSTEM_ACTOR, role, action, reason, item) is not None:
                    return
            except Exception as exc:
                log.warning("audit entry %s not written (%s)", action, type(exc).__name__)
                return
            await asyncio.sleep(AUDIT_RETRY_S)

    async def _append(
        self, actor_id: str, role: StaffRole, action: str, reason: str, item: ModerationItem
    ) -> AuditEntry | None:
        """The entry after the stored last one, or None when someone else appended first."""
        previous = await self.records.last_audit_entry()
        entry = audit_chain.append(
            previous,
            actor_id=actor_id,
            role=role,
            at=to_ms(self.clock()),
            action=action,
            reason=reason,
            item_id=item.id,
            flavour=item.flavour,
        )
        return entry if await self.records.append_audit(entry) else None

    async def page(
        self, actor: Actor, flavour: str | None, before_seq: int | None, limit: int = 50
    ) -> list[AuditEntry]:
        """Newest first, in the flavours this staff member moderates (or the one asked for, if theirs)."""
        staff = staff_of(actor)
        if staff is None:
            raise ModerationError(404, NOT_FOUND)
        flavours = scope_of(staff, flavour)
        if flavours == []:
            return []
        return await self.records.audit_page(flavours, before_seq, limit)

    async def for_item(self, item_id: str) -> list[AuditEntry]:
        return await self.records.audit_for_item(item_id)

    async def staff_names(self, entries: Sequence[AuditEntry]) -> dict[str, str]:
        """The pseudonym of each entry's actor, looked up now (the entries store only the id and the role then);
        an erased account reads "verwijderd account"."""
        found = await self.accounts.pseudonyms([e.actor_id for e in entries])
        return {account_id: name or ERASED_ACCOUNT for account_id, name in found.items()}

    async def verify_chain(self, batch: int = 1000) -> int | None:
        """Check the whole audit log; the ``seq`` of the first bad entry, or None when the chain is intact."""
        previous: AuditEntry | None = None
        after = 0
        while True:
            entries = await self.records.audit_entries(after, batch)
            if not entries:
                return None
            bad = audit_chain.verify(entries, previous)
            if bad is not None:
                return entries[bad].seq
            previous = entries[-1]
            after = previous.seq
