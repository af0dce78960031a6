"""The Digitale Reflectietafel's pages: the dashboards in the backoffice, the monthly releases with their CSV and
JSON exports, the regional view, and the public figures of a flavour.

Who sees what: admins see the exact dashboards (weeks, hours, medians) of every flavour; professionals and
editors see the releases, which are suppressed (docs/decisions/0024) like everything that leaves the backoffice:
exports, the public page ``/f/<slug>/cijfers/`` and the API. Everyone else gets "not found".
"""

from __future__ import annotations

import json
from datetime import date
from typing import Any

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from chatserver.domain.identity import Actor
from chatserver.domain.reflectie import CATALOGUE, Kind, month_of, previous_month
from chatserver.services.reflectie import ReflectieService, Release
from chatserver.services.reflectie.dashboard import Chart
from chatserver.services.reflectie.release import release_csv, release_json
from chatserver.web import svgplot
from chatserver.web.pages.site import flavour_of
from chatserver.web.responses import PRIVATE_HEADERS, actor_of, not_found, page, services_of, staff_login, text_for

BASE = "/backoffice/reflectie"
RELEASE_ROLES = frozenset({"admin", "professional", "editor"})
COUNT_METRICS = tuple(name for name, m in CATALOGUE.items() if m.kind != Kind.SCORE)


def reflectie_of(request: Request) -> ReflectieService:
    found: ReflectieService = services_of(request).reflectie
    return found


def may_see_releases(actor: Actor | None) -> bool:
    return actor is not None and actor.is_staff and actor.role in RELEASE_ROLES


def chart_view(request: Request, chart: Chart) -> dict[str, Any]:
    """The chart laid out with its category labels in the reader's language (their length decides whether they
    are turned), and the rows of the table beside it."""
    labels = [text_for(request, label) for label in chart.x_labels]
    plot = svgplot.layout(chart.kind, chart.title, labels, chart.series, f"chart-{chart.key}")
    rows = [
        (label, [values[i] for _, values in chart.series])
        for i, label in enumerate(labels)
        if len(labels) < 100 or any(values[i] for _, values in chart.series)
    ]
    return {"c": chart, "plot": plot, "rows": rows}


async def dashboard(request: Request) -> Response:
    actor = actor_of(request)
    if actor is None:
        return staff_login(request)
    if not actor.is_admin:
        if may_see_releases(actor):
            return await release_page(request)
        return not_found(request, private=True)
    service = reflectie_of(request)
    chosen = request.query_params.get("smaak", "")
    if chosen and chosen not in service.flavours:
        return not_found(request, private=True)
    try:
        count = int(request.query_params.get("weken", "8") or 8)
        weeks = service.weeks_ending(request.query_params.get("tot") or None, count)
    except ValueError:
        return not_found(request, private=True)
    flavours = [chosen] if chosen else list(service.flavours)
    sections = await service.dashboard(flavours, weeks)
    views = [{"s": s, "charts": [chart_view(request, c) for c in s.charts]} for s in sections]
    return page(request, "pages/backoffice/reflectie_dashboard.html", {
        "board": views, "weeks": weeks, "chosen": chosen, "flavour_names": service.flavours,
        "count": len(weeks), "month": service.last_complete_month(),
    }, private=True)  # fmt: skip


def _release_params(request: Request, service: ReflectieService) -> tuple[str, str, str] | None:
    metric = request.query_params.get("metriek", "oneonone.answered")
    month = request.query_params.get("maand", "") or service.last_complete_month()
    variant = request.query_params.get("soort", "")
    spec = CATALOGUE.get(metric)
    if spec is None or spec.kind == Kind.SCORE or (variant and variant not in spec.variants):
        return None
    try:
        checked = month_of(date.fromisoformat(f"{month}-01"))
    except ValueError:
        return None
    return metric, checked, variant


async def _release(request: Request) -> Release | None:
    if not may_see_releases(actor_of(request)):
        return None
    service = reflectie_of(request)
    params = _release_params(request, service)
    return None if params is None else await service.release(*params)


async def release_page(request: Request) -> Response:
    """The month's release of one metric per flavour and per region, suppressed (also the regional view)."""
    if actor_of(request) is None:
        return staff_login(request)
    release = await _release(request)
    if release is None:
        return not_found(request, private=True)
    previous = await reflectie_of(request).release(release.metric, previous_month(release.month), release.variant)
    before = {row.key: row.shown(previous.threshold) for _, row in previous.rows()}
    return page(request, "pages/backoffice/reflectie_release.html", {
        "release": release, "before": before, "metrics": {m: CATALOGUE[m] for m in COUNT_METRICS},
        "regional": request.url.path.endswith("/regio"), "query": request.url.query,
    }, private=True)  # fmt: skip


async def export(request: Request) -> Response:
    """The release as CSV or JSON: always suppressed, for admins too."""
    release = await _release(request)
    if release is None:
        return not_found(request, private=True)
    part = request.query_params.get("indeling", "")
    name = f"reflectie-{release.metric}-{release.variant or 'alle'}-{release.month}"
    headers = dict(PRIVATE_HEADERS)
    if request.url.path.endswith(".json"):
        headers["Content-Disposition"] = f'attachment; filename="{name}.json"'
        body = json.dumps(release_json(release), ensure_ascii=False, indent=1)
        return Response(body, media_type="application/json", headers=headers)
    headers["Content-Disposition"] = f'attachment; filename="{name}.csv"'
    return Response(
        release_csv(release, part if part in ("smaak", "regio") else ""),
        media_type="text/csv; charset=utf-8",
        headers=headers,
    )


async def public_figures(request: Request) -> Response:
    """A flavour's headline figures of the last complete month, suppressed (and noisy when a budget is set)."""
    flavour = flavour_of(request)
    service = reflectie_of(request)
    if flavour.slug not in service.flavours:
        return not_found(request)
    month = service.last_complete_month()
    figures = await service.headlines(flavour.slug, month)
    previous = await service.headlines(flavour.slug, previous_month(month))
    return page(request, "pages/reflectie/public.html", {
        "figures": list(zip(figures, previous, strict=True)), "month": month, "previous_month": previous_month(month),
        "threshold": service.settings.threshold, "epsilon": service.settings.epsilon,
    })  # fmt: skip


ROUTES = [
    Route(f"{BASE}/", dashboard, methods=["GET"]),
    Route(f"{BASE}/maand", release_page, methods=["GET"]),
    Route(f"{BASE}/regio", release_page, methods=["GET"]),
    Route(f"{BASE}/export.csv", export, methods=["GET"]),
    Route(f"{BASE}/export.json", export, methods=["GET"]),
    Route("/f/{slug}/cijfers/", public_figures, methods=["GET"]),
]
