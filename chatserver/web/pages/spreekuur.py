"""E-spreekuur pages: each flavour's calendar, iCalendar feed and live Q&A page, and the staff backoffice.

Forms post and redirect and work without JavaScript; the live parts (the Q&A
stream for visitors, the question queue for moderators) follow the channels
``spreekuur:<flavour>:<id>`` and ``mod:<flavour>`` over ``/ws``.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from datetime import datetime
from typing import Any
from urllib.parse import quote

import msgspec
from starlette.requests import Request
from starlette.responses import RedirectResponse, Response
from starlette.routing import BaseRoute, Route

from chatserver.domain.channels import mod_channel, spreekuur_channel
from chatserver.domain.identity import ROLE_LABELS, Actor
from chatserver.flavours import TIMEZONE, Flavour
from chatserver.i18n import N_
from chatserver.services.identity import IdentityError
from chatserver.services.spreekuur import (
    PHASE_LABELS,
    Schedule,
    SpreekuurError,
    SpreekuurService,
    can_schedule,
    ical_feed,
)
from chatserver.web.filters import local_input
from chatserver.web.pages.site import flavour_of
from chatserver.web.responses import (
    actor_of,
    aware,
    form_data,
    not_found,
    page,
    redirect,
    services_of,
    staff_of,
)

STREAM_PAGE = 200
NOTICES = {
    "gepland": N_("Het spreekuur is ingepland."),
    "opgeslagen": N_("De wijzigingen zijn opgeslagen."),
    "reeks": N_("De komende spreekuren uit de vaste reeksen zijn ingepland."),
    "besluit": N_("Je besluit is verwerkt."),
    "beantwoord": N_("Je antwoord staat in het spreekuur."),
    "geopend": N_("Het spreekuur is geopend."),
    "gesloten": N_("Het spreekuur is gesloten."),
    "geannuleerd": N_("Het spreekuur is geannuleerd."),
    "verslag": N_("Het verslag is gepubliceerd."),
}
SENT = N_("Dank je wel! Je vraag is ontvangen. Een moderator bekijkt hem; daarna verschijnt hij hier.")
HostAction = Callable[[Actor | None, str], Awaitable[object]]


def parse_local(value: str) -> datetime | None:
    value = value.strip()
    try:
        parsed = datetime.strptime(value[:16], "%Y-%m-%dT%H:%M")  # noqa: DTZ007 - made aware on the next line
    except ValueError:
        return None
    return parsed.replace(tzinfo=TIMEZONE)


def _svc(request: Request) -> SpreekuurService:
    return services_of(request).spreekuur


def _page(request: Request, name: str, context: dict[str, Any], status: int = 200, private: bool = False) -> Response:
    """A spreekuur page: the shared defaults, this area's notices and the phase and role names."""
    context["phase_labels"] = PHASE_LABELS
    context["role_labels"] = ROLE_LABELS
    return page(request, name, context, status, notices=NOTICES, private=private)


# --- public ------------------------------------------------------------------------------------------------------


async def calendar_redirect(request: Request) -> Response:
    flavour_of(request)
    return RedirectResponse(f"{request.url.path}/", status_code=308)


async def calendar(request: Request) -> Response:
    flavour = flavour_of(request)
    svc = _svc(request)
    upcoming = await svc.upcoming(flavour.slug)
    past = await svc.past(flavour.slug)
    rows = [(doc, svc.phase(doc)) for doc in upcoming]
    return _page(request, "pages/spreekuur/calendar.html", {"rows": rows, "past": past})


async def agenda(request: Request) -> Response:
    flavour = flavour_of(request)
    svc = _svc(request)
    base = f"{request.url.scheme}://{request.url.netloc}{request.scope.get('flavour_base', '')}/spreekuur"
    sessions = await svc.upcoming(flavour.slug)
    uid_host = flavour.hosts[0] if flavour.hosts else "gem.local"
    body = ical_feed(flavour, sessions, base, svc.clock(), uid_host)
    headers = {
        "Content-Disposition": f'inline; filename="spreekuren-{flavour.slug}.ics"',  # i18n: a file name
        "Cache-Control": "public, max-age=300",
    }
    return Response(body.encode("utf-8"), media_type="text/calendar; charset=utf-8", headers=headers)


def may_ask(flavour: Flavour, actor: Actor | None) -> bool:
    if actor is None or actor.is_guest:
        return flavour.chat.guests_allowed
    return True


async def detail_context(request: Request, flavour: Flavour, doc: dict[str, Any], join: bool = False) -> dict[str, Any]:
    """The page's context; ``join``: opening the page takes a seat while the session is live."""
    svc = _svc(request)
    actor = actor_of(request)
    stream = await svc.stream(doc)
    phase = svc.phase(doc)
    open_phase = phase in ("waiting", "live")
    seats = (await svc.join(actor, doc) if join else await svc.seats(doc, actor)) if open_phase else None
    return {
        "doc": doc,
        "phase": phase,
        "seats": seats,
        "stream": stream,
        "mine": await svc.mine(actor, doc),
        "may_ask": may_ask(flavour, actor),
        "position": await svc.position(doc),
        "channel": spreekuur_channel(flavour.slug, str(doc["_id"])),
        "starts_iso": aware(doc["starts_at"]).isoformat(),
        "is_staff": actor is not None and actor.staff_in(flavour.slug),
        "transcript": doc.get("transcript") or None,
        "held": False,
    }


async def detail(request: Request) -> Response:
    flavour = flavour_of(request)
    try:
        doc = await _svc(request).public_get(flavour.slug, request.path_params["sid"])
    except SpreekuurError:
        return not_found(request)
    ctx = await detail_context(request, flavour, doc, join=True)
    ctx["held"] = request.query_params.get("steun") == "1"
    ctx["notice"] = SENT if request.query_params.get("melding") == "verstuurd" else None
    return _page(request, "pages/spreekuur/detail.html", ctx, private=actor_of(request) is not None)


async def ask(request: Request) -> Response:
    flavour = flavour_of(request)
    services = services_of(request)
    try:
        doc = await services.spreekuur.public_get(flavour.slug, request.path_params["sid"])
    except SpreekuurError:
        return not_found(request)
    actor = actor_of(request)
    data = await form_data(request)
    text = data.get("text", "")
    show_name = data.get("show_name") == "1"
    values: dict[str, Any] = {"text": text, "show_name": show_name}
    new_token = ""
    ip_subject = str(request.scope.get("ip_subject", ""))
    try:
        if actor is None:
            if not flavour.chat.guests_allowed:
                return redirect("/inloggen?volgende=" + quote(f"/f/{flavour.slug}/spreekuur/{doc['_id']}/", safe="/"))
            session = await services.identity.create_guest(ip_subject, str(request.scope.get("device_token", "")))
            actor, new_token = session.actor, session.token
        await services.identity.limit_action("post", actor, ip_subject)
        asked = await services.spreekuur.ask(actor, doc, text, show_name)
    except (SpreekuurError, IdentityError) as exc:
        ctx = await detail_context(request, flavour, doc)
        # A full session shows no form; the summary then points at the "vol" message.
        ctx.update(errors={"vol" if exc.code == "full" else "text": exc.detail}, values=values)
        return _page(request, "pages/spreekuur/detail.html", ctx, exc.status, private=True)
    base = request.scope.get("flavour_base", "")
    target = f"{base}/spreekuur/{doc['_id']}/?melding=verstuurd"
    if asked.status == "held":
        target = f"{base}/spreekuur/{doc['_id']}/?steun=1"
    return redirect(target + "#jouw-vragen", token=new_token or None, secure=services.settings.secure_cookies)


async def stream_json(request: Request) -> Response:
    """Stored Q&A events after ``na`` (for clients without a live connection, and after a reload)."""
    flavour = flavour_of(request)
    services = services_of(request)
    try:
        doc = await services.spreekuur.public_get(flavour.slug, request.path_params["sid"])
    except SpreekuurError:
        return not_found(request)
    try:
        after = max(0, min(int(request.query_params.get("na", "0")), 2**53))
    except ValueError:
        after = 0
    channel = spreekuur_channel(flavour.slug, str(doc["_id"]))
    events = await services.chat.read_after(channel, after, STREAM_PAGE)
    epoch = await services.chat.epoch(channel)
    body = (
        b'{"epoch":' + msgspec.json.encode(epoch) + b',"phase":' + msgspec.json.encode(services.spreekuur.phase(doc))
        + b',"events":[' + b",".join(raw for _, raw in events) + b"]}"
    )  # fmt: skip
    return Response(body, media_type="application/json", headers={"Cache-Control": "no-store"})


# --- backoffice --------------------------------------------------------------------------------------------------


async def backoffice_list(request: Request) -> Response:
    actor = staff_of(request)
    if isinstance(actor, Response):
        return actor
    services = services_of(request)
    svc = services.spreekuur
    docs = await svc.staff_list(actor)
    rows = [(d, svc.phase(d)) for d in docs]
    return _page(
        request, "pages/backoffice/spreekuur_list.html",
        {"rows": rows, "catalog": {f.slug: f for f in services.catalog}, "schedulable": svc.scheduler_flavours(actor)},
        private=True,
    )  # fmt: skip


def schedule_from(data: dict[str, str], flavour: str) -> Schedule:
    try:
        capacity = int(data.get("capacity", "0") or "0")
    except ValueError:
        capacity = 0
    return Schedule(
        flavour=flavour,
        host_id=data.get("host_id", "")[:64],
        title=data.get("title", ""),
        description=data.get("description", ""),
        starts_at=parse_local(data.get("starts_at", "")),
        ends_at=parse_local(data.get("ends_at", "")),
        capacity=capacity,
    )


async def edit_context(
    svc: SpreekuurService, actor: Actor, doc: dict[str, Any] | None, values: dict[str, Any]
) -> dict[str, Any]:
    flavours = svc.scheduler_flavours(actor)
    hosts: dict[str, list[dict[str, Any]]] = {}
    for f in flavours:
        hosts[f.slug] = [
            {"id": str(h["_id"]), "name": h.get("pseudonym", ""), "role": ROLE_LABELS.get(h.get("role", ""), "")}
            for h in await svc.hosts(f.slug)
        ]
    return {"doc": doc, "values": values, "flavours": flavours, "hosts": hosts}


async def backoffice_new(request: Request) -> Response:
    actor = staff_of(request)
    if isinstance(actor, Response):
        return actor
    svc = _svc(request)
    if not can_schedule(actor) or not svc.scheduler_flavours(actor):
        return not_found(request)
    if request.method == "GET":
        values = {"flavour": request.query_params.get("smaak", ""), "capacity": "200"}
        return _page(request, "pages/backoffice/spreekuur_edit.html", await edit_context(svc, actor, None, values),
                     private=True)  # fmt: skip
    data = await form_data(request)
    try:
        doc = await svc.schedule(actor, schedule_from(data, data.get("flavour", "")))
    except SpreekuurError as exc:
        if exc.status == 404:
            return not_found(request)
        ctx = await edit_context(svc, actor, None, data)
        ctx["errors"] = {exc.field or "title": exc.detail}
        return _page(request, "pages/backoffice/spreekuur_edit.html", ctx, exc.status, private=True)
    return redirect(f"/backoffice/spreekuren/{doc['_id']}?melding=gepland")


async def backoffice_edit(request: Request) -> Response:
    actor = staff_of(request)
    if isinstance(actor, Response):
        return actor
    svc = _svc(request)
    try:
        doc = await svc.staff_get(actor, request.path_params["sid"])
    except SpreekuurError:
        return not_found(request)
    if not can_schedule(actor):
        return not_found(request)
    if request.method == "GET":
        values = {k: doc.get(k) for k in ("flavour", "title", "description", "capacity", "host_id")}
        values["starts_at"] = local_input(doc["starts_at"])
        values["ends_at"] = local_input(doc["ends_at"])
        return _page(request, "pages/backoffice/spreekuur_edit.html", await edit_context(svc, actor, doc, values),
                     private=True)  # fmt: skip
    data = await form_data(request)
    try:
        await svc.update(actor, str(doc["_id"]), schedule_from(data, str(doc["flavour"])))
    except SpreekuurError as exc:
        if exc.status == 404:
            return not_found(request)
        ctx = await edit_context(svc, actor, doc, dict(data, flavour=doc["flavour"]))
        ctx["errors"] = {exc.field or "title": exc.detail}
        return _page(request, "pages/backoffice/spreekuur_edit.html", ctx, exc.status, private=True)
    return redirect(f"/backoffice/spreekuren/{doc['_id']}?melding=opgeslagen")


async def backoffice_series(request: Request) -> Response:
    actor = staff_of(request)
    if isinstance(actor, Response):
        return actor
    data = await form_data(request)
    try:
        await _svc(request).seed_series_for(actor, data.get("flavour", ""))
    except SpreekuurError:
        return not_found(request)
    return redirect("/backoffice/spreekuren?melding=reeks")


async def console_context(request: Request, actor: Actor, doc: dict[str, Any]) -> dict[str, Any]:
    services = services_of(request)
    svc = services.spreekuur
    approved = await svc.approved(actor, doc)
    phase = svc.phase(doc)
    return {
        "doc": doc,
        "phase": phase,
        "seats": await svc.seats(doc, actor) if phase in ("waiting", "live") else None,
        "pending": await svc.pending(actor, doc),
        "approved": approved,
        "is_host": actor.account_id == doc.get("host_id") or actor.is_admin,
        "can_schedule": can_schedule(actor),
        "channels": [spreekuur_channel(str(doc["flavour"]), str(doc["_id"])), mod_channel(str(doc["flavour"]))],
        "flavour_obj": services.catalog.get(str(doc["flavour"])),
    }


async def console(request: Request) -> Response:
    actor = staff_of(request)
    if isinstance(actor, Response):
        return actor
    try:
        doc = await _svc(request).staff_get(actor, request.path_params["sid"])
    except SpreekuurError:
        return not_found(request)
    return _page(request, "pages/backoffice/spreekuur_console.html", await console_context(request, actor, doc),
                 private=True)  # fmt: skip


async def console_part(request: Request) -> Response:
    """The question lists alone (pending and approved), fetched by the console's script after a live event."""
    actor = staff_of(request)
    if isinstance(actor, Response):
        return actor
    try:
        doc = await _svc(request).staff_get(actor, request.path_params["sid"])
    except SpreekuurError:
        return not_found(request)
    return _page(request, "pages/backoffice/spreekuur_queue.html", await console_context(request, actor, doc),
                 private=True)  # fmt: skip


async def _decide(svc: SpreekuurService, actor: Actor, action: str, qid: str, data: dict[str, str]) -> bool:
    """Run one moderator or host decision on a question; False for an action that does not exist."""
    if action == "goedkeuren":
        await svc.approve(actor, qid)
    elif action == "afwijzen":
        await svc.reject(actor, qid, data.get("reason", ""))
    elif action == "samenvoegen":
        await svc.merge(actor, qid, data.get("into", ""))
    elif action == "beantwoorden":
        await svc.answer(actor, qid, data.get("answer", ""))
    else:
        return False
    return True


async def decide(request: Request) -> Response:
    actor = staff_of(request)
    if isinstance(actor, Response):
        return actor
    svc = _svc(request)
    sid = request.path_params["sid"]
    qid = request.path_params["qid"]
    action = request.path_params["action"]
    data = await form_data(request)
    try:
        doc = await svc.staff_get(actor, sid)
        if await svc.question_in(doc, qid) is None or not await _decide(svc, actor, action, qid, data):
            return not_found(request)
    except SpreekuurError as exc:
        if exc.status == 404:
            return not_found(request)
        ctx = await console_context(request, actor, doc)
        ctx["errors"] = {f"{exc.field or 'question'}-{qid}": exc.detail, "summary": exc.detail}
        return _page(request, "pages/backoffice/spreekuur_console.html", ctx, exc.status, private=True)
    melding = "beantwoord" if action == "beantwoorden" else "besluit"
    return redirect(f"/backoffice/spreekuren/{doc['_id']}?melding={melding}")


async def host_action(request: Request) -> Response:
    actor = staff_of(request)
    if isinstance(actor, Response):
        return actor
    svc = _svc(request)
    sid = request.path_params["sid"]
    action = request.path_params["action"]
    actions: dict[str, tuple[HostAction, str]] = {
        "openen": (svc.open_now, "geopend"),
        "sluiten": (svc.close_now, "gesloten"),
        "annuleren": (svc.cancel, "geannuleerd"),
    }
    if action not in actions:
        return not_found(request)
    run, melding = actions[action]
    try:
        await run(actor, sid)
    except SpreekuurError as exc:
        if exc.status == 404:
            return not_found(request)
        doc = await svc.staff_get(actor, sid)
        ctx = await console_context(request, actor, doc)
        ctx["errors"] = {"summary": exc.detail}
        return _page(request, "pages/backoffice/spreekuur_console.html", ctx, exc.status, private=True)
    return redirect(f"/backoffice/spreekuren/{sid}?melding={melding}")


async def transcript(request: Request) -> Response:
    actor = staff_of(request)
    if isinstance(actor, Response):
        return actor
    svc = _svc(request)
    sid = request.path_params["sid"]
    try:
        doc, body = await svc.transcript_draft(actor, sid)
    except SpreekuurError:
        return not_found(request)
    stored = doc.get("transcript") or {}
    values = {"title": stored.get("title") or f"Verslag: {doc['title']}", "body": body}
    ctx: dict[str, Any] = {"doc": doc, "phase": svc.phase(doc), "transcript": stored or None}
    if request.method == "GET":
        return _page(request, "pages/backoffice/spreekuur_transcript.html", dict(ctx, values=values), private=True)
    data = await form_data(request)
    values = {"title": data.get("title", ""), "body": data.get("body", "")}
    try:
        await svc.publish_transcript(actor, sid, values["title"], values["body"])
    except SpreekuurError as exc:
        if exc.status == 404:
            return not_found(request)
        ctx.update(values=values, errors={exc.field or "body": exc.detail})
        return _page(request, "pages/backoffice/spreekuur_transcript.html", ctx, exc.status, private=True)
    return redirect(f"/backoffice/spreekuren/{sid}/verslag?melding=verslag")


ROUTES: list[BaseRoute] = [
    Route("/f/{slug}/spreekuur", calendar_redirect, methods=["GET"]),
    Route("/f/{slug}/spreekuur/", calendar, methods=["GET"]),
    Route("/f/{slug}/spreekuur/agenda.ics", agenda, methods=["GET"]),
    Route("/f/{slug}/spreekuur/{sid}/", detail, methods=["GET"]),
    Route("/f/{slug}/spreekuur/{sid}/vragen", ask, methods=["POST"]),
    Route("/f/{slug}/spreekuur/{sid}/stroom.json", stream_json, methods=["GET"]),
    Route("/backoffice/spreekuren", backoffice_list, methods=["GET"]),
    Route("/backoffice/spreekuren/nieuw", backoffice_new, methods=["GET", "POST"]),
    Route("/backoffice/spreekuren/reeks", backoffice_series, methods=["POST"]),
    Route("/backoffice/spreekuren/{sid}", console, methods=["GET"]),
    Route("/backoffice/spreekuren/{sid}/wachtrij", console_part, methods=["GET"]),
    Route("/backoffice/spreekuren/{sid}/bewerken", backoffice_edit, methods=["GET", "POST"]),
    Route("/backoffice/spreekuren/{sid}/verslag", transcript, methods=["GET", "POST"]),
    Route("/backoffice/spreekuren/{sid}/vragen/{qid}/{action}", decide, methods=["POST"]),
    Route("/backoffice/spreekuren/{sid}/{action}", host_action, methods=["POST"]),
]
