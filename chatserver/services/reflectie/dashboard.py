"""The dashboards' figures from the aggregates of a period: reach, demand against the roster per hour of the week,
waits and answers, crisis response, moderation load and its SLA, content and market uptake. Exact figures: they
are shown only inside the backoffice, to admins of the flavours concerned."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from chatserver.domain.reflectie import (
    CATALOGUE,
    DURATION_EDGES_S,
    Bucketed,
    bucket_label,
    hour_of_week,
    local_day,
    mean_score,
    quantile,
)
from chatserver.flavours import TIMEZONE
from chatserver.i18n import N_
from chatserver.ports import Document
from chatserver.ports.reflectie import CountRow

HOURS_OF_WEEK = 168
CRISIS_SLA_S = 300  # a professional takes a held crisis message within five minutes
MODERATION_SLA_S = 86400  # a moderation item is decided within a day
# An hour of the week on an axis, "wo 20": one message per day, so each language picks its own abbreviation.
HOUR_OF_DAY = (N_("ma %s"), N_("di %s"), N_("wo %s"), N_("do %s"), N_("vr %s"), N_("za %s"), N_("zo %s"))


@dataclass(frozen=True, slots=True)
class Chart:
    """What a plot shows; the same numbers go in the table beside it."""

    key: str
    title: str
    kind: str  # "bar" or "line"
    x_labels: tuple[str, ...]
    series: tuple[tuple[str, tuple[float, ...]], ...]
    unit: str = ""


@dataclass(frozen=True, slots=True)
class Figure:
    label: str
    text: str
    previous: str = ""  # the same figure in the period before
    change: str = ""


@dataclass(slots=True)
class Section:
    key: str
    title: str
    figures: list[Figure] = field(default_factory=list)
    charts: list[Chart] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    gap_hours: list[str] = field(default_factory=list)  # hours of the week with demand and no roster ("wo 20")


def totals(rows: Sequence[CountRow]) -> dict[tuple[str, str], Bucketed]:
    """(metric, sub-kind) -> summed counts over every flavour, day and region of ``rows``."""
    out: dict[tuple[str, str], Bucketed] = {}
    for row in rows:
        out.setdefault((row.cell.metric, row.cell.variant), Bucketed()).add(row.counts)
    return out


def count(sums: Mapping[tuple[str, str], Bucketed], metric: str, variant: str | None = None) -> int:
    return sum(b.count for (m, v), b in sums.items() if m == metric and (variant is None or v == variant))


def distribution(sums: Mapping[tuple[str, str], Bucketed], metric: str) -> Bucketed:
    out = Bucketed()
    for (m, _), b in sums.items():
        if m == metric:
            out.add(b)
    return out


def median_text(metric: str, counts: Bucketed, q: float = 0.5) -> str:
    found = quantile(CATALOGUE[metric], counts.buckets, q)
    return "–" if found is None else bucket_label(CATALOGUE[metric], found)


def within(counts: Bucketed, limit_s: int) -> str:
    """The share of a duration distribution below ``limit_s`` (a bucket edge, so exact)."""
    if counts.count == 0:
        return "–"
    edge = DURATION_EDGES_S.index(limit_s)
    inside = sum(n for index, n in counts.buckets.items() if index < edge)
    return f"{round(100 * inside / counts.count)}%"


def _change(now: int, before: int) -> str:
    if before == 0:
        return N_("nieuw") if now else "–"
    return f"{(now - before) * 100 / before:+.0f}%"


def count_figure(label: str, now: int, before: int) -> Figure:
    return Figure(label, str(now), str(before), _change(now, before))


def weekly(rows: Sequence[CountRow], weeks: Sequence[str], metric: str, variant: str | None = None) -> tuple[int, ...]:
    index = {week: i for i, week in enumerate(weeks)}
    values = [0] * len(weeks)
    for row in rows:
        cell = row.cell
        if cell.metric == metric and (variant is None or cell.variant == variant) and cell.week in index:
            values[index[cell.week]] += row.counts.count
    return tuple(values)


def demand_per_hour(rows: Sequence[CountRow], weeks: int) -> tuple[float, ...]:
    """1-on-1 requests per hour of the week, averaged over the period's weeks."""
    demand = [0.0] * HOURS_OF_WEEK
    for row in rows:
        if row.cell.metric == "oneonone.requested":
            for hour, n in row.counts.hours.items():
                demand[hour_of_week(row.cell.day, hour)] += n
    return tuple(round(d / max(1, weeks), 2) for d in demand)


def capacity_per_hour(blocks: Sequence[Document], start: datetime, end: datetime, weeks: int) -> tuple[float, ...]:
    """Rostered staff per hour of the week (staff-hours in that hour), averaged over the period's weeks."""
    capacity = [0.0] * HOURS_OF_WEEK
    for block in blocks:
        begin = max(_aware(block["start_at"]), start)
        finish = min(_aware(block["end_at"]), end)
        moment = begin
        while moment < finish:
            local = moment.astimezone(TIMEZONE)
            next_hour = (local.replace(minute=0, second=0, microsecond=0) + timedelta(hours=1)).astimezone(begin.tzinfo)
            step_end = min(next_hour, finish)
            capacity[hour_of_week(local_day(moment), local.hour)] += (step_end - moment) / timedelta(hours=1)
            moment = step_end
    return tuple(round(c / max(1, weeks), 2) for c in capacity)


def _aware(value: datetime) -> datetime:
    from datetime import UTC

    return value if value.tzinfo is not None else value.replace(tzinfo=UTC)


def hour_labels() -> tuple[str, ...]:
    return tuple(HOUR_OF_DAY[h // 24] % f"{h % 24:02d}" for h in range(HOURS_OF_WEEK))


def gaps(demand: Sequence[float], capacity: Sequence[float]) -> list[str]:
    """Hours of the week with requests but nobody on the roster."""
    labels = hour_labels()
    return [labels[h] for h in range(HOURS_OF_WEEK) if demand[h] > 0 and capacity[h] <= 0]


def feedback_text(counts: Bucketed) -> str:
    mean = mean_score(counts.buckets)
    return "–" if mean is None else f"{mean:.1f}".replace(".", ",")
