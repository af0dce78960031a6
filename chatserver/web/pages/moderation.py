"""The moderation pages: the backoffice start page, the staff console (queue, item, live row), the audit page, and
reporting a message (the JSON API and the form for pages without JavaScript)."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any
from urllib.parse import urlencode

from starlette.requests import Request
from starlette.responses import JSONResponse, RedirectResponse, Response
from starlette.routing import BaseRoute, Route

from chatserver.domain.identity import Actor
from chatserver.domain.moderation import (
    DECISION_LABELS,
    SEVERITY_LABELS,
    SOURCE_LABELS,
    TIER_LABELS,
    ModerationError,
    staff_of,
)
from chatserver.domain.moderation_items import ModerationItemView, StaffDecision
from chatserver.flavours import Flavour
from chatserver.i18n import N_
from chatserver.services.identity import IdentityError
from chatserver.web.responses import (
    PRIVATE_HEADERS,
    actor_of,
    form_data,
    not_found,
    page,
    redirect,
    services_of,
    staff_login,
    text_for,
)
from moderation.queue import TARGET_AGE, DecisionKind, age, is_claimed, is_overdue
from moderation.tiers import TIERS

AUDIT_PAGE = 50
MAX_BULK_ITEMS = 200
REPORT_KINDS = frozenset({"room_message", "forum_post", "story", "spreekuur_question", "chat_message"})
NOTICES = {
    "geclaimd": N_("Je behandelt dit item nu. Niemand anders kan het nemen zolang je claim loopt."),
    "teruggezet": N_("Het item staat weer open voor collega's."),
    "besloten": N_("Je beslissing is uitgevoerd en vastgelegd in het auditlog."),
    "doorgezet": N_("Het item is doorgezet naar een hogere laag."),
    "bulk": N_("De geselecteerde items zijn afgehandeld."),
    "vrijgegeven": N_("Vals alarm: het bericht is vrijgegeven en geteld voor deze detectorversie."),
}
DECISION_HELP: dict[str, str] = {
    "approve": N_("Goedkeuren (het bericht blijft of wordt geplaatst)"),
    "reject": N_("Afwijzen met een reden voor de schrijver"),
    "redact": N_("Aanpassen (tekst hieronder)"),
    "hide": N_("Verbergen"),
    "warn": N_("Waarschuwen"),
    "mute": N_("Tijdelijk dempen"),
    "ban": N_("Weren (account, via identiteit)"),
    "escalate": N_("Doorzetten naar een hogere laag"),
    "release": N_("Vrijgeven: vals alarm, alsnog plaatsen"),
}
PROBLEM_TITLES = {
    400: N_("Ongeldige invoer"),
    401: N_("Niet ingelogd"),
    404: N_("Niet gevonden"),
    422: N_("Ongeldige invoer"),
    429: N_("Te veel pogingen"),
}
LOG_IN_TO_REPORT = N_("Log in of ga verder als gast om iets te melden.")
SAY_WHICH = N_("Geef aan welk bericht je meldt.")
SAY_WHY = N_("Schrijf kort waarom je dit meldt.")


def format_age(delta: timedelta) -> str:
    seconds = int(delta.total_seconds())
    if seconds < 3600:
        return N_("%d min") % max(seconds // 60, 0)
    if seconds < 86_400:
        return N_("%d u %d min") % (seconds // 3600, seconds % 3600 // 60)
    return N_("%d d %d u") % (seconds // 86_400, seconds % 86_400 // 3600)


def row_context(view: ModerationItemView, now: datetime, actor: Actor) -> dict[str, Any]:
    item = view.item
    return {
        "view": view,
        "item": item,
        "age": format_age(age(item, now)),
        "target": format_age(TARGET_AGE[item.severity]),
        "overdue": is_overdue(item, now),
        "claimed": is_claimed(item, now),
        "mine": is_claimed(item, now) and item.claimed_by == str(actor.account_id),
    }


def moderation_page(request: Request, name: str, context: dict[str, Any], status: int = 200) -> Response:
    """A private page with the labels of tiers, sources, severities and decisions and the flavours' names."""

    def translated(labels: dict[str, str]) -> dict[str, str]:
        return {key: text_for(request, label) for key, label in labels.items()}

    context.update(
        tier_labels=translated(TIER_LABELS),
        source_labels=translated(SOURCE_LABELS),
        severity_labels=translated(SEVERITY_LABELS),
        decision_labels=translated(DECISION_LABELS),
        decision_help=translated(DECISION_HELP),
        flavour_names={f.slug: f.short_name for f in services_of(request).catalog},
    )
    return page(request, name, context, status, notices=NOTICES, private=True)


def scoped_flavours(request: Request, actor: Actor) -> list[Flavour]:
    return [f for f in services_of(request).catalog if actor.staff_in(f.slug)]


def filters_of(request: Request, actor: Actor) -> dict[str, str]:
    params = request.query_params
    slugs = {f.slug for f in scoped_flavours(request, actor)}
    flavour = params.get("flavour", "")
    tier = params.get("tier", "")
    source = params.get("source", "")
    return {
        "flavour": flavour if flavour in slugs else "",
        "tier": tier if tier in TIERS else "",
        "source": source if source in SOURCE_LABELS else "",
    }


def problem(request: Request, status: int, detail: str) -> JSONResponse:
    title = text_for(request, PROBLEM_TITLES.get(status, N_("Fout")))
    body = {"type": "about:blank", "title": title, "status": status, "detail": text_for(request, detail)}
    return JSONResponse(body, status_code=status, media_type="application/problem+json")


def decision_from(data: dict[str, str]) -> StaffDecision:
    """The decision a console form asks for; a ModerationError (422) for an incomplete one."""
    kind = data.get("kind", "")
    if kind not in DECISION_LABELS:
        raise ModerationError(422, N_("Kies een beslissing."))
    mute_raw = data.get("mute_minutes", "").strip()
    ban_raw = data.get("ban_days", "").strip()
    if kind == "mute" and not mute_raw.isdigit():
        raise ModerationError(422, N_("Geef aan hoeveel minuten het dempen duurt."))
    if ban_raw and not ban_raw.isdigit():
        raise ModerationError(422, N_("Geef het aantal dagen als getal."))
    decided: DecisionKind = kind  # type: ignore[assignment]
    return StaffDecision(
        kind=decided,
        reason=data.get("reason", ""),
        mute_minutes=int(mute_raw) if kind == "mute" else None,
        ban_days=int(ban_raw) if kind == "ban" and ban_raw else None,
        redacted_text=data.get("redacted_text", ""),
        also_hide=kind == "mute" and data.get("also_hide", "") == "1",
    )


# --- the backoffice start page ---------------------------------------------------------------------------------------


async def backoffice_root(request: Request) -> Response:
    return RedirectResponse("/backoffice/", status_code=308)


async def index(request: Request) -> Response:
    actor = actor_of(request)
    if actor is None:
        return staff_login(request)
    if not actor.is_staff:
        return not_found(request, private=True)
    services = services_of(request)
    visible = []
    for link in services.backoffice_links:
        try:
            allowed = bool(link.allowed(actor))
        except Exception:
            allowed = False
        if allowed:
            visible.append((link.label, link.url))
    counts = {"open": 0, "crisis": 0, "overdue": 0}
    now = services.moderation.clock()
    for view in await services.moderation.queue(actor):
        counts["open"] += 1
        counts["crisis"] += 1 if view.crisis else 0
        counts["overdue"] += 1 if is_overdue(view.item, now) else 0
    return moderation_page(request, "pages/backoffice/index.html", {"links": visible, "counts": counts})


# --- the queue -------------------------------------------------------------------------------------------------------


async def queue_page(request: Request) -> Response:
    actor = actor_of(request)
    if actor is None:
        return staff_login(request)
    staff = staff_of(actor)
    if staff is None:
        return not_found(request, private=True)
    errors: dict[str, str] = {}
    status = 200
    if request.method == "POST":
        error, status = await bulk_from_form(request, actor)
        if error is None:
            return redirect("/backoffice/moderatie?melding=bulk")
        errors["bulk"] = error
    service = services_of(request).moderation
    chosen = filters_of(request, actor)
    views = await service.queue(
        actor,
        flavour=chosen["flavour"] or None,
        tier=chosen["tier"] or None,  # type: ignore[arg-type]
        source=chosen["source"] or None,
    )
    now = service.clock()
    flavours = scoped_flavours(request, actor)
    context = {
        "rows": [row_context(v, now, actor) for v in views],
        "filters": chosen,
        "flavours": flavours,
        "tiers": [t for t in TIERS if staff.is_admin or TIERS.index(t) < TIERS.index(staff.tier) + 1],
        "sources": list(SOURCE_LABELS),
        "channels": [f"mod:{f.slug}" for f in flavours],
        "my_tier_rank": TIERS.index(staff.tier) + 1,
        "errors": errors,
    }
    return moderation_page(request, "pages/backoffice/moderation.html", context, status)


async def bulk_from_form(request: Request, actor: Actor) -> tuple[str | None, int]:
    """Approve or hide the chosen items at once: (None, 303) when all went, else the error and its status."""
    form = await request.form()
    ids = [str(v) for v in form.getlist("ids") if isinstance(v, str)][:MAX_BULK_ITEMS]
    kind = str(form.get("bulk") or "")
    if not ids:
        return N_("Selecteer eerst een of meer items."), 422
    if kind not in ("approve", "hide"):
        return N_("Kies goedkeuren of verbergen."), 422
    reason = str(form.get("reason") or "").strip()
    result = await services_of(request).moderation.bulk(actor, ids, kind, reason)  # type: ignore[arg-type]
    if not result.failed:
        return None, 303
    failed = "; ".join(sorted(set(result.failed.values())))
    return N_("%s item(s) afgehandeld; %s niet: %s") % (len(result.done), len(result.failed), failed), 409


async def row_fragment(request: Request) -> Response:
    actor = actor_of(request)
    if actor is None or staff_of(actor) is None:
        return Response("", status_code=404, headers=PRIVATE_HEADERS)
    service = services_of(request).moderation
    try:
        view = await service.get(actor, request.path_params["item_id"])
    except ModerationError:
        return Response("", status_code=404, headers=PRIVATE_HEADERS)
    if view.item.state == "decided":
        return Response("", status_code=404, headers=PRIVATE_HEADERS)
    context = {"row": row_context(view, service.clock(), actor)}
    return moderation_page(request, "pages/backoffice/moderation_row.html", context)


# --- one item --------------------------------------------------------------------------------------------------------


async def detail(request: Request) -> Response:
    actor = actor_of(request)
    if actor is None:
        return staff_login(request)
    item_id = request.path_params["item_id"]
    errors: dict[str, str] = {}
    values: dict[str, str] = {}
    status = 200
    if request.method == "POST":
        values = await form_data(request)
        try:
            return await act_on_item(request, actor, item_id, values)
        except ModerationError as exc:
            if exc.status == 404:
                return not_found(request, private=True)
            errors["action"] = exc.detail
            status = exc.status
        except IdentityError as exc:
            errors["action"] = exc.detail
            status = exc.status
    service = services_of(request).moderation
    try:
        view = await service.get(actor, item_id)
        history = await service.history(actor, item_id)
    except ModerationError:
        return not_found(request, private=True)
    context = {
        "row": row_context(view, service.clock(), actor),
        "history": history,
        "decisions": service.decisions_for(actor),
        "values": values,
        "errors": errors,
    }
    return moderation_page(request, "pages/backoffice/moderation_item.html", context, status)


async def act_on_item(request: Request, actor: Actor, item_id: str, data: dict[str, str]) -> Response:
    """Claim, release, give back or decide; where to go afterwards (raises the refusal)."""
    service = services_of(request).moderation
    action = data.get("action", "")
    if action == "claim":
        claimed = await service.claim(actor, item_id)
        if data.get("volgende") == "context":  # the alert's one click: claim, then the message in context
            return redirect(claimed.context_url)
        return redirect(f"/backoffice/moderatie/{item_id}?melding=geclaimd")
    if action == "release":
        await service.release(actor, item_id, data.get("reason", ""))
        return redirect("/backoffice/moderatie?melding=vrijgegeven")
    if action == "unclaim":
        await service.unclaim(actor, item_id)
        return redirect("/backoffice/moderatie?melding=teruggezet")
    if action == "decide":
        decision = decision_from(data)
        await service.decide(actor, item_id, decision)
        notice = "doorgezet" if decision.kind == "escalate" else "besloten"
        return redirect(f"/backoffice/moderatie?melding={notice}")
    raise ModerationError(422, N_("Deze actie bestaat niet."))


# --- the audit log ---------------------------------------------------------------------------------------------------


async def audit_page(request: Request) -> Response:
    actor = actor_of(request)
    if actor is None:
        return staff_login(request)
    if staff_of(actor) is None:
        return not_found(request, private=True)
    service = services_of(request).moderation
    flavours = scoped_flavours(request, actor)
    flavour = request.query_params.get("flavour", "")
    flavour = flavour if flavour in {f.slug for f in flavours} else ""
    before_raw = request.query_params.get("voor", "")
    before = int(before_raw) if before_raw.isdigit() else None
    entries = await service.audit_page(actor, flavour or None, before, AUDIT_PAGE + 1)
    more = len(entries) > AUDIT_PAGE
    entries = entries[:AUDIT_PAGE]
    broken = await service.verify_chain()
    next_url = None
    if more and entries:
        query = {"voor": str(entries[-1].seq)}
        if flavour:
            query["flavour"] = flavour
        next_url = "/backoffice/audit?" + urlencode(query)
    context = {
        "entries": entries,
        "names": await service.staff_names(entries),
        "flavours": flavours,
        "flavour": flavour,
        "broken": broken,
        "next_url": next_url,
        "first_page": before is None,
    }
    return moderation_page(request, "pages/backoffice/audit.html", context)


# --- reporting -------------------------------------------------------------------------------------------------------


async def api_report(request: Request) -> Response:
    actor = actor_of(request)
    if actor is None:
        return problem(request, 401, LOG_IN_TO_REPORT)
    try:
        body = await request.json()
    except ValueError:
        return problem(request, 400, N_("Stuur een JSON-object."))
    if not isinstance(body, dict):
        return problem(request, 400, N_("Stuur een JSON-object."))
    kind = str(body.get("kind", ""))
    object_id = str(body.get("id", ""))[:200]
    channel = body.get("channel")
    reason = str(body.get("reason", "")).strip()
    if kind not in REPORT_KINDS or not object_id:
        return problem(request, 422, SAY_WHICH)
    if not reason:
        return problem(request, 422, SAY_WHY)
    services = services_of(request)
    try:
        await services.identity.limit_action("post", actor, str(request.scope.get("ip_subject", "")))
        await services.moderation.report(actor, kind, object_id, str(channel) if channel else None, reason)
    except IdentityError as exc:
        response = problem(request, exc.status, exc.detail)
        if exc.retry_after:
            response.headers["Retry-After"] = str(exc.retry_after)
        return response
    except ModerationError as exc:
        return problem(request, exc.status, exc.detail)
    return JSONResponse(
        {
            "status": "ontvangen",
            "detail": text_for(request, N_("Bedankt voor je melding. Een moderator bekijkt het bericht.")),
        },
        status_code=202,
    )


async def report_form(request: Request) -> Response:
    flavour = request.scope.get("flavour")
    if flavour is None:
        return not_found(request, private=True)
    source = request.query_params if request.method == "GET" else await form_data(request)
    values = {k: str(source.get(k, ""))[:500] for k in ("kind", "id", "channel", "reason", "terug")}
    if not values["terug"].startswith("/") or values["terug"].startswith("//"):
        values["terug"] = f"/f/{flavour.slug}/"
    errors: dict[str, str] = {}
    status = 200
    done = False
    if request.method == "POST":
        error, status = await report_from_form(request, values)
        done = error is None
        if error is not None:
            errors["reason"] = error
    return moderation_page(
        request, "pages/moderation_report.html", {"values": values, "done": done, "errors": errors}, status
    )


async def report_from_form(request: Request, values: dict[str, str]) -> tuple[str | None, int]:
    """Send the report of the form: (None, 200) when it went, else the error for the person and its status."""
    actor = actor_of(request)
    if actor is None:
        return LOG_IN_TO_REPORT, 401
    if values["kind"] not in REPORT_KINDS or not values["id"]:
        return SAY_WHICH, 422
    if not values["reason"].strip():
        return SAY_WHY, 422
    services = services_of(request)
    try:
        await services.identity.limit_action("post", actor, str(request.scope.get("ip_subject", "")))
        await services.moderation.report(
            actor, values["kind"], values["id"], values["channel"] or None, values["reason"]
        )
    except (IdentityError, ModerationError) as exc:
        return exc.detail, exc.status
    return None, 200


ROUTES: list[BaseRoute] = [
    Route("/backoffice", backoffice_root, methods=["GET"]),
    Route("/backoffice/", index, methods=["GET"]),
    Route("/backoffice/moderatie", queue_page, methods=["GET", "POST"]),
    Route("/backoffice/moderatie/{item_id}/rij", row_fragment, methods=["GET"]),
    Route("/backoffice/moderatie/{item_id}", detail, methods=["GET", "POST"]),
    Route("/backoffice/audit", audit_page, methods=["GET"]),
    Route("/api/v1/reports", api_report, methods=["POST"]),
    Route("/f/{slug}/melden", report_form, methods=["GET", "POST"]),
]
