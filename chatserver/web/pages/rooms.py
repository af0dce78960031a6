"""Group chat room pages: the rooms of a flavour, a room, its history, edit/delete/report, hosting, admin rooms.

Live messages go over ``/ws`` (``static/js/chat.js``); every action here is also
a plain form that posts and redirects, so the room works without JavaScript for
reading, sending and reporting. A request with ``Accept: application/json``
(the JS client) gets JSON instead of a redirect.
"""

from __future__ import annotations

import logging
import secrets
from typing import Any
from urllib.parse import quote

from starlette.requests import Request
from starlette.responses import JSONResponse, RedirectResponse, Response
from starlette.routing import BaseRoute, Match, Route
from starlette.types import Scope

from chatserver.domain.channels import Action, check_channel, room_channel, user_channel
from chatserver.domain.identity import Actor
from chatserver.flavours import Flavour, Room
from chatserver.i18n import N_
from chatserver.services.chat import ChatError
from chatserver.services.identity import IdentityError
from chatserver.services.moderation import muted_text
from chatserver.services.rooms import (
    EDIT_WINDOW_S,
    MODE_HELP,
    MODES,
    RESERVED_SLUGS,
    RoomError,
    RoomView,
)
from chatserver.web.pages.site import flavour_of
from chatserver.web.responses import actor_of, admin_of, form_data, not_found, redirect, services_of, text_for
from chatserver.web.responses import page as render
from chatserver.web.session import session_cookie

log = logging.getLogger("chatserver.pages.rooms")

NOTICES = {
    "verstuurd": N_("Je bericht is verstuurd."),
    "vastgehouden": N_("Je bericht wacht op een moderator voordat het verschijnt."),
    "bewerkt": N_("Je bericht is aangepast."),
    "verwijderd": N_("Je bericht is verwijderd."),
    "gemeld": N_("Dank je wel. Een moderator bekijkt het bericht."),
    "al-gemeld": N_("Je had dit bericht al gemeld. Een moderator bekijkt het."),
    "geopend": N_("De ruimte is open."),
    "gesloten": N_("De ruimte is gesloten."),
    "aangemaakt": N_("De ruimte is aangemaakt."),
    "ruimte-gesloten": N_("De ruimte is gesloten."),
    "ruimte-heropend": N_("De ruimte is weer open."),
}
PUBLISH_NOTES = {
    "room-announcements-staff-publish": N_("In deze ruimte plaatst alleen het team berichten. Je kunt wel meelezen."),
    "room-hosted-closed": N_("Deze ruimte is nu gesloten. Zodra een host van het team haar opent, kun je meepraten."),
    "room-needs-validation": N_("Valideer eerst je account om in deze ruimte te schrijven."),
}
CHAT_ERRORS = {
    "FORBIDDEN": N_("Je kunt in deze ruimte nu geen berichten sturen."),
    "INVALID_MESSAGE": N_("Je bericht is leeg, te lang (meer dan 4000 tekens) of bevat tekens die niet mogen."),
    "RATE_LIMITED": N_("Je stuurt te snel berichten; wacht even."),
    "UNAVAILABLE": N_("Versturen lukt nu even niet. Probeer het zo opnieuw."),
}


class RoomRoute(Route):
    """A route whose ``room`` parameter never matches a reserved slug (so /chat/gesprek/ stays the 1-on-1 chat's)."""

    def matches(self, scope: Scope) -> tuple[Match, Scope]:
        match, child = super().matches(scope)
        if match is not Match.NONE and child.get("path_params", {}).get("room") in RESERVED_SLUGS:
            return Match.NONE, {}
        return match, child


def _wants_json(request: Request) -> bool:
    return "application/json" in request.headers.get("accept", "")


def _offset(value: str | None) -> int | None:
    if value is None or not value.isdigit() or len(value) > 15:
        return None
    return int(value)


def page(request: Request, name: str, context: dict[str, Any], status: int = 200) -> Response:
    return render(request, name, context, status, notices=NOTICES)


def room_url(request: Request, room: Room) -> str:
    return f"{request.scope.get('flavour_base', '')}/chat/{room.slug}/"


async def find(request: Request) -> tuple[Flavour, Room, bool] | None:
    flavour = flavour_of(request)
    found = await services_of(request).rooms.room(flavour, request.path_params["room"])
    if found is None:
        return None
    return flavour, found[0], found[1]


async def may(request: Request, actor: Actor | None, channel: str, action: Action) -> tuple[bool, str]:
    if actor is None:
        return False, "no-actor"
    services = services_of(request)
    decision = await check_channel(actor, channel, action, services.catalog, services.resolvers)
    return decision.allowed, decision.rule


def fail(request: Request, exc: RoomError, back: str) -> Response:
    if _wants_json(request):
        return JSONResponse({"ok": False, "error": text_for(request, exc.detail)}, status_code=exc.status)
    if exc.status == 404:
        return not_found(request)
    return page(request, "pages/rooms/problem.html", {"message": exc.detail, "back": back}, exc.status)


def done(request: Request, url: str, melding: str) -> Response:
    if _wants_json(request):
        return JSONResponse({"ok": True, "message": text_for(request, NOTICES.get(melding, ""))})
    return redirect(f"{url}?melding={melding}")


# --- the rooms list ---------------------------------------------------------------------------


async def chat_redirect(request: Request) -> Response:
    flavour_of(request)
    return RedirectResponse(f"{request.url.path}/", status_code=308)


async def room_list(request: Request) -> Response:
    flavour = flavour_of(request)
    views: list[RoomView] = await services_of(request).rooms.rooms(flavour, actor_of(request))
    return page(request, "pages/rooms/list.html", {"rooms": views})


# --- one room ---------------------------------------------------------------------------------


async def _visitor(request: Request) -> tuple[Actor, str] | Response:
    """Who looks at a room: the signed-in actor, or a new guest (and the session token to set), or a problem page."""
    actor = actor_of(request)
    if actor is not None:
        return actor, ""
    identity = services_of(request).identity
    try:
        session = await identity.create_guest(
            str(request.scope.get("ip_subject", "")), str(request.scope.get("device_token", ""))
        )
    except IdentityError as exc:
        return page(request, "pages/rooms/problem.html", {"message": exc.detail, "back": "./"}, exc.status)
    request.scope["actor"] = session.actor
    request.scope["csrf_token"] = identity.csrf_token(f"s:{session.actor.session_id}")
    return session.actor, session.token


async def room_page(request: Request) -> Response:
    found = await find(request)
    if found is None:
        return not_found(request)
    flavour, room, _ = found
    actor = actor_of(request)
    if room.mode == "staff" and (actor is None or not actor.staff_in(flavour.slug)):
        return not_found(request)
    if room.mode == "members" and (actor is None or not actor.is_member):
        return page(request, "pages/rooms/prompt.html", {"room": room, "mode_label": MODES[room.mode]}, 403)
    visitor = await _visitor(request)
    if isinstance(visitor, Response):
        return visitor
    actor, new_token = visitor
    channel = room_channel(flavour.slug, room.slug)
    allowed, _ = await may(request, actor, channel, "subscribe")
    if not allowed:
        return not_found(request)
    response = page(request, "pages/rooms/room.html", await _room_context(request, actor, flavour, room))
    if new_token:
        response.headers.append("set-cookie", session_cookie(new_token, services_of(request).settings.secure_cookies))
    return response


async def _room_context(request: Request, actor: Actor, flavour: Flavour, room: Room) -> dict[str, Any]:
    services = services_of(request)
    rooms = services.rooms
    channel = room_channel(flavour.slug, room.slug)
    can_publish, rule = await may(request, actor, channel, "publish")
    muted = await _muted_text(request, actor, flavour.slug)
    before = _offset(request.query_params.get("voor"))
    history = await rooms.history(channel, actor, before)
    return {
        "room": room,
        "mode_label": MODES[room.mode],
        "mode_help": MODE_HELP[room.mode],
        "channel": channel,
        "history": history,
        "live": before is None,
        "last_offset": history.last_offset,
        "epoch": await services.chat.epoch(channel) if before is None else "",
        "can_publish": can_publish and not muted,
        "publish_note": muted
        or ("" if can_publish else text_for(request, PUBLISH_NOTES.get(rule, CHAT_ERRORS["FORBIDDEN"]))),
        "muted": muted,
        "user_channel": "" if actor.is_staff else user_channel(str(actor.account_id)),
        "show_form": before is None and not muted and (can_publish or rule == "room-hosted-closed"),
        "can_host": room.mode == "hosted" and actor.staff_in(flavour.slug),
        "is_open": await rooms.is_open(channel) if room.mode == "hosted" else None,
        "presence": await rooms.presence(channel),
        "room_url": room_url(request, room),
        "client_msg_id": secrets.token_hex(12),
        "edit_window_s": EDIT_WINDOW_S,
    }


async def _muted_text(request: Request, actor: Actor, flavour: str) -> str:
    """The mute this visitor is under in the flavour (end in Dutch time, the moderator's reason), or ""."""
    if actor.is_staff:
        return ""
    mute = await services_of(request).moderation.mute_of(str(actor.account_id), flavour)
    return "" if mute is None else text_for(request, muted_text(*mute))


async def history_fragment(request: Request) -> Response:
    found = await find(request)
    actor = actor_of(request)
    if found is None:
        return not_found(request)
    flavour, room, _ = found
    channel = room_channel(flavour.slug, room.slug)
    allowed, _ = await may(request, actor, channel, "subscribe")
    if not allowed:
        return not_found(request)
    history = await services_of(request).rooms.history(channel, actor, _offset(request.query_params.get("voor")))
    return page(
        request, "pages/rooms/_history.html",
        {"history": history, "room_url": room_url(request, room), "edit_window_s": EDIT_WINDOW_S},
    )  # fmt: skip


async def send(request: Request) -> Response:
    """Sending without JavaScript: the same do_publish as the live client."""
    found = await find(request)
    actor = actor_of(request)
    if found is None or actor is None:
        return not_found(request)
    flavour, room, _ = found
    back = room_url(request, room)
    data = await form_data(request)
    client_msg_id = data.get("client_msg_id", "")
    if not (1 <= len(client_msg_id) <= 64) or not client_msg_id.replace("-", "").replace("_", "").isalnum():
        client_msg_id = secrets.token_hex(12)
    try:
        acked = await services_of(request).chat.do_publish(
            actor, room_channel(flavour.slug, room.slug), client_msg_id, data.get("text", "")
        )
    except ChatError as exc:
        message = exc.reason or CHAT_ERRORS.get(exc.code.name, CHAT_ERRORS["UNAVAILABLE"])
        status = 404 if exc.code.name == "FORBIDDEN" and room.mode == "staff" else 422
        return fail(request, RoomError(status, message), back)
    if acked.held:
        if _wants_json(request):
            return JSONResponse({"ok": True, "held": True, "notice": text_for(request, acked.notice or "")})
        return page(request, "pages/rooms/problem.html",
                    {"message": acked.notice or NOTICES["vastgehouden"], "back": back, "held": True})  # fmt: skip
    return done(request, back, "verstuurd")


async def message_action(request: Request) -> Response:
    found = await find(request)
    actor = actor_of(request)
    if found is None or actor is None:
        return not_found(request)
    flavour, room, _ = found
    back = room_url(request, room)
    offset = int(request.path_params["offset"])
    action = request.path_params["action"]
    if action not in ("bewerken", "verwijderen"):
        return not_found(request)
    data = await form_data(request)
    rooms = services_of(request).rooms
    try:
        if action == "bewerken":
            await rooms.edit(actor, flavour, room, offset, data.get("text", ""))
            return done(request, back, "bewerkt")
        await rooms.delete(actor, flavour, room, offset)
        return done(request, back, "verwijderd")
    except RoomError as exc:
        return fail(request, exc, back)


async def report(request: Request) -> Response:
    found = await find(request)
    actor = actor_of(request)
    if found is None:
        return not_found(request)
    flavour, room, _ = found
    channel = room_channel(flavour.slug, room.slug)
    back = room_url(request, room)
    offset = int(request.path_params["offset"])
    if actor is None:
        return redirect("/inloggen?volgende=" + quote(back, safe="/"))
    allowed, _ = await may(request, actor, channel, "subscribe")
    doc = await services_of(request).chat.store.find_event(channel, offset) if allowed else None
    if doc is None or doc.get("kind", "message") != "message":
        return not_found(request)
    preview = str((doc.get("data") or {}).get("text", ""))
    context: dict[str, Any] = {"room": room, "offset": offset, "preview": preview, "room_url": back,
                               "sender": doc.get("pseudonym", "")}  # fmt: skip
    if request.method == "GET":
        return page(request, "pages/rooms/report.html", context)
    data = await form_data(request)
    url = f"/f/{flavour.slug}/chat/{room.slug}/#bericht-{offset}"
    try:
        first = await services_of(request).rooms.report(actor, flavour, room, offset, data.get("reason", ""), url)
    except RoomError as exc:
        if _wants_json(request):
            return JSONResponse({"ok": False, "error": text_for(request, exc.detail)}, status_code=exc.status)
        context.update(errors={exc.field or "reason": exc.detail}, values={"reason": data.get("reason", "")})
        return page(request, "pages/rooms/report.html", context, exc.status)
    return done(request, back, "gemeld" if first else "al-gemeld")


async def host(request: Request) -> Response:
    found = await find(request)
    actor = actor_of(request)
    if found is None or actor is None:
        return not_found(request)
    flavour, room, _ = found
    data = await form_data(request)
    opened = data.get("actie") == "openen"
    try:
        await services_of(request).rooms.set_open(actor, flavour, room, opened)
    except RoomError as exc:
        return fail(request, exc, room_url(request, room))
    return done(request, room_url(request, room), "geopend" if opened else "gesloten")


# --- backoffice: rooms created by admins ------------------------------------------------------


async def backoffice(request: Request) -> Response:
    actor = admin_of(request)
    if isinstance(actor, Response):
        return actor
    services = services_of(request)
    errors: dict[str, str] = {}
    values: dict[str, str] = {}
    status = 200
    if request.method == "POST":
        values = await form_data(request)
        try:
            await services.rooms.create_room(actor, values)
        except RoomError as exc:
            errors = {exc.field or "slug": exc.detail}
            status = exc.status
        else:
            return redirect("/backoffice/ruimtes?melding=aangemaakt")
    docs = await services.rooms.admin_rooms(actor)
    return page(
        request, "pages/rooms/backoffice.html",
        {"rooms": docs, "modes": MODES, "catalog": list(services.catalog), "errors": errors, "values": values},
        status,
    )  # fmt: skip


async def backoffice_toggle(request: Request) -> Response:
    actor = actor_of(request)
    if actor is None or not actor.is_admin or request.path_params["action"] not in ("sluiten", "heropenen"):
        return not_found(request)
    active = request.path_params["action"] == "heropenen"
    try:
        await services_of(request).rooms.set_room_active(
            actor, request.path_params["flavour"], request.path_params["room"], active
        )
    except RoomError:
        return not_found(request)
    return redirect("/backoffice/ruimtes?melding=" + ("ruimte-heropend" if active else "ruimte-gesloten"))


_ROOM = "/f/{slug}/chat/{room}"
ROUTES: list[BaseRoute] = [
    Route("/f/{slug}/chat", chat_redirect, methods=["GET"]),
    Route("/f/{slug}/chat/", room_list, methods=["GET"]),
    RoomRoute(_ROOM + "/", room_page, methods=["GET"]),
    RoomRoute(_ROOM + "/geschiedenis", history_fragment, methods=["GET"]),
    RoomRoute(_ROOM + "/bericht", send, methods=["POST"]),
    RoomRoute(_ROOM + "/host", host, methods=["POST"]),
    RoomRoute(_ROOM + "/berichten/{offset:int}/melden", report, methods=["GET", "POST"]),
    RoomRoute(_ROOM + "/berichten/{offset:int}/{action:str}", message_action, methods=["POST"]),
    Route("/backoffice/ruimtes", backoffice, methods=["GET", "POST"]),
    Route("/backoffice/ruimtes/{flavour}/{room}/{action}", backoffice_toggle, methods=["POST"]),
]
