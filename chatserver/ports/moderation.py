"""Ports of moderation: its records (the moderation domain's store and more) and mutes."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, Protocol, runtime_checkable

from chatserver.ports.values import (
    Document,
)
from moderation.audit import AuditEntry
from moderation.ports import ModerationStore
from moderation.queue import ModerationItem
from moderation.tiers import Tier


@runtime_checkable
class ModerationRecords(ModerationStore, Protocol):
    """The moderation domain's store (:class:`moderation.ports.ModerationStore`) plus what the services read and
    write beside the domain objects: the stored item documents (text, author, reports, details) and audit pages.
    ``add_item`` and ``replace_item`` may store ``details`` with the item."""

    async def add_item(self, item: ModerationItem, details: dict[str, Any] | None = None) -> None: ...
    async def replace_item(
        self, expected: ModerationItem, new: ModerationItem, details: dict[str, Any] | None = None
    ) -> bool: ...
    async def get_doc(self, item_id: str) -> Document | None: ...
    async def open_docs(
        self, flavours: Sequence[str] | None, tiers: Sequence[Tier], sources: Sequence[str] | None, limit: int
    ) -> list[Document]: ...
    async def open_item_for_subject(self, flavour: str, subject_id: str) -> Document | None: ...
    async def add_reporter(self, item_id: str, reporter_id: str, reason: str) -> None: ...
    async def revise_unclaimed(self, item_id: str, details: dict[str, Any]) -> bool:
        """Set ``details`` on the item if it is open and nobody has claimed it; whether it was."""
        ...

    async def audit_page(
        self, flavours: Sequence[str] | None, before_seq: int | None, limit: int
    ) -> list[AuditEntry]: ...
    async def count_outcome(self, version: str, outcome: str) -> None:
        """One more ``outcome`` ("released" or "confirmed") of a crisis item for a detector version; counts only."""
        ...

    async def outcome_counts(self) -> dict[str, dict[str, int]]:
        """``{version: {outcome: count}}`` of every detector version."""
        ...


@runtime_checkable
class MuteStore(Protocol):
    """Mutes per flavour and account that end by themselves, each with the moderator's reason ("" for none)."""

    async def remaining_ms(self, flavour: str, account_id: str) -> int:
        """How long the mute still runs; 0 or less when the account is not muted (asked on every live message)."""
        ...

    async def reason(self, flavour: str, account_id: str) -> str: ...
    async def mute(self, flavour: str, account_id: str, reason: str, duration_ms: int) -> None: ...
