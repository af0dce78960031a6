"""The VitaliteitsMarkt's ports: what the market service needs from storage, as narrow Protocols.

``MongoMarktStore`` (``chatserver.adapters.markt_repo``) implements :class:`MarktStore`; ``RedisUptake``
(``chatserver.adapters.markt_uptake``) implements :class:`UptakeCounter` and :class:`UptakeReader` — the
latter is what the Reflectietafel reads: aggregates per entry, flavour, coarse region and ISO week, never a
person.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Literal, Protocol, runtime_checkable

Document = dict[str, Any]
UptakeMetric = Literal["view", "click", "shortlist", "card"]  # card: sent to someone in a 1-on-1 chat
UPTAKE_METRICS: tuple[UptakeMetric, ...] = ("view", "click", "shortlist", "card")


class EntrySlugTaken(Exception):
    """Another market entry has this slug."""


class ReportExists(Exception):
    """This member has a test report for this entry already (one per member per entry)."""


@dataclass(frozen=True, slots=True)
class UptakeKey:
    entry_id: str
    flavour: str
    region: str  # a GGD or province key, or "" (none chosen)
    week: str  # ISO week, 2030-W02


@dataclass(frozen=True, slots=True)
class UptakeRow:
    key: UptakeKey
    metric: UptakeMetric
    count: int


@runtime_checkable
class MarktStore(Protocol):
    """Entries with their revisions and status audit; the members' test reports; members' region settings."""

    async def insert_entry(self, doc: Document) -> None:
        """Raises :class:`EntrySlugTaken`."""
        ...

    async def entry(self, entry_id: str) -> Document | None: ...
    async def slug_exists(self, slug: str) -> bool: ...
    async def published_by_slug(self, flavour: str, slug: str) -> Document | None: ...
    async def published_in(self, flavour: str) -> list[Document]: ...
    async def published_all(self) -> list[Document]: ...
    async def staff_list(
        self, allowed_flavours: list[str] | None, status: str | None, limit: int
    ) -> list[Document]: ...
    async def update_if_version(self, entry_id: str, version: int, changes: Document) -> Document | None: ...
    async def set_fields(self, entry_id: str, changes: Document) -> None:
        """Fields that are not the editors' text (report counts): no new version."""
        ...

    async def add_revision(self, doc: Document) -> None: ...
    async def revisions_of(self, entry_id: str) -> list[Document]: ...
    async def revision(self, entry_id: str, number: int) -> Document | None: ...
    async def add_audit(self, doc: Document) -> None: ...

    async def insert_report(self, doc: Document) -> None:
        """Raises :class:`ReportExists`."""
        ...

    async def report(self, report_id: str) -> Document | None: ...
    async def report_of(self, entry_id: str, author_id: str) -> Document | None: ...
    async def update_report(
        self, report_id: str, changes: Document, expect_version: int | None = None
    ) -> Document | None: ...
    async def published_reports(self, entry_id: str, limit: int) -> list[Document]: ...
    async def reports_by(self, author_id: str) -> list[Document]: ...

    async def region_of(self, account_id: str) -> str | None: ...
    async def set_region(self, account_id: str, region: str | None, now: datetime) -> None: ...


@runtime_checkable
class UptakeCounter(Protocol):
    """Adds counts in one batch (one round trip); each counter expires on its own."""

    async def add(self, counts: Mapping[tuple[UptakeKey, UptakeMetric], int]) -> None: ...


@runtime_checkable
class UptakeReader(Protocol):
    """The counts of one ISO week (for the Reflectietafel and the backoffice): aggregates only."""

    async def week(self, week: str, flavour: str | None = None) -> list[UptakeRow]: ...
