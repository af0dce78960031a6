"""The moderation feature: the service, the staff console under /backoffice/, the audit page and reporting."""

from __future__ import annotations

import logging
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any
from urllib.parse import quote, urlencode

from starlette.requests import Request
from starlette.responses import JSONResponse, RedirectResponse, Response
from starlette.routing import Route

from chatserver.domain.identity import Actor
from chatserver.services.identity import IdentityError
from chatserver.services.moderation import (
    DECISION_LABELS,
    SEVERITY_LABELS,
    SOURCE_LABELS,
    TIER_LABELS,
    ModerationError,
    ModerationItemView,
    StaffDecision,
    staff_of,
)
from chatserver.web.feature import Feature
from chatserver.web.pages.account import form_data
from chatserver.web.pages.site import error_page
from moderation.queue import TARGET_AGE, DecisionKind, age, is_claimed, is_overdue
from moderation.tiers import TIERS

if TYPE_CHECKING:
    from chatserver.container import Services

log = logging.getLogger("chatserver.pages.moderation")

PRIVATE_HEADERS = {"Cache-Control": "no-store", "Referrer-Policy": "no-referrer", "X-Robots-Tag": "noindex"}
AUDIT_PAGE = 50
REPORT_KINDS = frozenset({"room_message", "forum_post", "story", "spreekuur_question", "chat_message"})
NOTICES = {
    "geclaimd": "Je behandelt dit item nu. Niemand anders kan het nemen zolang je claim loopt.",
    "teruggezet": "Het item staat weer open voor collega's.",
    "besloten": "Je beslissing is uitgevoerd en vastgelegd in het auditlog.",
    "doorgezet": "Het item is doorgezet naar een hogere laag.",
    "bulk": "De geselecteerde items zijn afgehandeld.",
    "vrijgegeven": "Vals alarm: het bericht is vrijgegeven en geteld voor deze detectorversie.",
}
DECISION_HELP: dict[str, str] = {
    "approve": "Goedkeuren (het bericht blijft of wordt geplaatst)",
    "reject": "Afwijzen met een reden voor de schrijver",
    "redact": "Aanpassen (tekst hieronder)",
    "hide": "Verbergen",
    "warn": "Waarschuwen",
    "mute": "Tijdelijk dempen",
    "ban": "Weren (account, via identiteit)",
    "escalate": "Doorzetten naar een hogere laag",
    "release": "Vrijgeven: vals alarm, alsnog plaatsen",
}


def format_age(delta: timedelta) -> str:
    seconds = int(delta.total_seconds())
    if seconds < 3600:
        return f"{max(seconds // 60, 0)} min"
    if seconds < 86_400:
        return f"{seconds // 3600} u {seconds % 3600 // 60} min"
    return f"{seconds // 86_400} d {seconds % 86_400 // 3600} u"


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


def install(services: Services) -> Feature:
    service = services.moderation
    templates = services.templates

    def actor_of(request: Request) -> Actor | None:
        actor: Actor | None = request.scope.get("actor")
        return actor

    def page(request: Request, name: str, context: dict[str, Any], status: int = 200) -> Response:
        context.setdefault("notice", NOTICES.get(request.query_params.get("melding", "")))
        context.setdefault("errors", {})
        context.update(
            tier_labels=TIER_LABELS,
            source_labels=SOURCE_LABELS,
            severity_labels=SEVERITY_LABELS,
            decision_labels=DECISION_LABELS,
            decision_help=DECISION_HELP,
            flavour_names={f.slug: f.short_name for f in services.catalog},
        )
        return templates.response(request, name, context, status_code=status, headers=dict(PRIVATE_HEADERS))

    def staff_login(request: Request) -> Response:
        target = request.url.path + (f"?{request.url.query}" if request.url.query else "")
        return RedirectResponse("/staff/inloggen?volgende=" + quote(target, safe="/"), status_code=303)

    def not_found(request: Request) -> Response:
        response = error_page(services, request, 404)
        response.headers.update(PRIVATE_HEADERS)
        return response

    def scoped_flavours(actor: Actor) -> list[Any]:
        return [f for f in services.catalog if actor.staff_in(f.slug)]

    def filters_of(request: Request, actor: Actor) -> dict[str, str]:
        params = request.query_params
        slugs = {f.slug for f in scoped_flavours(actor)}
        flavour = params.get("flavour", "")
        tier = params.get("tier", "")
        source = params.get("source", "")
        return {
            "flavour": flavour if flavour in slugs else "",
            "tier": tier if tier in TIERS else "",
            "source": source if source in SOURCE_LABELS else "",
        }

    # --- index ----------------------------------------------------------------------------------------------------

    async def index(request: Request) -> Response:
        actor = actor_of(request)
        if actor is None:
            return staff_login(request)
        if not actor.is_staff:
            return not_found(request)
        visible = []
        for link in services.backoffice_links:
            try:
                allowed = bool(link.allowed(actor))
            except Exception:
                allowed = False
            if allowed:
                visible.append((link.label, link.url))
        counts = {"open": 0, "crisis": 0, "overdue": 0}
        now = service.clock()
        for view in await service.queue(actor):
            counts["open"] += 1
            counts["crisis"] += 1 if view.crisis else 0
            counts["overdue"] += 1 if is_overdue(view.item, now) else 0
        return page(request, "pages/backoffice/index.html", {"links": visible, "counts": counts})

    # --- queue ----------------------------------------------------------------------------------------------------

    async def queue_page(request: Request) -> Response:
        actor = actor_of(request)
        if actor is None:
            return staff_login(request)
        if staff_of(actor) is None:
            return not_found(request)
        errors: dict[str, str] = {}
        status = 200
        if request.method == "POST":
            form = await request.form()
            ids = [str(v) for v in form.getlist("ids") if isinstance(v, str)][:200]
            kind = str(form.get("bulk") or "")
            if not ids:
                errors["bulk"] = "Selecteer eerst een of meer items."
                status = 422
            elif kind not in ("approve", "hide"):
                errors["bulk"] = "Kies goedkeuren of verbergen."
                status = 422
            else:
                reason = str(form.get("reason") or "").strip()
                result = await service.bulk(actor, ids, kind, reason)  # type: ignore[arg-type]
                if not result.failed:
                    return RedirectResponse("/backoffice/moderatie?melding=bulk", status_code=303)
                errors["bulk"] = f"{len(result.done)} item(s) afgehandeld; {len(result.failed)} niet: " + "; ".join(
                    sorted(set(result.failed.values()))
                )
                status = 409
        chosen = filters_of(request, actor)
        views = await service.queue(
            actor,
            flavour=chosen["flavour"] or None,
            tier=chosen["tier"] or None,  # type: ignore[arg-type]
            source=chosen["source"] or None,
        )
        now = service.clock()
        staff = staff_of(actor)
        assert staff is not None
        context = {
            "rows": [row_context(v, now, actor) for v in views],
            "filters": chosen,
            "flavours": scoped_flavours(actor),
            "tiers": [t for t in TIERS if staff.is_admin or TIERS.index(t) < TIERS.index(staff.tier) + 1],
            "sources": list(SOURCE_LABELS),
            "channels": [f"mod:{f.slug}" for f in scoped_flavours(actor)],
            "my_tier_rank": TIERS.index(staff.tier) + 1,
            "errors": errors,
        }
        return page(request, "pages/backoffice/moderation.html", context, status)

    async def row_fragment(request: Request) -> Response:
        actor = actor_of(request)
        if actor is None or staff_of(actor) is None:
            return Response("", status_code=404, headers=PRIVATE_HEADERS)
        try:
            view = await service.get(actor, request.path_params["item_id"])
        except ModerationError:
            return Response("", status_code=404, headers=PRIVATE_HEADERS)
        if view.item.state == "decided":
            return Response("", status_code=404, headers=PRIVATE_HEADERS)
        return page(request, "pages/backoffice/moderation_row.html", {"row": row_context(view, service.clock(), actor)})

    # --- detail ---------------------------------------------------------------------------------------------------

    async def detail(request: Request) -> Response:
        actor = actor_of(request)
        if actor is None:
            return staff_login(request)
        item_id = request.path_params["item_id"]
        errors: dict[str, str] = {}
        values: dict[str, str] = {}
        status = 200
        if request.method == "POST":
            data = await form_data(request)
            values = data
            action = data.get("action", "")
            try:
                if action == "claim":
                    claimed = await service.claim(actor, item_id)
                    if data.get("volgende") == "context":  # the alert's one click: claim, then the message in context
                        return RedirectResponse(claimed.context_url, status_code=303)
                    return RedirectResponse(f"/backoffice/moderatie/{item_id}?melding=geclaimd", status_code=303)
                if action == "release":
                    await service.release(actor, item_id, data.get("reason", ""))
                    return RedirectResponse("/backoffice/moderatie?melding=vrijgegeven", status_code=303)
                if action == "unclaim":
                    await service.unclaim(actor, item_id)
                    return RedirectResponse("/backoffice/moderatie?melding=teruggezet", status_code=303)
                if action == "decide":
                    request_ = _decision_from(data)
                    await service.decide(actor, item_id, request_)
                    notice = "doorgezet" if request_.kind == "escalate" else "besloten"
                    return RedirectResponse(f"/backoffice/moderatie?melding={notice}", status_code=303)
                raise ModerationError(422, "Deze actie bestaat niet.")
            except ModerationError as exc:
                if exc.status == 404:
                    return not_found(request)
                errors["action"] = exc.detail
                status = exc.status
            except IdentityError as exc:
                errors["action"] = exc.detail
                status = exc.status
        try:
            view = await service.get(actor, item_id)
            history = await service.history(actor, item_id)
        except ModerationError:
            return not_found(request)
        context = {
            "row": row_context(view, service.clock(), actor),
            "history": history,
            "decisions": service.decisions_for(actor),
            "values": values,
            "errors": errors,
        }
        return page(request, "pages/backoffice/moderation_item.html", context, status)

    # --- audit ----------------------------------------------------------------------------------------------------

    async def audit_page(request: Request) -> Response:
        actor = actor_of(request)
        if actor is None:
            return staff_login(request)
        if staff_of(actor) is None:
            return not_found(request)
        slugs = {f.slug for f in scoped_flavours(actor)}
        flavour = request.query_params.get("flavour", "")
        flavour = flavour if flavour in slugs else ""
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
            "flavours": scoped_flavours(actor),
            "flavour": flavour,
            "broken": broken,
            "next_url": next_url,
            "first_page": before is None,
        }
        return page(request, "pages/backoffice/audit.html", context)

    # --- reporting ------------------------------------------------------------------------------------------------

    async def api_report(request: Request) -> Response:
        actor = actor_of(request)
        if actor is None:
            return _problem(401, "Log in of ga verder als gast om iets te melden.")
        try:
            body = await request.json()
        except ValueError:
            return _problem(400, "Stuur een JSON-object.")
        if not isinstance(body, dict):
            return _problem(400, "Stuur een JSON-object.")
        kind = str(body.get("kind", ""))
        object_id = str(body.get("id", ""))[:200]
        channel = body.get("channel")
        reason = str(body.get("reason", "")).strip()
        if kind not in REPORT_KINDS or not object_id:
            return _problem(422, "Geef aan welk bericht je meldt.")
        if not reason:
            return _problem(422, "Schrijf kort waarom je dit meldt.")
        try:
            await services.identity.limit_action("post", actor, str(request.scope.get("ip_subject", "")))
            await service.report(actor, kind, object_id, str(channel) if channel else None, reason)
        except IdentityError as exc:
            response = _problem(exc.status, exc.detail)
            if exc.retry_after:
                response.headers["Retry-After"] = str(exc.retry_after)
            return response
        except ModerationError as exc:
            return _problem(exc.status, exc.detail)
        return JSONResponse(
            {"status": "ontvangen", "detail": "Bedankt voor je melding. Een moderator bekijkt het bericht."},
            status_code=202,
        )

    async def report_form(request: Request) -> Response:
        flavour = request.scope.get("flavour")
        if flavour is None:
            return not_found(request)
        actor = actor_of(request)
        source = request.query_params if request.method == "GET" else await form_data(request)
        values = {k: str(source.get(k, ""))[:500] for k in ("kind", "id", "channel", "reason", "terug")}
        if not values["terug"].startswith("/") or values["terug"].startswith("//"):
            values["terug"] = f"/f/{flavour.slug}/"
        errors: dict[str, str] = {}
        status = 200
        done = False
        if request.method == "POST":
            if actor is None:
                errors["reason"] = "Log in of ga verder als gast om iets te melden."
                status = 401
            elif values["kind"] not in REPORT_KINDS or not values["id"]:
                errors["reason"] = "Geef aan welk bericht je meldt."
                status = 422
            elif not values["reason"].strip():
                errors["reason"] = "Schrijf kort waarom je dit meldt."
                status = 422
            else:
                try:
                    await services.identity.limit_action("post", actor, str(request.scope.get("ip_subject", "")))
                    await service.report(
                        actor, values["kind"], values["id"], values["channel"] or None, values["reason"]
                    )
                    done = True
                except (IdentityError, ModerationError) as exc:
                    errors["reason"] = exc.detail
                    status = exc.status
        return page(request, "pages/moderation_report.html", {"values": values, "done": done, "errors": errors}, status)

    return Feature(
        routes=[
            Route("/backoffice", lambda request: RedirectResponse("/backoffice/", status_code=308), methods=["GET"]),
            Route("/backoffice/", index, methods=["GET"]),
            Route("/backoffice/moderatie", queue_page, methods=["GET", "POST"]),
            Route("/backoffice/moderatie/{item_id}/rij", row_fragment, methods=["GET"]),
            Route("/backoffice/moderatie/{item_id}", detail, methods=["GET", "POST"]),
            Route("/backoffice/audit", audit_page, methods=["GET"]),
            Route("/api/v1/reports", api_report, methods=["POST"]),
            Route("/f/{slug}/melden", report_form, methods=["GET", "POST"]),
        ],
    )


def _problem(status: int, detail: str) -> JSONResponse:
    titles = {
        400: "Ongeldige invoer",
        401: "Niet ingelogd",
        404: "Niet gevonden",
        422: "Ongeldige invoer",
        429: "Te veel pogingen",
    }
    body = {"type": "about:blank", "title": titles.get(status, "Fout"), "status": status, "detail": detail}
    return JSONResponse(body, status_code=status, media_type="application/problem+json")


def _decision_from(data: dict[str, str]) -> StaffDecision:
    kind = data.get("kind", "")
    if kind not in DECISION_LABELS:
        raise ModerationError(422, "Kies een beslissing.")
    mute_raw = data.get("mute_minutes", "").strip()
    ban_raw = data.get("ban_days", "").strip()
    if kind == "mute" and not mute_raw.isdigit():
        raise ModerationError(422, "Geef aan hoeveel minuten het dempen duurt.")
    if ban_raw and not ban_raw.isdigit():
        raise ModerationError(422, "Geef het aantal dagen als getal.")
    decided: DecisionKind = kind  # type: ignore[assignment]
    return StaffDecision(
        kind=decided,
        reason=data.get("reason", ""),
        mute_minutes=int(mute_raw) if kind == "mute" else None,
        ban_days=int(ban_raw) if kind == "ban" and ban_raw else None,
        redacted_text=data.get("redacted_text", ""),
        also_hide=kind == "mute" and data.get("also_hide", "") == "1",
    )
