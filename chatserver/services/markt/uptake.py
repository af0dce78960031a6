"""Uptake without tracking people: views, outbound clicks, shortlist places and cards sent in a 1-on-1 chat,
counted per entry, flavour, coarse region and ISO week, in memory first and written in batches by a job. Nothing
about the visitor is kept but the GGD region or province they chose themselves (a municipality is counted as its
GGD region); a card carries no region."""

from __future__ import annotations

import logging
from collections import Counter

from chatserver.clock import Clock
from chatserver.domain.markt import RegionIndex, iso_week
from chatserver.ports.markt import UptakeCounter, UptakeKey, UptakeMetric, UptakeReader, UptakeRow

log = logging.getLogger("chatserver.markt.uptake")

FLUSH_INTERVAL_S = 30.0
MAX_PENDING_KEYS = 50_000  # past this the oldest are written at once rather than held


class Uptake:
    def __init__(self, counter: UptakeCounter, reader: UptakeReader, regions: RegionIndex, clock: Clock) -> None:
        self.counter = counter
        self.reader = reader
        self.regions = regions
        self.clock = clock
        self.pending: Counter[tuple[UptakeKey, UptakeMetric]] = Counter()

    def count(self, entry_id: str, flavour: str, region: str | None, metric: UptakeMetric, n: int = 1) -> None:
        """Remember one event; never fails, never waits."""
        key = UptakeKey(entry_id, flavour, self.regions.coarse(region or ""), iso_week(self.clock().date()))
        self.pending[(key, metric)] += n

    @property
    def overfull(self) -> bool:
        return len(self.pending) >= MAX_PENDING_KEYS

    async def flush(self) -> int:
        """Write what was counted since the last flush in one batch; on failure the counts are kept for the next."""
        if not self.pending:
            return 0
        batch, self.pending = self.pending, Counter()
        try:
            await self.counter.add(batch)
        except Exception as exc:
            log.warning("uptake flush failed (%s); %d counters kept for the next try", type(exc).__name__, len(batch))
            batch.update(self.pending)
            self.pending = batch
            return 0
        return len(batch)

    async def week(self, week: str, flavour: str | None = None) -> list[UptakeRow]:
        """The port the Reflectietafel reads: aggregates of one ISO week."""
        return await self.reader.week(week, flavour)
