"""The VitaliteitsMarkt pages of a flavour: find (filters, search, near you), an entry with both ratings side by
side, the needs questionnaire, the coarse region, and a member's test report.

A plain router: module-level handlers reach the market through :func:`markt_of`; ``ROUTES`` at the end. Every page
works without JavaScript (forms post and redirect, filters are a GET form). Entry URLs are stable:
``/f/<flavour>/markt/<entry>``. A guest's or visitor's region lives in a session cookie only (no Max-Age: gone
when the browser closes); a member's is their own account setting.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any
from urllib.parse import quote, urlencode

from starlette.requests import Request
from starlette.responses import RedirectResponse, Response
from starlette.routing import Route

from chatserver.domain import markt as rules
from chatserver.domain.markt import parse_answers, parse_filters
from chatserver.i18n import N_
from chatserver.services.markt import MarktError
from chatserver.services.markt.reports import stats_of
from chatserver.web.pages.site import flavour_of
from chatserver.web.responses import actor_of, form_data, not_found, page, redirect, services_of, text_for

if TYPE_CHECKING:
    from chatserver.services.markt import MarktService

REGION_COOKIE = "gem_markt_regio"
NOTICES = {
    "regio": N_("Je regio is opgeslagen. Aanbod bij jou in de buurt staat nu bovenaan."),
    "regio-weg": N_("Je regio is gewist."),
    "ervaring": N_("Dank je wel! Een moderator leest je ervaring eerst; daarna verschijnt ze onder je schuilnaam."),
}


def markt_of(request: Request) -> MarktService:
    found: MarktService = services_of(request).markt
    return found


def labels() -> dict[str, Any]:
    """The closed sets with their Dutch names, for every market template."""
    return {"kinds": rules.KINDS, "needs": rules.NEEDS, "costs": rules.COSTS, "languages": rules.LANGUAGES,
            "platforms": rules.PLATFORMS, "evidence_levels": rules.EVIDENCE, "quality_marks": rules.QUALITY_MARKS,
            "mdr_classes": rules.MDR_CLASSES, "scales": rules.RATING_SCALES, "score_words": rules.SCORE_WORDS,
            "recommend": rules.RECOMMEND, "used_for": rules.USED_FOR, "ease_words": rules.EASE_WORDS,
            "where_options": rules.WHERE, "sorts": rules.SORTS, "formats": rules.FORMATS}  # fmt: skip


def market_page(
    request: Request, name: str, context: dict[str, Any], status: int = 200, private: bool = False
) -> Response:
    context.update(labels())
    context.setdefault("markt_base", f"{request.scope.get('flavour_base', '')}/markt")
    return page(request, name, context, status, notices=NOTICES, private=private)


async def region_of(request: Request) -> str | None:
    return await markt_of(request).region_for(actor_of(request), request.cookies.get(REGION_COOKIE))


def region_label(request: Request, region: str | None) -> str:
    """A region as "provincie Utrecht" or "gemeente Zwolle", in the visitor's language (the place name as it is)."""
    return text_for(request, markt_of(request).regions.label(region)) if region else ""


# --- finding -------------------------------------------------------------------------------------------------------


async def market_redirect(request: Request) -> Response:
    flavour_of(request)
    return RedirectResponse(f"{request.url.path}/", status_code=308)


async def market_index(request: Request) -> Response:
    flavour = flavour_of(request)
    markt = markt_of(request)
    filters = parse_filters({k: request.query_params.get(k, "") for k in request.query_params})
    region = await region_of(request)
    found = await markt.finder.find(flavour.slug, filters, region)
    stats = {str(e["_id"]): stats_of(e, flavour.slug) for e in [*found.entries, *found.near]}
    return market_page(request, "pages/markt/index.html", {
        "found": found, "filters": filters, "region": region, "region_label": region_label(request, region),
        "stats": stats, "clear_url": "./",
    })  # fmt: skip


async def entry_page(request: Request) -> Response:
    flavour = flavour_of(request)
    markt = markt_of(request)
    try:
        entry = await markt.catalogue.published(flavour.slug, request.path_params["entry"])
    except MarktError:
        return not_found(request)
    region = await region_of(request)
    markt.uptake.count(str(entry["_id"]), flavour.slug, region, "view")
    actor = actor_of(request)
    local = entry.get("local") or {}
    context = {
        "entry": entry, "stats": stats_of(entry, flavour.slug),
        "reports": await markt.reports.shown(entry, flavour.slug),
        "mine": await markt.reports.mine(actor, entry), "region": region, "region_label": region_label(request, region),
        "near": bool(region and markt.regions.overlap(region, local.get("regions", ()))),
        "local_regions": [region_label(request, k) for k in local.get("regions", ())],
        "also_in": [f for f in (services_of(request).catalog.get(s) for s in entry.get("flavours") or ()) if f],
    }  # fmt: skip
    return market_page(request, "pages/markt/detail.html", context)


async def outbound(request: Request) -> Response:
    """Counts an outbound click, then sends the browser to the entry's own link (never to an address we were given)."""
    flavour = flavour_of(request)
    markt = markt_of(request)
    try:
        entry = await markt.catalogue.published(flavour.slug, request.path_params["entry"])
        number = int(request.path_params["n"])
    except (MarktError, ValueError):
        return not_found(request)
    links = entry.get("links") or []
    if not 1 <= number <= len(links):
        return not_found(request)
    markt.uptake.count(str(entry["_id"]), flavour.slug, await region_of(request), "click")
    return RedirectResponse(str(links[number - 1]["url"]), status_code=303, headers={"Cache-Control": "no-store"})


# --- region --------------------------------------------------------------------------------------------------------


def region_cookie(value: str | None, secure: bool) -> str:
    """A session cookie (no Max-Age) holding only the region key; cleared with an empty value."""
    parts = [f"{REGION_COOKIE}={quote(value or '', safe=':')}", "Path=/", "HttpOnly", "SameSite=Lax"]
    if not value:
        parts.append("Max-Age=0")
    if secure:
        parts.append("Secure")
    return "; ".join(parts)


async def region_page(request: Request) -> Response:
    flavour_of(request)
    markt = markt_of(request)
    actor = actor_of(request)
    context: dict[str, Any] = {"regions": markt.regions, "member": bool(actor and actor.is_member)}
    if request.method == "GET":
        region = await region_of(request)
        return market_page(request, "pages/markt/region.html", {**context, "region": region or "",
                                                                "region_label": region_label(request, region)},
                           private=True)  # fmt: skip
    data = await form_data(request)
    chosen = "" if data.get("action") == "wissen" else data.get("region", "")
    try:
        region = await markt.choose_region(actor, chosen)
    except MarktError as exc:
        return market_page(request, "pages/markt/region.html",
                           {**context, "region": "", "region_label": "", "errors": {"region": exc.detail}},
                           exc.status, private=True)  # fmt: skip
    target = f"{request.scope.get('flavour_base', '')}/markt/?melding={'regio' if region else 'regio-weg'}"
    response = redirect(target, private=True)
    if not (actor and actor.is_member):
        response.headers.append("set-cookie", region_cookie(region, services_of(request).settings.secure_cookies))
    return response


# --- the needs questionnaire -----------------------------------------------------------------------------------------


async def questionnaire(request: Request) -> Response:
    """GET: the questions. POST: the shortlist (answers are not stored and not put in the address)."""
    flavour = flavour_of(request)
    markt = markt_of(request)
    region = await region_of(request)
    context: dict[str, Any] = {"region": region, "region_label": region_label(request, region), "answers": None,
                               "results": None}  # fmt: skip
    if request.method == "POST":
        form = await request.form()
        needs = [str(v) for v in form.getlist("needs")][:20]
        formats = [str(v) for v in form.getlist("formats")][:20]
        free_only, language = str(form.get("free_only") or ""), str(form.get("language") or "")
        await form.close()
        answers = parse_answers(needs, formats, free_only, language)
        if answers.empty:
            context["errors"] = {"needs": N_("Kies minstens één onderwerp of een manier die bij je past.")}
            return market_page(request, "pages/markt/questionnaire.html", context, 422, private=True)
        results = await markt.finder.shortlist(flavour.slug, answers, region)
        for item in results:
            markt.uptake.count(str(item.entry["_id"]), flavour.slug, region, "shortlist")
        context.update(answers=answers, results=results)
    return market_page(request, "pages/markt/questionnaire.html", context, private=True)


# --- a member's test report ------------------------------------------------------------------------------------------


async def report_form(request: Request) -> Response:
    flavour = flavour_of(request)
    markt = markt_of(request)
    actor = actor_of(request)
    try:
        entry = await markt.catalogue.published(flavour.slug, request.path_params["entry"])
    except MarktError:
        return not_found(request, private=True)
    if actor is None or not actor.is_member:
        return redirect("/inloggen?volgende=" + quote(request.url.path, safe="/"), private=True)
    mine = await markt.reports.mine(actor, entry)
    current = (mine or {}).get("pending") or (mine or {}).get("published") or {}
    values = {k: str(current.get(k, "")) for k in ("helped_with", "ease", "recommend", "not_for", "used_for")}
    context: dict[str, Any] = {"entry": entry, "mine": mine, "values": values}
    if request.method == "GET":
        return market_page(request, "pages/markt/report_form.html", context, private=True)
    data = await form_data(request)
    context["values"] = {k: data.get(k, "") for k in values}
    try:
        written = await markt.reports.write(actor, flavour, entry, data)
    except MarktError as exc:
        context["errors"] = {exc.field or "helped_with": exc.detail}
        return market_page(request, "pages/markt/report_form.html", context, exc.status, private=True)
    if written.crisis:
        context.update(crisis_notice=written.notice, mine=written.report)
        return market_page(request, "pages/markt/report_form.html", context, private=True)
    base = request.scope.get("flavour_base", "")
    return redirect(f"{base}/markt/{entry['slug']}?{urlencode({'melding': 'ervaring'})}#mijn-ervaring", private=True)


ROUTES = [
    Route("/f/{slug}/markt", market_redirect, methods=["GET"]),
    Route("/f/{slug}/markt/", market_index, methods=["GET"]),
    Route("/f/{slug}/markt/regio", region_page, methods=["GET", "POST"]),
    Route("/f/{slug}/markt/vragenlijst", questionnaire, methods=["GET", "POST"]),
    Route("/f/{slug}/markt/{entry}", entry_page, methods=["GET"]),
    Route("/f/{slug}/markt/{entry}/naar/{n}", outbound, methods=["GET"]),
    Route("/f/{slug}/markt/{entry}/ervaring", report_form, methods=["GET", "POST"]),
]
