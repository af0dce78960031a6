"""The Reflectietafel's service: the roll-up job, the dashboards (exact, backoffice only), the releases
(suppressed) and the public headline figures of a flavour (suppressed, optionally with noise drawn once)."""

from __future__ import annotations

import random
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, time, timedelta
from fractions import Fraction

from chatserver.clock import Clock
from chatserver.domain import reflectie_privacy as privacy
from chatserver.domain.markt import RegionIndex
from chatserver.domain.reflectie import (
    CATALOGUE,
    DURATION_EDGES_S,
    MODERATION_OUTCOMES,
    MODERATION_SOURCES,
    PAGE_KINDS,
    Bucketed,
    bucket_label,
    days_of_month,
    days_of_week,
    iso_week,
    local_day,
    month_of,
    previous_month,
    quantile,
    variant_label,
)
from chatserver.flavours import TIMEZONE
from chatserver.i18n import N_
from chatserver.ports.markt import UptakeReader
from chatserver.ports.reflectie import AggregateStore, CounterSource, CountRow, RosterSource
from chatserver.services.reflectie import dashboard as d
from chatserver.services.reflectie.release import Headline, Release, month_release
from chatserver.services.reflectie.rollup import RollUp

DEFAULT_WEEKS = 8
MAX_WEEKS = 53
HEADLINES = ("oneonone.answered", "visit", "oneonone.wait")  # the public page's figures, in this order
HEADLINE_LABELS = {
    "oneonone.answered": N_("Gesprekken gevoerd"),
    "visit": N_("Bezoeken"),
    "oneonone.wait": N_("Wachttijd tot een gesprek (mediaan)"),
}


@dataclass(frozen=True, slots=True)
class ReflectieSettings:
    retention_days: int = 730
    threshold: int = privacy.DEFAULT_THRESHOLD
    epsilon: Fraction | None = None  # a flavour's budget per month for the public page; None: no noise


class ReflectieService:
    def __init__(
        self,
        *,
        source: CounterSource,
        store: AggregateStore,
        roster: RosterSource,
        uptake: UptakeReader,
        flavours: Mapping[str, str],
        regions: RegionIndex,
        clock: Clock,
        settings: ReflectieSettings | None = None,
        rng: privacy.RandomSource | None = None,
    ) -> None:
        self.settings = settings or ReflectieSettings()
        self.store = store
        self.roster = roster
        self.uptake = uptake
        self.flavours = dict(flavours)
        self.regions = regions
        self.clock = clock
        self.rng: privacy.RandomSource = rng or random.SystemRandom()
        self.rollup = RollUp(source, store, list(self.flavours), clock, self.settings.retention_days)

    # --- periods ---------------------------------------------------------------------------------------------------

    def weeks_ending(self, last: str | None = None, count: int = DEFAULT_WEEKS) -> list[str]:
        """``count`` ISO weeks ending with ``last`` (default: this week); raises ValueError for a bad week."""
        end = days_of_week(last)[0] if last else days_of_week(iso_week(local_day(self.clock())))[0]
        count = max(1, min(count, MAX_WEEKS))
        return [iso_week(end - timedelta(weeks=back)) for back in range(count - 1, -1, -1)]

    def last_complete_month(self) -> str:
        return previous_month(month_of(local_day(self.clock())))

    # --- the dashboards (exact) ----------------------------------------------------------------------------------

    async def _rows(self, flavours: Sequence[str], weeks: Sequence[str]) -> list[CountRow]:
        first, last = days_of_week(weeks[0])[0], days_of_week(weeks[-1])[-1]
        return await self.store.rows(list(flavours), first, last)

    async def dashboard(self, flavours: Sequence[str], weeks: Sequence[str]) -> list[d.Section]:
        """Every section for ``flavours`` over ``weeks``, each figure beside the same-length period before."""
        before = [iso_week(days_of_week(weeks[0])[0] - timedelta(weeks=len(weeks) - i)) for i in range(len(weeks))]
        rows = await self._rows(flavours, weeks)
        now, prev = d.totals(rows), d.totals(await self._rows(flavours, before))
        return [
            _reach(rows, now, prev, weeks),
            await self._demand(rows, flavours, weeks),
            _waits(rows, now, prev, weeks),
            _crisis(now, prev),
            _moderation(now, prev),
            await self._uptake(rows, now, prev, flavours, weeks),
        ]

    async def _demand(self, rows: Sequence[CountRow], flavours: Sequence[str], weeks: Sequence[str]) -> d.Section:
        start = datetime.combine(days_of_week(weeks[0])[0], time(), TIMEZONE)
        end = datetime.combine(days_of_week(weeks[-1])[-1] + timedelta(days=1), time(), TIMEZONE)
        blocks = [b for flavour in flavours for b in await self.roster.blocks(flavour, start, end)]
        demand = d.demand_per_hour(rows, len(weeks))
        capacity = d.capacity_per_hour(blocks, start, end, len(weeks))
        section = d.Section("vraag", N_("Vraag en bezetting per uur van de week"))
        section.charts.append(
            d.Chart(
                "vraag-bezetting",
                N_("Aanvragen 1-op-1 en ingeroosterde medewerkers per uur (gemiddelde week)"),
                "line",
                d.hour_labels(),
                ((N_("Aanvragen"), demand), (N_("Ingeroosterd"), capacity)),
            )
        )
        open_gaps = d.gaps(demand, capacity)
        section.figures.append(d.Figure(N_("Uren met vraag maar zonder rooster"), str(len(open_gaps))))
        section.gap_hours = open_gaps[:24]
        return section

    async def _uptake(
        self,
        rows: Sequence[CountRow],
        now: Mapping[tuple[str, str], Bucketed],
        prev: Mapping[tuple[str, str], Bucketed],
        flavours: Sequence[str],
        weeks: Sequence[str],
    ) -> d.Section:
        section = d.Section("inhoud", N_("Inhoud en VitaliteitsMarkt"))
        for metric in (
            "content.view",
            "forum.post",
            "spreekuur.question",
            "spreekuur.attendance",
            "vraagbaak.question",
        ):
            section.figures.append(d.count_figure(CATALOGUE[metric].label, d.count(now, metric), d.count(prev, metric)))
        market: dict[str, list[float]] = {"view": [], "click": [], "shortlist": [], "card": []}
        for week in weeks:
            found = dict.fromkeys(market, 0)
            for flavour in flavours:
                for row in await self.uptake.week(week, flavour):
                    found[row.metric] += row.count
            for metric, n in found.items():
                market[metric].append(n)
        section.charts.append(
            d.Chart(
                "inhoud",
                N_("Artikelen gelezen per week"),
                "bar",
                tuple(weeks),
                ((N_("Gelezen"), d.weekly(rows, weeks, "content.view")),),
            )
        )
        labels = {
            "view": N_("Bekeken"),
            "click": N_("Doorgeklikt"),
            "shortlist": N_("Bewaard"),
            "card": N_("Gedeeld in een 1-op-1 gesprek"),
        }
        section.charts.append(
            d.Chart(
                "markt",
                N_("VitaliteitsMarkt per week"),
                "line",
                tuple(weeks),
                tuple((labels[m], tuple(v)) for m, v in market.items()),
            )
        )
        return section

    # --- what leaves the backoffice --------------------------------------------------------------------------

    async def release(self, metric: str, month: str, variant: str = "") -> Release:
        """A metric's month per flavour and per region, suppressed (raises ValueError for a bad metric/month)."""
        return await month_release(
            self.store, self.flavours, self.regions, metric, month, variant, self.settings.threshold
        )

    async def headlines(self, flavour: str, month: str) -> list[Headline]:
        """The public figures of a flavour's month: suppressed like the releases, with noise when a budget is set."""
        epsilon = self.settings.epsilon
        share = privacy.share_of_budget(epsilon, len(HEADLINES)) if epsilon is not None else None
        days = days_of_month(month)
        sums = d.totals(await self.store.rows([flavour], days[0], days[-1], list(HEADLINES)))
        out = []
        for metric in HEADLINES:
            text = await self._headline_text(flavour, month, metric, sums, share)
            bound = privacy.noise_bound(share) if share is not None else None
            out.append(Headline(metric, HEADLINE_LABELS[metric], text, bound, share))
        return out

    async def _headline_text(
        self,
        flavour: str,
        month: str,
        metric: str,
        sums: Mapping[tuple[str, str], Bucketed],
        share: Fraction | None,
    ) -> str:
        threshold = self.settings.threshold
        counts = d.distribution(sums, metric)
        spec = CATALOGUE[metric]
        if share is None:
            if counts.count < threshold:
                return f"< {threshold}"
            return str(counts.count) if spec.kind == "count" else d.median_text(metric, counts)
        key = f"{flavour}|{month}|{metric}|{share}"
        stored = await self.store.release(key)
        if stored is None:
            size = len(DURATION_EDGES_S)
            drawn = {
                "_id": key,
                "count": privacy.noisy_count(counts.count, share, self.rng),
                "buckets": {str(i): n for i, n in privacy.noisy_buckets(counts.buckets, size, share, self.rng).items()},
            }
            stored = await self.store.keep_release(drawn)
        noisy = int(stored["count"])
        if noisy < threshold:
            return f"< {threshold}"
        if spec.kind == "count":
            return str(noisy)
        buckets = {int(k): int(v) for k, v in stored["buckets"].items()}
        found = quantile(spec, buckets, 0.5)
        return "–" if found is None else bucket_label(spec, found)


# --- sections from the sums (module functions: no I/O) ------------------------------------------------------------


def _labels(metric: str, variants: Sequence[str]) -> tuple[str, ...]:
    return tuple(variant_label(metric, v) for v in variants)


def _reach(
    rows: Sequence[CountRow],
    now: Mapping[tuple[str, str], Bucketed],
    prev: Mapping[tuple[str, str], Bucketed],
    weeks: Sequence[str],
) -> d.Section:
    section = d.Section("bereik", N_("Bereik"))
    section.figures.append(d.count_figure(N_("Bezoeken"), d.count(now, "visit"), d.count(prev, "visit")))
    section.figures.append(d.count_figure(N_("Berichten"), d.count(now, "message"), d.count(prev, "message")))
    section.charts.append(
        d.Chart(
            "bezoeken",
            N_("Bezoeken per week"),
            "bar",
            tuple(weeks),
            ((N_("Bezoeken"), d.weekly(rows, weeks, "visit")),),
        )
    )
    per_kind = tuple(float(d.count(now, "visit", kind)) for kind in PAGE_KINDS)
    section.charts.append(
        d.Chart(
            "paginas",
            N_("Bezoeken per soort pagina"),
            "bar",
            _labels("visit", PAGE_KINDS),
            ((N_("Bezoeken"), per_kind),),
        )
    )
    return section


def _waits(
    rows: Sequence[CountRow],
    now: Mapping[tuple[str, str], Bucketed],
    prev: Mapping[tuple[str, str], Bucketed],
    weeks: Sequence[str],
) -> d.Section:
    section = d.Section("wachten", N_("Wachten en antwoorden"))
    for metric in ("oneonone.requested", "oneonone.answered", "oneonone.abandoned", "oneonone.handoff"):
        section.figures.append(d.count_figure(CATALOGUE[metric].label, d.count(now, metric), d.count(prev, metric)))
    for metric in ("oneonone.wait", "oneonone.duration", "vraagbaak.answer_time"):
        label = CATALOGUE[metric].label
        now_d, prev_d = d.distribution(now, metric), d.distribution(prev, metric)
        section.figures.append(
            d.Figure(N_("%s (mediaan)") % label, d.median_text(metric, now_d), d.median_text(metric, prev_d))
        )
        section.figures.append(
            d.Figure(
                N_("%s (90e percentiel)") % label, d.median_text(metric, now_d, 0.9), d.median_text(metric, prev_d, 0.9)
            )
        )
    feedback = d.distribution(now, "oneonone.feedback")
    section.figures.append(
        d.Figure(
            N_("Waardering (gemiddeld, 1-5)"),
            d.feedback_text(feedback),
            d.feedback_text(d.distribution(prev, "oneonone.feedback")),
        )
    )
    series = (
        (N_("Aanvragen"), d.weekly(rows, weeks, "oneonone.requested")),
        (N_("Gevoerd"), d.weekly(rows, weeks, "oneonone.answered")),
        (N_("Afgehaakt"), d.weekly(rows, weeks, "oneonone.abandoned")),
    )
    section.charts.append(d.Chart("gesprekken", N_("1-op-1 gesprekken per week"), "line", tuple(weeks), series))
    return section


def _crisis(now: Mapping[tuple[str, str], Bucketed], prev: Mapping[tuple[str, str], Bucketed]) -> d.Section:
    section = d.Section("crisis", N_("Crisisrespons"))
    section.figures.append(
        d.count_figure(N_("Crisisberichten vastgehouden"), d.count(now, "crisis.held"), d.count(prev, "crisis.held"))
    )
    claim, claim_prev = d.distribution(now, "crisis.claim_time"), d.distribution(prev, "crisis.claim_time")
    section.figures.append(
        d.Figure(
            N_("Tijd tot oppakken (mediaan)"),
            d.median_text("crisis.claim_time", claim),
            d.median_text("crisis.claim_time", claim_prev),
        )
    )
    section.figures.append(
        d.Figure(N_("Binnen 5 minuten opgepakt"), d.within(claim, d.CRISIS_SLA_S), d.within(claim_prev, d.CRISIS_SLA_S))
    )
    versions = sorted({v for (m, v) in now if m in ("crisis.released", "crisis.confirmed", "crisis.held") and v})
    if versions:
        series = (
            (N_("Vrijgegeven"), tuple(float(d.count(now, "crisis.released", v)) for v in versions)),
            (N_("Bevestigd"), tuple(float(d.count(now, "crisis.confirmed", v)) for v in versions)),
        )
        section.charts.append(
            d.Chart("detector", N_("Vrijgegeven en bevestigd per detectorversie"), "bar", tuple(versions), series)
        )
    return section


def _moderation(now: Mapping[tuple[str, str], Bucketed], prev: Mapping[tuple[str, str], Bucketed]) -> d.Section:
    section = d.Section("moderatie", N_("Moderatie: werklast en termijn"))
    section.figures.append(
        d.count_figure(N_("Moderatie-items"), d.count(now, "moderation.item"), d.count(prev, "moderation.item"))
    )
    decided, decided_prev = (
        d.distribution(now, "moderation.decision_time"),
        d.distribution(prev, "moderation.decision_time"),
    )
    section.figures.append(
        d.Figure(
            N_("Tijd tot besluit (mediaan)"),
            d.median_text("moderation.decision_time", decided),
            d.median_text("moderation.decision_time", decided_prev),
        )
    )
    section.figures.append(
        d.Figure(
            N_("Binnen 24 uur besloten"),
            d.within(decided, d.MODERATION_SLA_S),
            d.within(decided_prev, d.MODERATION_SLA_S),
        )
    )
    sources = tuple(float(d.count(now, "moderation.item", s)) for s in MODERATION_SOURCES)
    outcomes = tuple(float(d.count(now, "moderation.decision", o)) for o in MODERATION_OUTCOMES)
    section.charts.append(
        d.Chart(
            "bronnen",
            N_("Moderatie-items per bron"),
            "bar",
            _labels("moderation.item", MODERATION_SOURCES),
            ((N_("Items"), sources),),
        )
    )
    section.charts.append(
        d.Chart(
            "uitkomsten",
            N_("Besluiten per uitkomst"),
            "bar",
            _labels("moderation.decision", MODERATION_OUTCOMES),
            ((N_("Besluiten"), outcomes),),
        )
    )
    return section
