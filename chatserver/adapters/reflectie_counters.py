"""The Reflectietafel's raw counters: counted in memory, written to Redis in one pipelined round trip a second.

One hash per local day and flavour (``<prefix>refl:<day>:<flavour>``), a field per metric, sub-kind, coarse
region, hour (hourly metrics) and bucket (distributions): ``oneonone.wait||ggd:GG3406|-|4``. Nothing about a
person is part of a key, a field or a value. Each hash expires ``ttl_s`` after its last write (eight days by
default): the roll-up job copies the last days into MongoDB long before that.
"""

from __future__ import annotations

import logging
from collections import Counter as Tally
from collections.abc import Iterable
from datetime import date

from chatserver.adapters.redis_client import REDIS_ERRORS, Redis
from chatserver.clock import Clock
from chatserver.domain.markt import RegionIndex
from chatserver.domain.reflectie import (
    CATALOGUE,
    MAX_OPEN_VARIANTS,
    OTHER_VARIANT,
    Bucketed,
    Cell,
    UnknownMetric,
    bucket_of,
    check_variant,
    local_day,
    local_hour,
)
from chatserver.ports.reflectie import CountRow

log = logging.getLogger("chatserver.reflectie.counters")

COUNTER_TTL_S = 8 * 24 * 3600
FLUSH_INTERVAL_S = 1.0
MAX_PENDING_FIELDS = 100_000  # past this (Redis away for long) new counts are dropped, with one warning per flush
SEPARATOR = "|"
NONE = "-"


class RedisCounters:
    """Implements ``Counter`` (in memory, never waits) and ``CounterSource`` (reads a day back)."""

    def __init__(
        self,
        redis: Redis,
        prefix: str,
        flavours: Iterable[str],
        regions: RegionIndex,
        clock: Clock,
        ttl_s: int = COUNTER_TTL_S,
    ) -> None:
        self.redis = redis
        self.prefix = prefix
        self.flavours = frozenset(flavours)
        self.regions = regions
        self.clock = clock
        self.ttl_s = ttl_s
        self.pending: Tally[tuple[str, str, str]] = Tally()  # (day, flavour, field) -> n
        self.dropped = 0
        self._refused: set[str] = set()
        self._open_variants: dict[tuple[str, str], set[str]] = {}  # (day, metric) -> variants seen here

    def _key(self, day: str, flavour: str) -> str:
        return f"{self.prefix}refl:{day}:{flavour}"

    # --- Counter -------------------------------------------------------------------------------------------------

    def count(
        self,
        metric: str,
        flavour: str,
        *,
        region: str | None = None,
        value: float | None = None,
        variant: str | None = None,
        times: int = 1,
    ) -> None:
        if times <= 0:
            return
        try:
            field, day = self._field(metric, flavour, region, value, variant)
        except UnknownMetric as exc:
            if metric not in self._refused:  # a programming error: said once, never raised into a feature
                self._refused.add(metric)
                log.warning("reflectie count refused: %s", exc)
            return
        if len(self.pending) >= MAX_PENDING_FIELDS and (day, flavour, field) not in self.pending:
            self.dropped += times
            return
        self.pending[(day, flavour, field)] += times

    def _field(
        self, metric: str, flavour: str, region: str | None, value: float | None, variant: str | None
    ) -> tuple[str, str]:
        spec = CATALOGUE.get(metric)
        if spec is None:
            raise UnknownMetric(f"unknown metric {metric[:40]!r}")
        if flavour not in self.flavours:
            raise UnknownMetric(f"{metric}: unknown flavour")
        bucket = bucket_of(spec, value)
        sub = check_variant(spec, variant)
        now = self.clock()
        day = local_day(now).isoformat()
        if spec.open_variants:
            seen = self._open_variants.setdefault((day, metric), set())
            if sub not in seen and len(seen) >= MAX_OPEN_VARIANTS:
                sub = OTHER_VARIANT
            seen.add(sub)
        hour = f"{local_hour(now):02d}" if spec.by_hour else NONE
        coarse = self.regions.coarse(region) if region else ""
        parts = (metric, sub, coarse, hour, NONE if bucket is None else str(bucket))
        return SEPARATOR.join(parts), day

    # --- writing ---------------------------------------------------------------------------------------------------

    async def flush(self) -> int:
        """Write what was counted since the last flush in one round trip; on failure the counts wait for the next."""
        if not self.pending:
            return 0
        batch, self.pending = self.pending, Tally()
        if len(self._open_variants) > 64:  # yesterday's open sub-kinds are not needed any more
            self._open_variants.clear()
        pipe = self.redis.pipeline(transaction=False)
        touched: set[str] = set()
        for (day, flavour, field), n in batch.items():
            key = self._key(day, flavour)
            pipe.hincrby(key, field, n)
            touched.add(key)
        for key in touched:
            pipe.expire(key, self.ttl_s)
        try:
            await pipe.execute()
        except REDIS_ERRORS as exc:
            log.warning("reflectie flush failed (%s); %d counters kept for the next", type(exc).__name__, len(batch))
            batch.update(self.pending)
            self.pending = batch
            return 0
        if self.dropped:
            log.warning("reflectie counters: %d counts dropped while Redis was away", self.dropped)
            self.dropped = 0
        return len(batch)

    # --- CounterSource -------------------------------------------------------------------------------------------

    async def day(self, day: date, flavour: str) -> list[CountRow]:
        raw = await self.redis.hgetall(self._key(day.isoformat(), flavour))
        cells: dict[Cell, Bucketed] = {}
        for field, value in raw.items():
            text = field.decode() if isinstance(field, bytes) else str(field)
            parts = text.split(SEPARATOR)
            if len(parts) != 5 or parts[0] not in CATALOGUE:
                continue
            metric, variant, region, hour, bucket = parts
            n = int(value)
            counts = cells.setdefault(Cell(metric, flavour, day, variant, region), Bucketed())
            counts.count += n
            if hour != NONE:
                counts.hours[int(hour)] = counts.hours.get(int(hour), 0) + n
            if bucket != NONE:
                counts.buckets[int(bucket)] = counts.buckets.get(int(bucket), 0) + n
        return [CountRow(cell, counts) for cell, counts in cells.items()]
