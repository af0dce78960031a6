"""The storage port of the moderation domain; the MongoDB adapter in chatserver implements it."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Protocol

from moderation.audit import AuditEntry
from moderation.queue import ModerationItem
from moderation.tiers import Tier


class ModerationStore(Protocol):
    """Durable queue items and the audit log. Claims and decisions are compare-and-set so two consoles never
    both win; the audit log is append-only (no update or delete exists)."""

    async def add_item(self, item: ModerationItem) -> None:
        """Store a new item; an item with the same id is left as it is (idempotent retries)."""
        ...

    async def get_item(self, item_id: str) -> ModerationItem | None: ...

    async def open_items(
        self, flavours: Sequence[str] | None, tiers: Sequence[Tier], limit: int
    ) -> list[ModerationItem]:
        """Undecided items in the given flavours (None: all) and tiers, most severe and oldest first."""
        ...

    async def replace_item(self, expected: ModerationItem, new: ModerationItem) -> bool:
        """Write ``new`` only if the stored item still equals ``expected`` (state, claim and tier); True on success."""
        ...

    async def append_audit(self, entry: AuditEntry) -> bool:
        """Append an entry if its ``seq`` follows the stored last entry; False when someone else appended first."""
        ...

    async def last_audit_entry(self) -> AuditEntry | None: ...

    async def audit_entries(self, after_seq: int, limit: int) -> list[AuditEntry]:
        """Entries with ``seq`` greater than ``after_seq``, in order."""
        ...

    async def audit_for_item(self, item_id: str) -> list[AuditEntry]: ...

    async def purge_decided_before(self, cutoff: datetime) -> int:
        """Remove decided items older than ``cutoff`` (the audit log stays); the number removed."""
        ...
