"""The Digitale Reflectietafel's rules: the metric catalogue, cell keys, bounded histograms and what they tell.

Pure: no I/O, no clock of its own. What happens on the platform is counted as *aggregates* — a number per
metric, flavour, day (local time, Europe/Amsterdam), coarse region and, for a few metrics, hour of the day —
never as a record per person. A duration (a wait, a chat, the time to a moderation decision) is not kept as a
value: it only adds one to the bucket it falls in (:data:`DURATION_EDGES_S`), so a median or percentile is read
from the bucket counts and is known to the bucket. The privacy rules for what leaves the backoffice
(suppression, noise) are in :mod:`chatserver.domain.reflectie_privacy`.
"""

from __future__ import annotations

import math
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from enum import StrEnum

from chatserver.flavours import TIMEZONE
from chatserver.i18n import N_

__all__ = [
    "CATALOGUE",
    "DURATION_EDGES_S",
    "NO_REGION",
    "Bucketed",
    "Cell",
    "Kind",
    "Metric",
    "bucket_of",
    "hour_of_week",
    "iso_week",
    "local_day",
    "month_of",
]


class Kind(StrEnum):
    COUNT = "count"  # how often
    DURATION = "duration"  # a distribution of durations in seconds, kept as bucket counts
    SCORE = "score"  # a distribution of small whole scores (feedback 1-5), one bucket per score


@dataclass(frozen=True, slots=True)
class Metric:
    name: str
    kind: Kind
    label: str  # Dutch; the pages translate it with _()
    by_hour: bool = False  # also counted per hour of the day (demand per hour of the week)
    variants: tuple[str, ...] = ()  # a closed set of sub-kinds (a source, an outcome); empty: none
    open_variants: bool = False  # sub-kinds not known in advance (a detector version), bounded by shape and number


SCORE_MAX = 5
NO_REGION = ""  # the visitor chose none
MAX_OPEN_VARIANTS = 16  # distinct open sub-kinds per metric and day; past it they count as "anders"
OTHER_VARIANT = "anders"
VARIANT_SHAPE = re.compile(r"^[a-z0-9][a-z0-9._-]{0,23}$")
PAGE_KINDS = ("start", "chat", "gesprek", "forum", "spreekuur", "artikelen", "vraagbaak", "markt", "hulp", "cijfers")
CHANNEL_KINDS = ("room", "chat", "thread", "spreekuur")
MODERATION_SOURCES = ("melding", "filter", "crisis", "voormoderatie")
MODERATION_OUTCOMES = ("goedgekeurd", "verwijderd", "opgeschaald", "sanctie")
VRAAGBAAK_ROUTES = ("beantwoord", "forum", "spreekuur", "chat", "elders")
# What a sub-kind reads as on a dashboard (the keys stay as they are counted and exported).
VARIANT_LABELS: Mapping[str, str] = {
    "start": N_("Startpagina"), "chat": N_("Chatruimtes"), "gesprek": N_("1-op-1 gesprek"), "forum": N_("Forum"),
    "spreekuur": N_("Spreekuur"), "artikelen": N_("Artikelen"), "vraagbaak": N_("VraagBaak"), "markt": N_("Markt"),
    "hulp": N_("Hulp"), "cijfers": N_("Cijfers"), "melding": N_("Melding"), "filter": N_("Filter"),
    "crisis": N_("Crisis"), "voormoderatie": N_("Voormoderatie"), "goedgekeurd": N_("Goedgekeurd"),
    "verwijderd": N_("Verwijderd"), "opgeschaald": N_("Opgeschaald"), "sanctie": N_("Sanctie"),
    "beantwoord": N_("Beantwoord"), "elders": N_("Elders"), OTHER_VARIANT: N_("Anders"),
}  # fmt: skip
CHANNEL_KIND_LABELS: Mapping[str, str] = {
    "room": N_("Chatruimtes"), "chat": N_("1-op-1 gesprek"), "thread": N_("Forum"), "spreekuur": N_("Spreekuur"),
}  # fmt: skip


# The whole catalogue: a name not in it is refused by the counter (so labels, keys and fields stay bounded).
CATALOGUE: Mapping[str, Metric] = {
    metric.name: metric
    for metric in (
        Metric("visit", Kind.COUNT, N_("Bezoeken"), variants=PAGE_KINDS),
        Metric("message", Kind.COUNT, N_("Berichten"), variants=CHANNEL_KINDS),
        Metric("oneonone.requested", Kind.COUNT, N_("Aanvragen 1-op-1 gesprek"), by_hour=True),
        Metric("oneonone.answered", Kind.COUNT, N_("Gesprekken gevoerd")),
        Metric("oneonone.abandoned", Kind.COUNT, N_("Wachtenden afgehaakt")),
        Metric("oneonone.handoff", Kind.COUNT, N_("Warme overdrachten")),
        Metric("oneonone.wait", Kind.DURATION, N_("Wachttijd tot een gesprek")),
        Metric("oneonone.abandon_wait", Kind.DURATION, N_("Wachttijd tot afhaken")),
        Metric("oneonone.duration", Kind.DURATION, N_("Duur van een gesprek")),
        Metric("oneonone.feedback", Kind.SCORE, N_("Waardering na een gesprek")),
        Metric("moderation.item", Kind.COUNT, N_("Moderatie-items"), variants=MODERATION_SOURCES),
        Metric("moderation.decision", Kind.COUNT, N_("Moderatiebesluiten"), variants=MODERATION_OUTCOMES),
        Metric("moderation.decision_time", Kind.DURATION, N_("Tijd tot een moderatiebesluit")),
        Metric("crisis.held", Kind.COUNT, N_("Crisisberichten vastgehouden"), open_variants=True),
        Metric("crisis.claim_time", Kind.DURATION, N_("Tijd tot een professional een crisis oppakt")),
        Metric("crisis.released", Kind.COUNT, N_("Crisisberichten vrijgegeven"), open_variants=True),
        Metric("crisis.confirmed", Kind.COUNT, N_("Crisis bevestigd"), open_variants=True),
        Metric("spreekuur.question", Kind.COUNT, N_("Vragen aan een spreekuur")),
        Metric("spreekuur.attendance", Kind.COUNT, N_("Bezoekers van een spreekuur")),
        Metric("vraagbaak.question", Kind.COUNT, N_("Vragen aan de VraagBaak")),
        Metric("vraagbaak.routed", Kind.COUNT, N_("VraagBaak-vragen doorgezet"), variants=VRAAGBAAK_ROUTES),
        Metric("vraagbaak.answer_time", Kind.DURATION, N_("Tijd tot een VraagBaak-antwoord")),
        Metric("forum.post", Kind.COUNT, N_("Forumberichten")),
        Metric("content.view", Kind.COUNT, N_("Artikelen gelezen")),
    )
}

# Bucket edges in seconds: bucket i holds durations in [edges[i], edges[i + 1]); the last one is open.
DURATION_EDGES_S: tuple[int, ...] = (
    0, 15, 30, 60, 120, 300, 600, 900, 1800, 3600, 7200, 14400, 28800, 86400, 259200,
)  # fmt: skip
SCORE_EDGES: tuple[int, ...] = tuple(range(1, SCORE_MAX + 1))


class UnknownMetric(ValueError):
    """A metric name, sub-kind or value the catalogue does not allow."""


def edges_of(metric: Metric) -> tuple[int, ...]:
    return SCORE_EDGES if metric.kind == Kind.SCORE else DURATION_EDGES_S


def bucket_of(metric: Metric, value: float | None) -> int | None:
    """The bucket a value falls in (None for a count); raises :class:`UnknownMetric` for a value that does not fit."""
    if metric.kind == Kind.COUNT:
        if value is not None:
            raise UnknownMetric(f"{metric.name} counts; it takes no value")
        return None
    if value is None or not math.isfinite(value) or value < 0:
        raise UnknownMetric(f"{metric.name} needs a value of at least 0")
    if metric.kind == Kind.SCORE:
        score = round(value)
        if not 1 <= score <= SCORE_MAX:
            raise UnknownMetric(f"{metric.name}: a score is 1 to {SCORE_MAX}")
        return score - 1
    edges = DURATION_EDGES_S
    low, high = 0, len(edges) - 1
    while low < high:  # the last edge not above the value
        mid = (low + high + 1) // 2
        if edges[mid] <= value:
            low = mid
        else:
            high = mid - 1
    return low


def check_variant(metric: Metric, variant: str | None) -> str:
    """The sub-kind as counted: one of the closed set, or for open sets a short token (else "anders")."""
    if metric.variants:
        if variant not in metric.variants:
            raise UnknownMetric(f"{metric.name}: sub-kind must be one of {', '.join(metric.variants)}")
        return variant
    if metric.open_variants:
        return variant if variant is not None and VARIANT_SHAPE.match(variant) else OTHER_VARIANT
    if variant is not None:
        raise UnknownMetric(f"{metric.name} has no sub-kinds")
    return ""


# --- what a feature's event counts as -----------------------------------------------------------------------------

# A moderation item's source and a decision's kind (the ``moderation`` package's names) as the catalogue counts them.
MODERATION_SOURCE_OF: Mapping[str, str] = {
    "report": "melding", "rule": "filter", "premoderation": "voormoderatie", "crisis": "crisis",
    "spreekuur_question": "voormoderatie",  # every spreekuur question waits for a moderator
}  # fmt: skip
MODERATION_OUTCOME_OF: Mapping[str, str] = {
    "approve": "goedgekeurd", "release": "goedgekeurd",
    "reject": "verwijderd", "hide": "verwijderd", "redact": "verwijderd",  # redact: the offending part removed
    "warn": "sanctie", "mute": "sanctie", "ban": "sanctie",
    "escalate": "opgeschaald",
}  # fmt: skip
_NOT_A_TOKEN = re.compile(r"[^a-z0-9._-]+")


def open_variant(label: str) -> str:
    """A free label as an open sub-kind token: ``rules-2+lr-fbbb9204`` → ``rules-2.lr-fbbb9204`` (else "anders")."""
    token = _NOT_A_TOKEN.sub(".", label.lower()).strip("._-")[:24]
    return token if VARIANT_SHAPE.match(token) else OTHER_VARIANT


def page_kind(rest: str) -> str | None:
    """The kind of a flavour page from its path after ``/f/<slug>/`` (None: a page that is not counted)."""
    section, _, inner = rest.partition("/")
    if not section:
        return "start"
    if section == "chat" and inner.startswith("gesprek"):
        return "gesprek"
    return section if section in PAGE_KINDS and section not in ("start", "gesprek") else None


def vraagbaak_route(link: str) -> str:
    """Where a VraagBaak question was sent, by the link it got: a forum thread, a spreekuur, the chat or elsewhere."""
    parts = link.split("?", 1)[0].split("/")
    section = parts[3] if link.startswith("/f/") and len(parts) > 3 else ""
    return section if section in ("forum", "spreekuur", "chat") else "elders"


# --- time cells ---------------------------------------------------------------------------------------------------


def local_day(moment: datetime) -> date:
    """The calendar day in the Netherlands (the day a count belongs to)."""
    return moment.astimezone(TIMEZONE).date()


def local_hour(moment: datetime) -> int:
    return moment.astimezone(TIMEZONE).hour


def iso_week(day: date) -> str:
    """``2030-W02``."""
    year, week, _ = day.isocalendar()
    return f"{year}-W{week:02d}"


def month_of(day: date) -> str:
    """``2030-01``."""
    return f"{day.year:04d}-{day.month:02d}"


def hour_of_week(day: date, hour: int) -> int:
    """0 (Monday 00:00-01:00) to 167 (Sunday 23:00-24:00)."""
    return day.weekday() * 24 + hour


def days_of_week(week: str) -> list[date]:
    """The seven days of an ISO week ``YYYY-Www``; raises ValueError for a malformed week."""
    match = re.fullmatch(r"(\d{4})-W(\d{2})", week)
    if match is None:
        raise ValueError(f"not an ISO week: {week!r}")
    monday = date.fromisocalendar(int(match[1]), int(match[2]), 1)
    return [monday + timedelta(days=i) for i in range(7)]


def days_of_month(month: str) -> list[date]:
    """The days of ``YYYY-MM``; raises ValueError for a malformed month."""
    match = re.fullmatch(r"(\d{4})-(\d{2})", month)
    if match is None or not 1 <= int(match[2]) <= 12:
        raise ValueError(f"not a month: {month!r}")
    first = date(int(match[1]), int(match[2]), 1)
    following = date(first.year + first.month // 12, first.month % 12 + 1, 1)
    return [first + timedelta(days=i) for i in range((following - first).days)]


def previous_month(month: str) -> str:
    first = days_of_month(month)[0]
    return month_of(first - timedelta(days=1))


def previous_week(week: str) -> str:
    return iso_week(days_of_week(week)[0] - timedelta(days=7))


# --- cells and distributions --------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Cell:
    """Where a count belongs: never who."""

    metric: str
    flavour: str
    day: date
    variant: str = ""
    region: str = NO_REGION  # a GGD region (ggd:GG3406) or province (pv:utrecht), or none

    @property
    def week(self) -> str:
        return iso_week(self.day)

    @property
    def month(self) -> str:
        return month_of(self.day)


@dataclass(slots=True)
class Bucketed:
    """The counts of one cell: how many, and for distributions the bucket counts; hours for hourly metrics."""

    count: int = 0
    buckets: dict[int, int] = field(default_factory=dict)
    hours: dict[int, int] = field(default_factory=dict)

    def add(self, other: Bucketed) -> None:
        self.count += other.count
        for key, n in other.buckets.items():
            self.buckets[key] = self.buckets.get(key, 0) + n
        for key, n in other.hours.items():
            self.hours[key] = self.hours.get(key, 0) + n


@dataclass(frozen=True, slots=True)
class Quantile:
    """A quantile read from bucket counts: the bucket it lies in and an estimate inside it (linear)."""

    low: float
    high: float | None  # None: the open last bucket
    estimate: float


def quantile(metric: Metric, buckets: Mapping[int, int], q: float) -> Quantile | None:
    """The ``q``-quantile (nearest rank) of the distribution in ``buckets``; None without observations.

    For a duration the bucket is certain and the estimate interpolates linearly inside it; for a score the
    bucket is the score itself."""
    if not 0 < q <= 1:
        raise ValueError("q must lie in (0, 1]")
    total = sum(n for n in buckets.values() if n > 0)
    if total == 0:
        return None
    rank = max(1, math.ceil(q * total))
    edges = edges_of(metric)
    seen = 0
    for index in range(len(edges)):
        n = max(0, buckets.get(index, 0))
        if seen + n >= rank:
            low = float(edges[index])
            if metric.kind == Kind.SCORE:
                return Quantile(low, low, low)
            high = float(edges[index + 1]) if index + 1 < len(edges) else None
            inside = (rank - seen - 0.5) / n
            estimate = low if high is None else low + (high - low) * inside
            return Quantile(low, high, estimate)
        seen += n
    return None  # unreachable: the ranks add up


def mean_score(buckets: Mapping[int, int]) -> float | None:
    total = sum(buckets.values())
    if total <= 0:
        return None
    return sum((index + 1) * n for index, n in buckets.items()) / total


def variant_label(metric: str, variant: str) -> str:
    """The Dutch label of a sub-kind of ``metric`` (a message's sub-kind is its channel kind); else the key."""
    labels = CHANNEL_KIND_LABELS if metric == "message" else VARIANT_LABELS
    return labels.get(variant, variant)


def duration_label(seconds: float | None) -> str:
    """A short Dutch duration: ``45 s``, ``12 min``, ``1 uur``, ``3,5 uur``, ``1 dag``, ``2 dagen``."""
    if seconds is None:
        return N_("meer")
    if seconds < 60:
        return f"{seconds:.0f} s"
    if seconds < 3600:
        return f"{seconds / 60:.0f} min"
    if seconds < 86400:
        hours = seconds / 3600
        shown = f"{hours:.0f}" if hours >= 10 or hours == int(hours) else f"{hours:.1f}".replace(".", ",")
        return N_("1 uur") if shown == "1" else N_("%s uur") % shown
    days = f"{seconds / 86400:.0f}"
    return N_("1 dag") if days == "1" else N_("%s dagen") % days


def bucket_label(metric: Metric, quantile_: Quantile) -> str:
    """``2-5 min`` for the bucket a quantile lies in; a score as itself."""
    if metric.kind == Kind.SCORE:
        return f"{quantile_.low:.0f}"
    if quantile_.high is None:
        return N_("meer dan %s") % duration_label(quantile_.low)
    # Translators: a range of two durations, "2 uur – 4 uur"; each is translated as its own message.
    return N_("%s – %s") % (duration_label(quantile_.low), duration_label(quantile_.high))


def sum_cells(rows: Sequence[tuple[Cell, Bucketed]]) -> Bucketed:
    total = Bucketed()
    for _, counts in rows:
        total.add(counts)
    return total
