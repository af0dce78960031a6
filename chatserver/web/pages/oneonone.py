"""1-on-1 chat pages: the visitor's way in (/f/<slug>/chat/gesprek/), the staff console, shifts and the roster."""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable
from datetime import date, datetime, timedelta
from typing import Any
from urllib.parse import quote

from starlette.requests import Request
from starlette.responses import PlainTextResponse, Response
from starlette.routing import BaseRoute, Route

from chatserver.domain import oneonone as rules
from chatserver.domain.channels import queue_channel, user_channel
from chatserver.domain.identity import Actor
from chatserver.flavours import TIMEZONE, Flavour
from chatserver.i18n import N_
from chatserver.services.identity import IdentityError
from chatserver.services.oneonone import OneOnOneError, OneOnOneService
from chatserver.services.shifts import ShiftError
from chatserver.web.pages.site import chat_state, error_page, flavour_of
from chatserver.web.responses import actor_of, admin_of, form_data, not_found, page, redirect, services_of, staff_login

log = logging.getLogger("chatserver.pages.oneonone")

HISTORY_LINES = 500
MAX_CARD_QUERY = 200


def _is_chat_staff(actor: Actor | None) -> bool:
    return actor is not None and actor.is_staff and rules.tier_of_role(actor.role) is not None


def oneonone_of(request: Request) -> OneOnOneService:
    return services_of(request).oneonone


def base(request: Request) -> str:
    return f"{request.scope.get('flavour_base', '')}/chat/gesprek"


# visitor ----------------------------------------------------------------------------------------------


async def entry_context(request: Request, flavour: Flavour, actor: Actor | None) -> dict[str, Any]:
    oneonone = oneonone_of(request)
    return {
        "chat_state": chat_state(flavour, oneonone.clock()),
        "availability": await oneonone.availability(flavour.slug),
        "needs_account": actor is None and not flavour.chat.guests_allowed,
    }


async def _entry_page(request: Request, flavour: Flavour, actor: Actor | None, error: str, status: int) -> Response:
    context = {**await entry_context(request, flavour, actor), "error": error}
    return page(request, "pages/oneonone/entry.html", context, status)


async def entry(request: Request) -> Response:
    flavour = flavour_of(request)
    actor = actor_of(request)
    oneonone = oneonone_of(request)
    current = await oneonone.current(actor, flavour.slug)
    if request.method == "GET":
        if current is not None:
            return redirect(f"{base(request)}/{current['_id']}")
        return page(
            request, "pages/oneonone/entry.html", {**await entry_context(request, flavour, actor), "error": None}
        )
    data = await form_data(request)
    token: str | None = None
    if actor is None:
        if not flavour.chat.guests_allowed:
            return redirect("/inloggen?volgende=" + quote(base(request) + "/", safe="/"))
        try:
            session = await services_of(request).identity.create_guest(
                str(request.scope.get("ip_subject", "")), str(request.scope.get("device_token", ""))
            )
        except IdentityError as exc:
            return await _entry_page(request, flavour, actor, exc.detail, exc.status)
        actor, token = session.actor, session.token
    try:
        doc = await oneonone.request(actor, flavour.slug, data.get("topic", ""))
    except OneOnOneError as exc:
        return await _entry_page(request, flavour, actor, exc.detail, exc.status)
    secure = services_of(request).settings.secure_cookies
    return redirect(f"{base(request)}/{doc['_id']}", token=token, secure=secure)


async def visitor_chat(request: Request) -> Response:
    flavour = flavour_of(request)
    actor = actor_of(request)
    oneonone = oneonone_of(request)
    try:
        doc = await oneonone.access_visitor(actor, flavour.slug, request.path_params["chat_id"])
    except OneOnOneError:
        return not_found(request)
    assert actor is not None
    position = await oneonone.position_view(doc) if doc["status"] == "waiting" else None
    context = {
        "chat": doc,
        "position": position,
        "history": await oneonone.history(doc, HISTORY_LINES),
        "chat_url": f"{base(request)}/{doc['_id']}",
        "user_channel": user_channel(actor.account_id),
        "outcomes": rules.OUTCOME_TAGS,
        "chat_state": chat_state(flavour, oneonone.clock()),
        "melding": request.query_params.get("melding", ""),
    }
    return page(request, "pages/oneonone/chat.html", context)


async def visitor_action(request: Request) -> Response:
    flavour = flavour_of(request)
    actor = actor_of(request)
    chat_id = request.path_params["chat_id"]
    action = request.path_params["action"]
    data = await form_data(request)
    if actor is None:
        return not_found(request)
    oneonone = oneonone_of(request)
    url = f"{base(request)}/{chat_id}"
    try:
        if action == "verlaten":
            await oneonone.leave(actor, flavour.slug, chat_id)
        elif action == "toestemming":
            await oneonone.consent(actor, flavour.slug, chat_id, data.get("antwoord") == "ja")
        elif action == "feedback":
            score = int(data.get("score", "0")) if data.get("score", "").isdigit() else 0
            await oneonone.feedback(actor, flavour.slug, chat_id, score, data.get("comment", ""))
            return redirect(url + "?melding=bedankt")
        else:
            return not_found(request)
    except OneOnOneError as exc:
        if exc.status == 404:
            return not_found(request)
        return error_page(services_of(request), request, 409 if exc.status == 409 else 400, exc.detail)
    return redirect(url)


async def transcript(request: Request) -> Response:
    flavour = flavour_of(request)
    oneonone = oneonone_of(request)
    try:
        doc = await oneonone.access_visitor(actor_of(request), flavour.slug, request.path_params["chat_id"])
    except OneOnOneError:
        return not_found(request)
    text = await oneonone.transcript(doc, f"{request.url.scheme}://{request.url.netloc}")
    # i18n: a file name
    return PlainTextResponse(
        text, headers={"Cache-Control": "no-store", "Content-Disposition": 'attachment; filename="gesprek.txt"'}
    )


# staff console ------------------------------------------------------------------------------------------


def chat_staff(request: Request, back: str | None = None) -> Actor | Response:
    """The staff member who takes 1-on-1 chats, or the staff login (not signed in) or the 404 (anyone else).

    After logging in the staff member comes back here, or to ``back`` (a form posts to an action, not a page)."""
    actor = actor_of(request)
    if actor is None:
        return staff_login(request) if back is None else redirect("/staff/inloggen?volgende=" + quote(back, safe="/"))
    if not _is_chat_staff(actor):
        return not_found(request)
    return actor


async def console_context(request: Request, actor: Actor) -> dict[str, Any]:
    services = services_of(request)
    oneonone = services.oneonone
    flavours = oneonone.scope(actor)
    return {
        "queue": await oneonone.queue_view(actor),
        "my_chats": await oneonone.my_chats(actor),
        "shift": await services.shifts.status_of(actor.account_id),
        "channels": [queue_channel(f) for f in flavours] + [user_channel(actor.account_id)],
        "catalog": {f.slug: f for f in services.catalog},
        "tz": TIMEZONE,
    }


async def console(request: Request) -> Response:
    actor = chat_staff(request)
    if isinstance(actor, Response):
        return actor
    context = await console_context(request, actor)
    context["error"] = request.query_params.get("fout", "")
    return page(request, "pages/backoffice/console.html", context)


async def console_panel(request: Request) -> Response:
    actor = chat_staff(request, "/backoffice/gesprekken")
    if isinstance(actor, Response):
        return actor
    return page(request, "pages/backoffice/console_panel.html", await console_context(request, actor))


async def console_accept(request: Request) -> Response:
    actor = chat_staff(request, "/backoffice/gesprekken")
    if isinstance(actor, Response):
        return actor
    data = await form_data(request)
    try:
        doc = await oneonone_of(request).accept(actor, data.get("chat_id") or None)
    except OneOnOneError as exc:
        if exc.status == 404:
            return not_found(request)
        return redirect("/backoffice/gesprekken?fout=" + quote(exc.detail))
    return redirect(f"/backoffice/gesprekken/{doc['_id']}")


async def console_chat(request: Request) -> Response:
    actor = chat_staff(request)
    if isinstance(actor, Response):
        return actor
    services = services_of(request)
    oneonone = services.oneonone
    try:
        doc = await oneonone.access_staff(actor, request.path_params["chat_id"])
    except OneOnOneError:
        return not_found(request)
    tier = rules.tier_of_role(actor.role)
    higher = [(r, rules.role_label(r)) for t, r in rules.TIER_ROLES.items() if tier is not None and t > tier]
    mine = doc.get("status") == "active" and doc.get("staff_id") == actor.account_id
    card_query = request.query_params.get("zoek", "")[:MAX_CARD_QUERY]
    context = {
        "chat": doc,
        "mine": mine,
        "card_query": card_query,
        "card_choices": await oneonone.card_choices(doc, card_query) if mine else [],
        "history": await oneonone.history(doc, HISTORY_LINES),
        "colleagues": await oneonone.colleagues(actor, doc),
        "higher_roles": higher,
        "canned": rules.CANNED_REPLIES,
        "outcomes": rules.OUTCOME_TAGS,
        "chat_flavour": services.catalog.get(str(doc["flavour"])),
        "is_professional": tier == rules.Tier.PROFESSIONAL,
        "error": request.query_params.get("fout", ""),
        "role_label": rules.role_label,
    }
    return page(request, "pages/backoffice/console_chat.html", context)


# A console action: (the service, the staff member, the chat, the form, the chosen outcome tags) -> the page to
# go to afterwards (None: back to the chat).
ConsoleAction = Callable[[OneOnOneService, Actor, str, dict[str, str], list[str]], Awaitable[str | None]]


async def _note(oneonone: OneOnOneService, actor: Actor, chat_id: str, data: dict[str, str], _: list[str]) -> None:
    await oneonone.add_note(actor, chat_id, data.get("text", ""))


async def _transfer(oneonone: OneOnOneService, actor: Actor, chat_id: str, data: dict[str, str], _: list[str]) -> str:
    await oneonone.transfer(actor, chat_id, data.get("target", ""), data.get("note", ""))
    return "/backoffice/gesprekken"


async def _escalate(
    oneonone: OneOnOneService, actor: Actor, chat_id: str, data: dict[str, str], _: list[str]
) -> str | None:
    doc = await oneonone.escalate(
        actor, chat_id, data.get("role", ""), data.get("note", ""), data.get("target") or None
    )
    if doc.get("staff_id") != actor.account_id or doc.get("status") != "active":
        return "/backoffice/gesprekken"
    return None


async def _end(oneonone: OneOnOneService, actor: Actor, chat_id: str, _: dict[str, str], tags: list[str]) -> str:
    await oneonone.end(actor, chat_id, tags)
    return "/backoffice/gesprekken"


async def _hold(oneonone: OneOnOneService, actor: Actor, chat_id: str, data: dict[str, str], _: list[str]) -> None:
    await oneonone.set_hold(actor, chat_id, data.get("hold") == "aan", data.get("reason", ""))


async def _card(oneonone: OneOnOneService, actor: Actor, chat_id: str, data: dict[str, str], _: list[str]) -> None:
    await oneonone.send_card(actor, chat_id, data.get("entry", ""))


CONSOLE_ACTIONS: dict[str, ConsoleAction] = {
    "kaart": _card,
    "notitie": _note,
    "overdragen": _transfer,
    "doorverbinden": _escalate,
    "afsluiten": _end,
    "bewaren": _hold,
}


async def console_action(request: Request) -> Response:
    chat_id = request.path_params["chat_id"]
    actor = chat_staff(request, f"/backoffice/gesprekken/{chat_id}")
    if isinstance(actor, Response):
        return actor
    form = await request.form()
    tags = [str(v) for v in form.getlist("tags") if isinstance(v, str)]
    await form.close()
    data = await form_data(request)
    url = f"/backoffice/gesprekken/{chat_id}"
    action = CONSOLE_ACTIONS.get(request.path_params["action"])
    if action is None:
        return not_found(request)
    try:
        then = await action(oneonone_of(request), actor, chat_id, data, tags)
    except OneOnOneError as exc:
        if exc.status == 404:
            return not_found(request)
        return redirect(url + "?fout=" + quote(exc.detail))
    return redirect(then or url)


# shifts and roster ----------------------------------------------------------------------------------------


async def shift_page(request: Request) -> Response:
    actor = chat_staff(request)
    if isinstance(actor, Response):
        return actor
    services = services_of(request)
    shifts = services.shifts
    error = ""
    status = 200
    if request.method == "POST":
        form = await request.form()
        chosen = [str(v) for v in form.getlist("flavours") if isinstance(v, str)]
        await form.close()
        data = await form_data(request)
        try:
            if data.get("op") == "afmelden":
                await shifts.sign_off(actor.account_id, data.get("note", ""))
            else:
                raw = data.get("capacity", "")
                await shifts.sign_on(actor, chosen, int(raw) if raw.isdigit() else rules.DEFAULT_CAPACITY)
            return redirect("/backoffice/dienst")
        except ShiftError as exc:
            error, status = exc.detail, exc.status
    context = {
        "shift": await shifts.status_of(actor.account_id),
        "scope": services.oneonone.scope(actor),
        "error": error,
        "catalog": {f.slug: f for f in services.catalog},
        "default_capacity": rules.DEFAULT_CAPACITY,
        "max_capacity": rules.MAX_CAPACITY,
    }
    return page(request, "pages/backoffice/shifts.html", context, status)


async def _add_block(
    request: Request, admin: Actor, staff: list[dict[str, Any]], flavour_slug: str, data: dict[str, str]
) -> tuple[str, int]:
    """Put a block from the roster form on the roster; the error and status to show, ("", 0) when it was added."""
    member = next((d for d in staff if str(d["_id"]) == data.get("account_id")), None)
    try:
        day = date.fromisoformat(data.get("day", ""))
    except ValueError:
        day = None
    if member is None or day is None:
        return N_("Kies een medewerker en een datum."), 422
    try:
        await services_of(request).shifts.add_block(
            admin,
            flavour_slug,
            str(member["_id"]),
            str(member.get("pseudonym", "")),
            str(member.get("role", "")),
            day,
            data.get("start", ""),
            data.get("end", ""),
            member_flavours=list(member.get("flavours") or ()),
        )
    except ShiftError as exc:
        return exc.detail, exc.status
    return "", 0


async def roster_page(request: Request) -> Response:
    actor = admin_of(request)
    if isinstance(actor, Response):
        return actor
    services = services_of(request)
    staff = [d for d in await services.identity.staff_list(actor) if rules.tier_of_role(str(d.get("role"))) is not None]
    flavour_slug = request.query_params.get("smaak", "") or next(iter(services.catalog)).slug
    error = ""
    status = 200
    if request.method == "POST":
        data = await form_data(request)
        flavour_slug = data.get("flavour", flavour_slug)
        error, status = await _add_block(request, actor, staff, flavour_slug, data)
        if not status:
            return redirect(f"/backoffice/rooster?smaak={quote(flavour_slug)}")
    flavour = services.catalog.get(flavour_slug)
    if flavour is None:
        return not_found(request)
    today = services.clock().astimezone(TIMEZONE).date()
    start = datetime.combine(today, datetime.min.time(), tzinfo=TIMEZONE)
    context = {
        "flavour_sel": flavour,
        "blocks": await services.shifts.blocks(flavour.slug, start, start + timedelta(days=8)),
        "staff": staff,
        "error": error,
        "today": today.isoformat(),
        "catalog": list(services.catalog),
        "role_label": rules.role_label,
        "tz": TIMEZONE,
    }
    return page(request, "pages/backoffice/shifts_roster.html", context, status)


async def roster_delete(request: Request) -> Response:
    actor = actor_of(request)
    if actor is None or not actor.is_admin:
        return not_found(request)
    data = await form_data(request)
    await services_of(request).shifts.delete_block(actor, request.path_params["block_id"])
    return redirect("/backoffice/rooster?smaak=" + quote(data.get("flavour", "")))


ROUTES: list[BaseRoute] = [
    Route("/f/{slug}/chat/gesprek/", entry, methods=["GET", "POST"]),
    Route("/f/{slug}/chat/gesprek/{chat_id}", visitor_chat, methods=["GET"]),
    Route("/f/{slug}/chat/gesprek/{chat_id}/transcript.txt", transcript, methods=["GET"]),
    Route("/f/{slug}/chat/gesprek/{chat_id}/{action}", visitor_action, methods=["POST"]),
    Route("/backoffice/gesprekken", console, methods=["GET"]),
    Route("/backoffice/gesprekken/paneel", console_panel, methods=["GET"]),
    Route("/backoffice/gesprekken/aannemen", console_accept, methods=["POST"]),
    Route("/backoffice/gesprekken/{chat_id}", console_chat, methods=["GET"]),
    Route("/backoffice/gesprekken/{chat_id}/{action}", console_action, methods=["POST"]),
    Route("/backoffice/dienst", shift_page, methods=["GET", "POST"]),
    Route("/backoffice/rooster", roster_page, methods=["GET", "POST"]),
    Route("/backoffice/rooster/{block_id}/verwijderen", roster_delete, methods=["POST"]),
]
