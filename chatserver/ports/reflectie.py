"""The Reflectietafel's ports: counting without waiting, the short-lived counters, the stored aggregates, the roster.

``RedisCounters`` (``chatserver.adapters.reflectie_counters``) implements :class:`Counter` and
:class:`CounterSource`; ``MongoReflectieStore`` (``chatserver.adapters.reflectie_store``) implements
:class:`AggregateStore`; the shift service is the :class:`RosterSource`. The market's uptake comes through
``chatserver.ports.markt.UptakeReader``. Only aggregates pass these ports: a metric, a flavour, a day, a coarse
region, a sub-kind, counts — never an account, session, address or channel.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any, Protocol, runtime_checkable

from chatserver.domain.reflectie import Bucketed, Cell

Document = dict[str, Any]


@runtime_checkable
class Counter(Protocol):
    """Counts one event. Never waits and never fails: the count goes to an in-memory buffer that is written in
    batches. A hook in a feature is one line: ``services.counter.count("oneonone.requested", flavour)``.
    ``times`` counts the same event that many times at once (the messages of one group commit)."""

    def count(
        self,
        metric: str,
        flavour: str,
        *,
        region: str | None = None,
        value: float | None = None,
        variant: str | None = None,
        times: int = 1,
    ) -> None: ...


@dataclass(frozen=True, slots=True)
class CountRow:
    cell: Cell
    counts: Bucketed


@runtime_checkable
class CounterSource(Protocol):
    """The raw counters of one day and flavour (short-lived; the roll-up copies them into the aggregates)."""

    async def day(self, day: date, flavour: str) -> list[CountRow]: ...


@runtime_checkable
class AggregateStore(Protocol):
    """The aggregates per day, flavour, metric, sub-kind and region; and the stored public releases."""

    async def put_days(self, rows: Sequence[CountRow]) -> int:
        """Merge the rows in (a count never goes down: a counter that restarted cannot lower it)."""
        ...

    async def rows(
        self, flavours: Sequence[str], first: date, last: date, metrics: Sequence[str] | None = None
    ) -> list[CountRow]: ...

    async def purge_before(self, day: date) -> int: ...

    async def release(self, key: str) -> Document | None: ...

    async def keep_release(self, doc: Document) -> Document:
        """Store a public release once; a second writer gets the first one's (a figure is drawn only once)."""
        ...


@runtime_checkable
class RosterSource(Protocol):
    """The roster's blocks (staff member, role, start and end) of a flavour that overlap [start, end)."""

    async def blocks(self, flavour: str, start: datetime, end: datetime) -> list[Document]: ...
