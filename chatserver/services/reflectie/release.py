"""What leaves the backoffice: a metric's month as a release (per flavour and per region, suppressed so that no
total gives a small cell away), its CSV and JSON, and the public headline figures of a flavour (optionally with
noise drawn once and kept). The method is in :mod:`chatserver.domain.reflectie_privacy`."""

from __future__ import annotations

import csv
import io
from collections.abc import Hashable, Mapping, Sequence
from dataclasses import dataclass
from fractions import Fraction

from chatserver.domain import reflectie_privacy as privacy
from chatserver.domain.markt import RegionIndex, province_key
from chatserver.domain.reflectie import CATALOGUE, days_of_month
from chatserver.domain.reflectie_privacy import Status
from chatserver.i18n import N_
from chatserver.ports.reflectie import AggregateStore, CountRow


@dataclass(frozen=True, slots=True)
class ReleaseRow:
    key: str
    label: str
    level: int  # 0 the total, 1 a flavour / a province / "none chosen", 2 a GGD region or "only the province"
    value: int
    status: Status

    def shown(self, threshold: int) -> str:
        return privacy.shown_as(self.value, self.status, threshold)

    @property
    def suppressed(self) -> bool:
        return self.status != Status.SHOWN


@dataclass(frozen=True, slots=True)
class Release:
    metric: str
    variant: str
    month: str
    threshold: int
    total: ReleaseRow
    flavours: tuple[ReleaseRow, ...]
    regions: tuple[ReleaseRow, ...]

    @property
    def withheld(self) -> bool:
        return self.total.status == Status.WITHHELD

    def rows(self) -> list[tuple[str, ReleaseRow]]:
        return [("totaal", self.total), *(("smaak", r) for r in self.flavours), *(("regio", r) for r in self.regions)]

    def flavour_row(self, slug: str) -> ReleaseRow | None:
        key = privacy.flavour_key(slug)
        return next((row for row in self.flavours if row.key == key), None)


def ggd_provinces(regions: RegionIndex) -> dict[str, str]:
    """GGD region key -> province key, from the municipality list."""
    return {f"ggd:{g.ggd_code}": f"pv:{province_key(g.province)}" for g in regions.gemeenten.values()}


def split(rows: Sequence[CountRow], flavours: Sequence[str]) -> tuple[dict[str, int], dict[str, int]]:
    by_flavour = dict.fromkeys(flavours, 0)
    by_region: dict[str, int] = {}
    for row in rows:
        if row.cell.flavour in by_flavour:
            by_flavour[row.cell.flavour] += row.counts.count
            by_region[row.cell.region] = by_region.get(row.cell.region, 0) + row.counts.count
    return by_flavour, by_region


async def month_release(
    store: AggregateStore,
    flavours: Mapping[str, str],
    regions: RegionIndex,
    metric: str,
    month: str,
    variant: str = "",
    threshold: int = privacy.DEFAULT_THRESHOLD,
) -> Release:
    """One metric's month over all flavours, split per flavour and per region, suppressed."""
    if metric not in CATALOGUE:
        raise ValueError("unknown metric")
    days = days_of_month(month)
    rows = [r for r in await store.rows(list(flavours), days[0], days[-1], [metric]) if r.cell.variant == variant]
    ggds = ggd_provinces(regions)
    by_flavour, by_region = split(rows, list(flavours))
    by_region = {k: n for k, n in by_region.items() if k == "" or k in ggds or k in set(ggds.values())}
    by_region[""] = by_region.get("", 0) + sum(by_flavour.values()) - sum(by_region.values())
    values, equations = privacy.month_release(by_flavour, by_region, ggds)
    status = privacy.protect(values, equations, threshold)
    return _release(metric, variant, month, threshold, values, status, flavours, regions, ggds)


def _release(
    metric: str,
    variant: str,
    month: str,
    threshold: int,
    values: Mapping[Hashable, int],
    status: Mapping[Hashable, Status],
    flavours: Mapping[str, str],
    regions: RegionIndex,
    ggds: Mapping[str, str],
) -> Release:
    def row(key: str, label: str, level: int) -> ReleaseRow:
        return ReleaseRow(key, label, level, values[key], status[key])

    flavour_rows = tuple(row(privacy.flavour_key(slug), name, 1) for slug, name in flavours.items())
    region_rows = [row(privacy.NONE_CHOSEN, N_("Geen regio gekozen"), 1)]
    for province in sorted(set(ggds.values())):
        region_rows.append(row(privacy.region_key(province), regions.label(province), 1))
        for ggd in sorted((g for g, p in ggds.items() if p == province), key=regions.label):
            region_rows.append(row(privacy.region_key(ggd), regions.label(ggd), 2))
        region_rows.append(row(privacy.province_only_key(province), N_("Alleen de provincie gekozen"), 2))
    total = row(privacy.TOTAL, N_("Alle smaken samen"), 0)
    return Release(metric, variant, month, threshold, total, flavour_rows, tuple(region_rows))


def release_csv(release: Release, part: str = "") -> str:
    """The release as CSV (suppressed: ``< 10`` and ``×``), one line per cell; ``part`` "smaak" or "regio" only."""
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(["maand", "metriek", "soort", "indeling", "sleutel", "naam", "niveau", "waarde"])
    for kind, row in release.rows():
        if part and kind not in (part, "totaal"):
            continue
        key = row.key.split(":", 1)[1] if ":" in row.key else row.key
        writer.writerow(
            [
                release.month,
                release.metric,
                release.variant,
                kind,
                key,
                row.label,
                row.level,
                row.shown(release.threshold),
            ]
        )
    return out.getvalue()


def release_json(release: Release) -> dict[str, object]:
    return {
        "maand": release.month,
        "metriek": release.metric,
        "soort": release.variant,
        "drempel": release.threshold,
        "methode": "docs/decisions/0024-reflectietafel-privacy.md",
        "cellen": [
            {
                "indeling": kind,
                "sleutel": row.key,
                "naam": row.label,
                "niveau": row.level,
                "waarde": row.shown(release.threshold),
                "onderdrukt": row.suppressed,
            }
            for kind, row in release.rows()
        ],
    }


@dataclass(frozen=True, slots=True)
class Headline:
    """A public figure: its text (suppressed, maybe noisy) and, with noise, the 95 % bound stated beside it."""

    key: str
    label: str
    text: str
    noise: int | None = None  # ± this, 95 % of the time
    epsilon: Fraction | None = None


def suppressed_text(value: int | None, threshold: int) -> str:
    if value is None or value < threshold:
        return f"< {threshold}"
    return str(value)
