"""Finding in a flavour's market: filters, sorting and word search (no ``$text``), "near you" for a chosen region,
and the shortlist of the needs questionnaire. The catalogue of a flavour is small (hundreds of entries), so the
published entries are read once per request and filtered here, by the pure rules in ``chatserver.domain.markt``."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from chatserver.domain import markt as rules
from chatserver.domain.markt import Answers, Filters, RegionIndex, Suggestion, fold
from chatserver.ports.markt import Document, MarktStore
from chatserver.services.markt.reports import stats_of


@dataclass(frozen=True, slots=True)
class Found:
    entries: list[Document]
    near: list[Document]  # local offers in the chosen region (empty without one)
    total_published: int


@dataclass(frozen=True, slots=True)
class Shortlisted:
    entry: Document
    suggestion: Suggestion


def _newest(doc: Document) -> float:
    published = doc.get("published_at")
    return published.timestamp() if isinstance(published, datetime) else 0.0


def sort_entries(entries: list[Document], filters: Filters, scores: dict[str, int], flavour: str) -> list[Document]:
    def name(doc: Document) -> str:
        return fold(str(doc.get("title", "")))

    if filters.sort == "naam":
        return sorted(entries, key=name)
    if filters.sort == "ervaringen":
        return sorted(entries, key=lambda d: (-stats_of(d, flavour).count, name(d)))
    if filters.sort == "nieuw":
        return sorted(entries, key=lambda d: (-_newest(d), name(d)))
    # relevant: most query words first, then entries with more reports, then the name
    return sorted(entries, key=lambda d: (-scores.get(str(d["_id"]), 0), -stats_of(d, flavour).count, name(d)))


class Finder:
    def __init__(self, store: MarktStore, regions: RegionIndex) -> None:
        self.store = store
        self.regions = regions

    def near(self, entries: list[Document], region: str | None) -> list[Document]:
        if not region:
            return []
        found = [e for e in entries if rules.is_local(e) and self.regions.overlap(region, (e.get("local") or {})
                                                                                   .get("regions", ()))]  # fmt: skip
        return sorted(found, key=lambda d: fold(str(d.get("title", ""))))

    async def find(self, flavour: str, filters: Filters, region: str | None) -> Found:
        published = await self.store.published_in(flavour)
        terms = rules.search_terms(filters.query)[: rules.MAX_QUERY_TERMS]
        scores: dict[str, int] = {}
        chosen: list[Document] = []
        for entry in published:
            if not rules.matches(entry, filters):
                continue
            if terms:
                score = rules.query_score(entry, terms)
                if score == 0:
                    continue
                scores[str(entry["_id"])] = score
            chosen.append(entry)
        near = self.near(published, region) if not filters.active else self.near(chosen, region)
        return Found(sort_entries(chosen, filters, scores, flavour), near, len(published))

    async def local(self, flavour: str, region: str) -> list[Document]:
        return self.near(await self.store.published_in(flavour), region)

    async def shortlist(self, flavour: str, answers: Answers, region: str | None) -> list[Shortlisted]:
        published = await self.store.published_in(flavour)
        by_id: dict[str, Any] = {str(e["_id"]): e for e in published}
        near_ids = frozenset(str(e["_id"]) for e in self.near(published, region))
        # A local offer elsewhere is no help now: only local offers near the visitor make the list.
        candidates = [e for e in published if not rules.is_local(e) or str(e["_id"]) in near_ids]
        return [Shortlisted(by_id[s.entry_id], s) for s in rules.shortlist(candidates, answers, near_ids)]
