"""The benchmark report: loss, duplicates, order and latency figures computed from raw observations.

Pure functions on plain numbers, so they can be tested on synthetic data.
Messages are identified by the sequence number their publisher put in the body
(one publisher per channel); order is judged by the server's channel offset.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any


@dataclass
class Counts:
    """Delivery figures for one or more (subscriber, channel) streams."""

    expected: int = 0
    delivered: int = 0
    lost: int = 0
    duplicates: int = 0
    out_of_order: int = 0
    unacked_delivered: int = 0

    def add(self, other: Counts) -> None:
        self.expected += other.expected
        self.delivered += other.delivered
        self.lost += other.lost
        self.duplicates += other.duplicates
        self.out_of_order += other.out_of_order
        self.unacked_delivered += other.unacked_delivered


def stream_counts(published: Iterable[int], seqs: Sequence[int], offsets: Sequence[int]) -> Counts:
    """Figures for one subscriber on one channel.

    ``published`` are the acknowledged sequence numbers the subscriber should
    have received; ``seqs`` and ``offsets`` are what it received, in arrival
    order. A message delivered twice counts once in ``delivered`` and once in
    ``duplicates``; a message whose offset is below an offset already seen is
    out of order; a delivered message whose publish was never acknowledged
    (sent just before the end) is neither expected nor lost.
    """
    expected = set(published)
    seen: set[int] = set()
    duplicates = 0
    out_of_order = 0
    unacked = 0
    highest = -math.inf
    for seq, offset in zip(seqs, offsets, strict=True):
        if seq in seen:
            duplicates += 1
            continue
        seen.add(seq)
        if offset < highest:
            out_of_order += 1
        else:
            highest = offset
        if seq not in expected:
            unacked += 1
    delivered = len(seen & expected)
    return Counts(
        expected=len(expected),
        delivered=delivered,
        lost=len(expected) - delivered,
        duplicates=duplicates,
        out_of_order=out_of_order,
        unacked_delivered=unacked,
    )


def percentile(sorted_values: Sequence[float], q: float) -> float:
    """Nearest-rank percentile (q in 0..100) of already sorted values; 0.0 when empty."""
    if not sorted_values:
        return 0.0
    if q <= 0:
        return float(sorted_values[0])
    rank = math.ceil(q / 100.0 * len(sorted_values))
    return float(sorted_values[min(rank, len(sorted_values)) - 1])


def latency_summary_ms(latencies_us: Iterable[int]) -> dict[str, float]:
    values = sorted(latencies_us)
    return {
        "p50": round(percentile(values, 50) / 1000.0, 3),
        "p90": round(percentile(values, 90) / 1000.0, 3),
        "p99": round(percentile(values, 99) / 1000.0, 3),
        "max": round(percentile(values, 100) / 1000.0, 3),
    }


def per_second(count: int, seconds: float) -> float:
    return round(count / seconds, 1) if seconds > 0 else 0.0


def us_per(cpu_seconds: float | None, count: int) -> float | None:
    if cpu_seconds is None or count <= 0:
        return None
    return round(cpu_seconds * 1e6 / count, 2)


def pct(cpu_seconds: float | None, wall_seconds: float) -> float | None:
    if cpu_seconds is None or wall_seconds <= 0:
        return None
    return round(100.0 * cpu_seconds / wall_seconds, 1)


@dataclass
class Report:
    """What ``python -m loadtest run`` writes as JSON (the field names are the contract)."""

    scenario: str
    target: str
    url: str
    rooms: int
    subscribers_per_room: int
    connections: int
    duration_s: float
    published: int
    delivered: int
    expected_deliveries: int
    lost: int
    duplicates: int
    out_of_order: int
    unacked_delivered: int
    delivered_per_s: float
    latency_ms: dict[str, float]
    server_rss_bytes: int | None
    server_cpu_pct: float | None
    server_cpu_us_per_delivery: float | None
    redis_cpu_pct: float | None
    db_cpu_pct: float | None
    loadgen_cpu_us_per_message: float | None
    loadgen_processes: int
    connect_failures: int = 0
    publish_errors: int = 0
    publishers_per_room: int = 1
    server_pids: list[int] = field(default_factory=list)
    extra: dict[str, Any] = field(default_factory=dict)
    plot: str | None = None
    notes: list[str] = field(default_factory=list)
