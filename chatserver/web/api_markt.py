"""The VitaliteitsMarkt's read API (v1): a flavour's catalogue with the same filters as the page, one entry, local
offers by region, the regions themselves, and a JSON export of the whole published catalogue.

A plain router (``ROUTES``); responses are closed msgspec Structs, errors RFC 9457 problem details in Dutch.
Nothing here needs an account; nothing personal is in a response (test reports show the pseudonym only).
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

import msgspec
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from chatserver.domain import markt as rules
from chatserver.domain.markt import parse_filters
from chatserver.ports.markt import Document
from chatserver.services.markt import MarktError
from chatserver.services.markt.reports import stats_of
from chatserver.web.pages.markt import markt_of
from chatserver.web.responses import services_of

PROBLEM = "application/problem+json"
CACHE = {"Cache-Control": "public, max-age=60"}


class Problem(msgspec.Struct, omit_defaults=True):
    type: str
    title: str
    status: int
    detail: str
    code: str = ""


class Scale(msgspec.Struct):
    score: int
    reason: str


class ReportSummary(msgspec.Struct):
    """What members' published test reports say together in this flavour; ``count`` is what it rests on."""

    count: int
    ease_average: float | None
    recommend_yes: int
    recommend_maybe: int
    recommend_no: int


class Link(msgspec.Struct):
    label: str
    url: str


class Local(msgspec.Struct):
    regions: list[str]
    region_names: list[str]
    opening_hours: str
    referral_needed: bool
    organisation: str
    phone: str
    email: str
    address: str


class EntrySummary(msgspec.Struct):
    slug: str
    url: str
    kind: str
    title: str
    summary: str
    needs: list[str]
    costs: list[str]
    languages: list[str]
    evidence: str
    local: bool
    reports: ReportSummary


class Entry(msgspec.Struct):
    slug: str
    url: str
    kind: str
    title: str
    summary: str
    description: str
    audience: str
    needs: list[str]
    languages: list[str]
    costs: list[str]
    cost_note: str
    platforms: list[str]
    maker: str
    quality_marks: list[str]
    mdr_class: str
    privacy: str
    privacy_url: str
    evidence: str
    evidence_note: str
    links: list[Link]
    editorial_rating: dict[str, Scale]
    reports: ReportSummary
    local: Local | None
    flavours: list[str]
    published_at: datetime | None


class Catalogue(msgspec.Struct):
    flavour: str
    count: int
    entries: list[EntrySummary]


class LocalOffers(msgspec.Struct):
    flavour: str
    region: str
    region_name: str
    entries: list[EntrySummary]


class Region(msgspec.Struct):
    key: str
    name: str
    kind: str


class Regions(msgspec.Struct):
    source: str
    regions: list[Region]


class ExportedEntry(msgspec.Struct):
    entry: Entry
    reports_per_flavour: dict[str, ReportSummary]


class Export(msgspec.Struct):
    generated_at: datetime
    count: int
    entries: list[ExportedEntry]


def problem(status: int, detail: str, code: str) -> Response:
    titles = {404: "Niet gevonden", 422: "Ongeldige invoer"}
    body = Problem(type="about:blank", title=titles.get(status, "Fout"), status=status, detail=detail, code=code)
    return Response(msgspec.json.encode(body), status_code=status, media_type=PROBLEM)


def encoded(value: Any) -> Response:
    return Response(msgspec.json.encode(value), media_type="application/json", headers=CACHE)


def report_summary(doc: Document, flavour: str) -> ReportSummary:
    stats = stats_of(doc, flavour)
    return ReportSummary(stats.count, stats.ease_average, stats.recommend_count("ja"),
                         stats.recommend_count("misschien"), stats.recommend_count("nee"))  # fmt: skip


def summary(doc: Document, flavour: str) -> EntrySummary:
    return EntrySummary(
        slug=str(doc["slug"]), url=f"/f/{flavour}/markt/{doc['slug']}", kind=str(doc["kind"]), title=str(doc["title"]),
        summary=str(doc.get("summary", "")), needs=list(doc.get("needs") or []), costs=list(doc.get("costs") or []),
        languages=list(doc.get("languages") or []), evidence=str(doc.get("evidence", "onbekend")),
        local=rules.is_local(doc), reports=report_summary(doc, flavour),
    )  # fmt: skip


def full(request: Request, doc: Document, flavour: str) -> Entry:
    regions = markt_of(request).regions
    raw_local = doc.get("local")
    local = None
    if raw_local:
        keys = list(raw_local.get("regions") or [])
        local = Local(keys, [regions.label(k) for k in keys], str(raw_local.get("opening_hours", "")),
                      bool(raw_local.get("referral")), str(raw_local.get("organisation", "")),
                      str(raw_local.get("phone", "")), str(raw_local.get("email", "")),
                      str(raw_local.get("address", "")))  # fmt: skip
    rating = {k: Scale(int(v["score"]), str(v["reason"])) for k, v in (doc.get("rating") or {}).items()}
    return Entry(
        slug=str(doc["slug"]), url=f"/f/{flavour}/markt/{doc['slug']}", kind=str(doc["kind"]), title=str(doc["title"]),
        summary=str(doc.get("summary", "")), description=str(doc.get("body", "")),
        audience=str(doc.get("audience", "")),
        needs=list(doc.get("needs") or []), languages=list(doc.get("languages") or []),
        costs=list(doc.get("costs") or []), cost_note=str(doc.get("cost_note", "")),
        platforms=list(doc.get("platforms") or []), maker=str(doc.get("maker", "")),
        quality_marks=list(doc.get("quality_marks") or []), mdr_class=str(doc.get("mdr_class", "")),
        privacy=str(doc.get("privacy_note", "")), privacy_url=str(doc.get("privacy_url", "")),
        evidence=str(doc.get("evidence", "onbekend")), evidence_note=str(doc.get("evidence_note", "")),
        links=[Link(str(x.get("label", "")), str(x.get("url", ""))) for x in doc.get("links") or []],
        editorial_rating=rating, reports=report_summary(doc, flavour), local=local,
        flavours=list(doc.get("flavours") or []), published_at=doc.get("published_at"),
    )  # fmt: skip


def flavour_slug(request: Request) -> str | None:
    slug = str(request.path_params.get("flavour", ""))
    return slug if services_of(request).catalog.get(slug) is not None else None


async def catalogue(request: Request) -> Response:
    slug = flavour_slug(request)
    if slug is None:
        return problem(404, "Deze community bestaat niet.", "not_found")
    filters = parse_filters({k: request.query_params.get(k, "") for k in request.query_params})
    found = await markt_of(request).finder.find(slug, filters, None)
    return encoded(Catalogue(slug, len(found.entries), [summary(d, slug) for d in found.entries]))


async def entry(request: Request) -> Response:
    slug = flavour_slug(request)
    if slug is None:
        return problem(404, "Deze community bestaat niet.", "not_found")
    try:
        doc = await markt_of(request).catalogue.published(slug, str(request.path_params["entry"]))
    except MarktError as exc:
        return problem(exc.status, exc.detail, exc.code)
    return encoded(full(request, doc, slug))


async def local_offers(request: Request) -> Response:
    slug = flavour_slug(request)
    if slug is None:
        return problem(404, "Deze community bestaat niet.", "not_found")
    markt = markt_of(request)
    region = markt.valid_region(request.query_params.get("regio", ""))
    if region is None:
        return problem(422, "Geef een regio: regio=pv:<provincie>, ggd:GGxxxx of gm:GMxxxx (zie /api/v1/markt/regios).",
                       "region")  # fmt: skip
    offers = await markt.finder.local(slug, region)
    return encoded(LocalOffers(slug, region, markt.regions.label(region), [summary(d, slug) for d in offers]))


async def regions(request: Request) -> Response:
    index = markt_of(request).regions
    found = [Region(f"pv:{k}", v, "provincie") for k, v in index.provinces.items()]
    found += [Region(f"ggd:{k}", v, "ggd") for k, v in index.ggd_regions.items()]
    found += [Region(f"gm:{g.code}", g.name, "gemeente") for g in index.gemeenten.values()]
    return encoded(Regions(index.source, found))


async def export(request: Request) -> Response:
    """Every published entry with its fields, editorial rating and report counts per flavour."""
    markt = markt_of(request)
    docs = await markt.store.published_all()
    out: list[ExportedEntry] = []
    for doc in docs:
        flavours = [str(f) for f in doc.get("flavours") or ()]
        if not flavours:
            continue
        out.append(ExportedEntry(full(request, doc, flavours[0]), {f: report_summary(doc, f) for f in flavours}))
    return encoded(Export(markt.now(), len(out), out))


ROUTES = [
    Route("/api/v1/markt/export", export, methods=["GET"]),
    Route("/api/v1/markt/regios", regions, methods=["GET"]),
    Route("/api/v1/markt/{flavour}/aanbod", catalogue, methods=["GET"]),
    Route("/api/v1/markt/{flavour}/aanbod/{entry}", entry, methods=["GET"]),
    Route("/api/v1/markt/{flavour}/lokaal", local_offers, methods=["GET"]),
]
