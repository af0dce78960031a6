"""Uptake of market entries in Redis: one hash per ISO week and flavour, a field per (entry, region, metric).

Aggregates only: no account, session, device or address is part of a key or a value, and the region is a GGD
region or province at its finest. Each hash expires ``ttl_s`` after its last write.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping

from chatserver.adapters.redis_client import Redis
from chatserver.ports.markt import UPTAKE_METRICS, UptakeKey, UptakeMetric, UptakeRow

UPTAKE_TTL_S = 400 * 24 * 3600  # a year of weeks and some slack for the Reflectietafel's comparisons
SEPARATOR = "|"


class RedisUptake:
    def __init__(self, redis: Redis, prefix: str, flavours: Iterable[str], ttl_s: int = UPTAKE_TTL_S) -> None:
        self.redis = redis
        self.prefix = prefix
        self.flavours = tuple(flavours)
        self.ttl_s = ttl_s

    def _key(self, week: str, flavour: str) -> str:
        return f"{self.prefix}markt:uptake:{week}:{flavour}"

    async def add(self, counts: Mapping[tuple[UptakeKey, UptakeMetric], int]) -> None:
        if not counts:
            return
        pipe = self.redis.pipeline(transaction=False)
        touched: set[str] = set()
        for (key, metric), n in counts.items():
            name = self._key(key.week, key.flavour)
            pipe.hincrby(name, SEPARATOR.join((key.entry_id, key.region or "-", metric)), int(n))
            touched.add(name)
        for name in touched:
            pipe.expire(name, self.ttl_s)
        await pipe.execute()

    async def week(self, week: str, flavour: str | None = None) -> list[UptakeRow]:
        rows: list[UptakeRow] = []
        for slug in (flavour,) if flavour else self.flavours:
            raw = await self.redis.hgetall(self._key(week, slug))
            for field, value in raw.items():
                text = field.decode() if isinstance(field, bytes) else str(field)
                entry_id, region, metric = [*text.split(SEPARATOR), "", "", ""][:3]
                if metric not in UPTAKE_METRICS:
                    continue
                rows.append(
                    UptakeRow(
                        UptakeKey(entry_id, slug, "" if region == "-" else region, week),
                        metric,
                        int(value),
                    )
                )
        return rows
