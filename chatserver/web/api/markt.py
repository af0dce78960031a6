"""API: the VitaliteitsMarkt, read only — a flavour's catalogue with the page's filters, one entry, local offers
by region, the regions themselves, and a JSON export of the whole published catalogue.

Its operations are rows of the API's one table (:data:`OPERATIONS`, folded into ``chatserver.web.api``), so the
routes, the 405/OPTIONS answers and ``/api/openapi.json`` come from the same declarations as the others: the
closed msgspec Structs below are the response schemas, :data:`OPERATIONS` names every query parameter with the
values it takes. A filter that is not one of those values is refused (422) rather than ignored, as the page does.
Nothing here needs an account; nothing personal is in a response (test reports are counted, never quoted).
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from datetime import datetime
from typing import Any

import msgspec
from starlette.requests import Request
from starlette.responses import Response

from chatserver.domain import markt as rules
from chatserver.domain.markt import Filters, parse_filters
from chatserver.i18n import N_
from chatserver.ports.markt import Document
from chatserver.services.markt import MarktError
from chatserver.services.markt.reports import stats_of
from chatserver.web.api.openapi import NOT_FOUND, Operation
from chatserver.web.api.problems import ApiProblem, Problem
from chatserver.web.pages.markt import markt_of
from chatserver.web.responses import services_of

CACHE = {"Cache-Control": "public, max-age=60"}
MAX_QUERY_CHARS = 200
MAX_REGION_CHARS = 40
# A region key: a municipality (CBS code), a GGD region or a province; /api/v1/markt/regios lists the known ones.
REGION_KEY = r"(?:gm:GM[0-9]{4}|ggd:GG[0-9]{4}|pv:[a-z0-9]+(?:-[a-z0-9]+)*)"
_REGION_KEY = re.compile(REGION_KEY)
# The catalogue's filters: query parameter -> the values it takes (the page's names, without its "any").
FILTERS: dict[str, Mapping[str, str]] = {
    "behoefte": rules.NEEDS,
    "soort": rules.KINDS,
    "kosten": rules.COSTS,
    "taal": rules.LANGUAGES,
    "bewijs": rules.EVIDENCE,
    "waar": {k: v for k, v in rules.WHERE.items() if k},
    "sorteer": rules.SORTS,
}


class MarktScale(msgspec.Struct):
    score: int
    reason: str


class MarktReportSummary(msgspec.Struct):
    """What members' published test reports say together in this flavour; ``count`` is what it rests on."""

    count: int
    ease_average: float | None
    recommend_yes: int
    recommend_maybe: int
    recommend_no: int


class MarktLink(msgspec.Struct):
    label: str
    url: str


class MarktLocal(msgspec.Struct):
    regions: list[str]
    region_names: list[str]
    opening_hours: str
    referral_needed: bool
    organisation: str
    phone: str
    email: str
    address: str


class MarktEntrySummary(msgspec.Struct):
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
    reports: MarktReportSummary


class MarktEntry(msgspec.Struct):
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
    links: list[MarktLink]
    editorial_rating: dict[str, MarktScale]
    reports: MarktReportSummary
    local: MarktLocal | None
    flavours: list[str]
    published_at: datetime | None


class MarktCatalogue(msgspec.Struct):
    flavour: str
    count: int
    entries: list[MarktEntrySummary]


class MarktLocalOffers(msgspec.Struct):
    flavour: str
    region: str
    region_name: str
    entries: list[MarktEntrySummary]


class MarktRegion(msgspec.Struct):
    key: str
    name: str
    kind: str


class MarktRegions(msgspec.Struct):
    source: str
    regions: list[MarktRegion]


class MarktExportedEntry(msgspec.Struct):
    entry: MarktEntry
    reports_per_flavour: dict[str, MarktReportSummary]


class MarktExport(msgspec.Struct):
    generated_at: datetime
    count: int
    entries: list[MarktExportedEntry]


def encoded(value: Any) -> Response:
    return Response(msgspec.json.encode(value), media_type="application/json", headers=CACHE)


def report_summary(doc: Document, flavour: str) -> MarktReportSummary:
    stats = stats_of(doc, flavour)
    return MarktReportSummary(stats.count, stats.ease_average, stats.recommend_count("ja"),
                              stats.recommend_count("misschien"), stats.recommend_count("nee"))  # fmt: skip


def summary(doc: Document, flavour: str) -> MarktEntrySummary:
    return MarktEntrySummary(
        slug=str(doc["slug"]), url=f"/f/{flavour}/markt/{doc['slug']}", kind=str(doc["kind"]), title=str(doc["title"]),
        summary=str(doc.get("summary", "")), needs=list(doc.get("needs") or []), costs=list(doc.get("costs") or []),
        languages=list(doc.get("languages") or []), evidence=str(doc.get("evidence", "onbekend")),
        local=rules.is_local(doc), reports=report_summary(doc, flavour),
    )  # fmt: skip


def full(request: Request, doc: Document, flavour: str) -> MarktEntry:
    regions = markt_of(request).regions
    raw_local = doc.get("local")
    local = None
    if raw_local:
        keys = list(raw_local.get("regions") or [])
        local = MarktLocal(keys, [regions.label(k) for k in keys], str(raw_local.get("opening_hours", "")),
                           bool(raw_local.get("referral")), str(raw_local.get("organisation", "")),
                           str(raw_local.get("phone", "")), str(raw_local.get("email", "")),
                           str(raw_local.get("address", "")))  # fmt: skip
    rating = {k: MarktScale(int(v["score"]), str(v["reason"])) for k, v in (doc.get("rating") or {}).items()}
    return MarktEntry(
        slug=str(doc["slug"]), url=f"/f/{flavour}/markt/{doc['slug']}", kind=str(doc["kind"]), title=str(doc["title"]),
        summary=str(doc.get("summary", "")), description=str(doc.get("body", "")),
        audience=str(doc.get("audience", "")),
        needs=list(doc.get("needs") or []), languages=list(doc.get("languages") or []),
        costs=list(doc.get("costs") or []), cost_note=str(doc.get("cost_note", "")),
        platforms=list(doc.get("platforms") or []), maker=str(doc.get("maker", "")),
        quality_marks=list(doc.get("quality_marks") or []), mdr_class=str(doc.get("mdr_class", "")),
        privacy=str(doc.get("privacy_note", "")), privacy_url=str(doc.get("privacy_url", "")),
        evidence=str(doc.get("evidence", "onbekend")), evidence_note=str(doc.get("evidence_note", "")),
        links=[MarktLink(str(x.get("label", "")), str(x.get("url", ""))) for x in doc.get("links") or []],
        editorial_rating=rating, reports=report_summary(doc, flavour), local=local,
        flavours=list(doc.get("flavours") or []), published_at=doc.get("published_at"),
    )  # fmt: skip


# --- the parameters --------------------------------------------------------------------------------------------------


def flavour_slug(request: Request) -> str:
    """The flavour of the path, or a 404 problem."""
    slug = str(request.path_params.get("flavour", ""))
    if services_of(request).catalog.get(slug) is None:
        raise ApiProblem(404, N_("Deze community bestaat niet."), "not_found")
    return slug


def single(request: Request, name: str) -> str | None:
    """A query parameter given at most once (None when absent)."""
    values = request.query_params.getlist(name)
    if len(values) > 1:
        raise ApiProblem(422, N_("Geef %s hoogstens één keer.") % name, "invalid", name)
    return values[0] if values else None


def filters_of(request: Request) -> Filters:
    """The catalogue's filters from the query; a value that is not one of a filter's values is refused."""
    params: dict[str, str] = {}
    for name, allowed in FILTERS.items():
        value = single(request, name)
        if value is None:
            continue
        if value not in allowed:
            detail = N_("Onbekende waarde voor %s. Kies uit: %s.") % (name, ", ".join(allowed))
            raise ApiProblem(422, detail, "invalid", name)
        params[name] = value
    query = single(request, "q")
    if query is not None and len(query) > MAX_QUERY_CHARS:
        raise ApiProblem(422, N_("De zoekvraag is te lang (hoogstens %d tekens).") % MAX_QUERY_CHARS, "invalid", "q")
    if query is not None:
        params["q"] = query
    return parse_filters(params)


# --- the operations --------------------------------------------------------------------------------------------------


async def catalogue(request: Request) -> Response:
    slug = flavour_slug(request)
    found = await markt_of(request).finder.find(slug, filters_of(request), None)
    return encoded(MarktCatalogue(slug, len(found.entries), [summary(d, slug) for d in found.entries]))


async def entry(request: Request) -> Response:
    slug = flavour_slug(request)
    try:
        doc = await markt_of(request).catalogue.published(slug, str(request.path_params["entry"]))
    except MarktError as exc:
        raise ApiProblem(exc.status, exc.detail, exc.code) from None
    return encoded(full(request, doc, slug))


async def local_offers(request: Request) -> Response:
    slug = flavour_slug(request)
    markt = markt_of(request)
    raw = single(request, "regio") or ""
    if len(raw) > MAX_REGION_CHARS or _REGION_KEY.fullmatch(raw) is None:
        raise ApiProblem(422, N_("Geef een regio: regio=pv:<provincie>, ggd:GGxxxx of gm:GMxxxx "
                         "(zie /api/v1/markt/regios)."), "region", "regio")  # fmt: skip
    region = markt.valid_region(raw)
    if region is None:
        raise ApiProblem(404, N_("Deze regio kennen we niet (zie /api/v1/markt/regios)."), "not_found", "regio")
    offers = await markt.finder.local(slug, region)
    return encoded(MarktLocalOffers(slug, region, markt.regions.label(region), [summary(d, slug) for d in offers]))


async def regions(request: Request) -> Response:
    index = markt_of(request).regions
    found = [MarktRegion(f"pv:{k}", v, "provincie") for k, v in index.provinces.items()]
    found += [MarktRegion(f"ggd:{k}", v, "ggd") for k, v in index.ggd_regions.items()]
    found += [MarktRegion(f"gm:{g.code}", g.name, "gemeente") for g in index.gemeenten.values()]
    return encoded(MarktRegions(index.source, found))


async def export(request: Request) -> Response:
    """Every published entry with its fields, editorial rating and report counts per flavour."""
    markt = markt_of(request)
    docs = await markt.store.published_all()
    out: list[MarktExportedEntry] = []
    for doc in docs:
        flavours = [str(f) for f in doc.get("flavours") or ()]
        if not flavours:
            continue
        out.append(MarktExportedEntry(full(request, doc, flavours[0]), {f: report_summary(doc, f) for f in flavours}))
    return encoded(MarktExport(markt.now(), len(out), out))


def _path(name: str, description: str, example: str) -> dict[str, Any]:
    return {"name": name, "in": "path", "required": True, "description": description, "schema": {"type": "string"},
            "example": example}  # fmt: skip


# The examples name what the demo catalogue (``chatserver seed-demo``) holds.
# i18n: OpenAPI parameter, for developers
FLAVOUR = _path("flavour", "De community (slug, zie /api/v1/flavours).", "psychosenet")
# i18n: OpenAPI parameter, for developers
ENTRY = _path("entry", "Het aanbod: de vaste naam uit zijn adres /f/<flavour>/markt/<entry>.", "rustpunt-app")
# i18n: OpenAPI parameter, for developers
FILTER_PARAMETERS: tuple[dict[str, Any], ...] = (
    *(
        {"name": name, "in": "query", "required": False, "schema": {"type": "string", "enum": list(allowed)}}
        for name, allowed in FILTERS.items()
    ),
    {"name": "q", "in": "query", "required": False, "description": "Zoekwoorden (titel, beschrijving, doelgroep).",
     "schema": {"type": "string", "maxLength": MAX_QUERY_CHARS}},
)  # fmt: skip
# i18n: OpenAPI parameter, for developers
REGION = {
    "name": "regio", "in": "query", "required": True,
    "description": "Een provincie, GGD-regio of gemeente, zoals /api/v1/markt/regios ze noemt.",
    "schema": {"type": "string", "pattern": f"^{REGION_KEY}$", "maxLength": MAX_REGION_CHARS}, "example": "gm:GM0014",
}  # fmt: skip

# i18n: the API's description (OpenAPI), for developers
OPERATIONS: list[Operation] = [
    Operation("GET", "/api/v1/markt/export", export, "De hele gepubliceerde VitaliteitsMarkt (JSON-export)", None,
              {200: ("Alle gepubliceerde aanbod, met de ervaringen per community", MarktExport)}),
    Operation("GET", "/api/v1/markt/regios", regions, "De regio's van de markt: provincies, GGD-regio's, gemeenten",
              None, {200: ("De regio's", MarktRegions)}),
    Operation("GET", "/api/v1/markt/{flavour}/aanbod", catalogue, "Het aanbod van een community, met filters",
              None, {200: ("Het gevonden aanbod", MarktCatalogue), 404: NOT_FOUND,
                     422: ("Onbekende filterwaarde", Problem)},
              parameters=(FLAVOUR, *FILTER_PARAMETERS)),
    Operation("GET", "/api/v1/markt/{flavour}/aanbod/{entry}", entry, "Eén aanbod met beide soorten oordeel", None,
              {200: ("Het aanbod", MarktEntry), 404: NOT_FOUND}, parameters=(FLAVOUR, ENTRY)),
    Operation("GET", "/api/v1/markt/{flavour}/lokaal", local_offers, "Lokaal aanbod in een regio", None,
              {200: ("Lokaal aanbod in en rond de regio", MarktLocalOffers), 404: NOT_FOUND,
               422: ("Geen geldige regio", Problem)},
              parameters=(FLAVOUR, REGION)),
]  # fmt: skip
