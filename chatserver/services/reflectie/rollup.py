"""The roll-up: the last days' raw counters copied into the stored aggregates; retention of the aggregates."""

from __future__ import annotations

import logging
from collections.abc import Sequence
from datetime import timedelta

from chatserver.clock import Clock
from chatserver.domain.reflectie import local_day
from chatserver.ports.reflectie import AggregateStore, CounterSource

log = logging.getLogger("chatserver.reflectie.rollup")

ROLLUP_INTERVAL_S = 300.0
ROLLUP_DAYS = 3  # today and the two days before: a day's counters are final well within their eight days


class RollUp:
    def __init__(
        self,
        source: CounterSource,
        store: AggregateStore,
        flavours: Sequence[str],
        clock: Clock,
        retention_days: int,
    ) -> None:
        self.source = source
        self.store = store
        self.flavours = tuple(flavours)
        self.clock = clock
        self.retention_days = retention_days

    async def run_once(self) -> int:
        """Copy the counters of the last days into the aggregates (idempotent: counts are merged by maximum)."""
        today = local_day(self.clock())
        written = 0
        for back in range(ROLLUP_DAYS):
            day = today - timedelta(days=back)
            for flavour in self.flavours:
                written += await self.store.put_days(await self.source.day(day, flavour))
        return written

    async def purge_once(self) -> int:
        """Remove aggregates older than the retention (``CHATSERVER_REFLECTIE_RETENTION_DAYS``)."""
        cutoff = local_day(self.clock()) - timedelta(days=self.retention_days)
        removed = await self.store.purge_before(cutoff)
        if removed:
            log.info("reflectie retention removed %d day aggregates", removed)
        return removed

    async def run(self) -> None:
        """The leader-elected job: roll up, then apply the retention."""
        await self.run_once()
        await self.purge_once()
