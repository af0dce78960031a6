"""1-on-1 chat pages: the visitor's way in (/f/<slug>/chat/gesprek/), the staff console, shifts and the roster."""

from __future__ import annotations

import logging
from datetime import date, datetime, timedelta
from typing import TYPE_CHECKING, Any
from urllib.parse import quote

from starlette.requests import Request
from starlette.responses import PlainTextResponse, RedirectResponse, Response
from starlette.routing import Route

from chatserver.domain import oneonone as rules
from chatserver.domain.channels import queue_channel, user_channel
from chatserver.domain.identity import Actor
from chatserver.flavours import TIMEZONE, Flavour
from chatserver.services.identity import IdentityError
from chatserver.services.oneonone import OneOnOneError
from chatserver.services.shifts import ShiftError
from chatserver.web.feature import Feature
from chatserver.web.pages.account import form_data
from chatserver.web.pages.site import chat_state, error_page, flavour_of
from chatserver.web.session import session_cookie

if TYPE_CHECKING:
    from chatserver.container import Services

log = logging.getLogger("chatserver.pages.oneonone")

NO_STORE = {"Cache-Control": "no-store"}
CHAT_PRESENCE_LIST = 50  # a 1-on-1 channel has a visitor and one or two staff members: always listed


def _is_chat_staff(actor: Actor | None) -> bool:
    return actor is not None and actor.is_staff and rules.tier_of_role(actor.role) is not None


def install(services: Services) -> Feature:
    shifts = services.shifts
    oneonone = services.oneonone

    def chat() -> Any:
        return services.chat

    templates = services.templates
    secure = services.settings.secure_cookies

    def actor_of(request: Request) -> Actor | None:
        actor: Actor | None = request.scope.get("actor")
        return actor

    def page(request: Request, name: str, context: dict[str, Any], status: int = 200) -> Response:
        return templates.response(request, name, context, status_code=status, headers=NO_STORE)

    def not_found(request: Request) -> Response:
        return error_page(services, request, 404)

    def redirect(url: str, token: str | None = None) -> Response:
        response = RedirectResponse(url, status_code=303)
        if token:
            response.headers.append("set-cookie", session_cookie(token, secure))
        return response

    def base(request: Request) -> str:
        return f"{request.scope.get('flavour_base', '')}/chat/gesprek"

    # visitor ------------------------------------------------------------------------------------

    async def entry_context(flavour: Flavour, actor: Actor | None) -> dict[str, Any]:
        state = chat_state(flavour, oneonone.clock())
        availability = await oneonone.availability(flavour.slug)
        return {
            "chat_state": state,
            "availability": availability,
            "needs_account": actor is None and not flavour.chat.guests_allowed,
        }

    async def entry(request: Request) -> Response:
        flavour = flavour_of(request)
        actor = actor_of(request)
        current = await oneonone.current(actor, flavour.slug)
        if request.method == "GET":
            if current is not None:
                return redirect(f"{base(request)}/{current['_id']}")
            return page(request, "pages/oneonone/entry.html", {**await entry_context(flavour, actor), "error": None})
        data = await form_data(request)
        token: str | None = None
        if actor is None:
            if not flavour.chat.guests_allowed:
                return redirect("/inloggen?volgende=" + quote(base(request) + "/", safe="/"))
            try:
                session = await services.identity.create_guest(
                    str(request.scope.get("ip_subject", "")), str(request.scope.get("device_token", ""))
                )
            except IdentityError as exc:
                context = {**await entry_context(flavour, actor), "error": exc.detail}
                return page(request, "pages/oneonone/entry.html", context, exc.status)
            actor, token = session.actor, session.token
        try:
            doc = await oneonone.request(actor, flavour.slug, data.get("topic", ""))
        except OneOnOneError as exc:
            context = {**await entry_context(flavour, actor), "error": exc.detail}
            return page(request, "pages/oneonone/entry.html", context, exc.status)
        return redirect(f"{base(request)}/{doc['_id']}", token)

    async def visitor_chat(request: Request) -> Response:
        flavour = flavour_of(request)
        actor = actor_of(request)
        try:
            doc = await oneonone.access_visitor(actor, flavour.slug, request.path_params["chat_id"])
        except OneOnOneError:
            return not_found(request)
        assert actor is not None
        position = await oneonone.position_view(doc) if doc["status"] == "waiting" else None
        history = await oneonone.repo.messages(str(doc["channel"]), 500)
        context = {
            "chat": doc,
            "position": position,
            "history": history,
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
            return error_page(services, request, 409 if exc.status == 409 else 400, exc.detail)
        return redirect(url)

    async def transcript(request: Request) -> Response:
        flavour = flavour_of(request)
        try:
            doc = await oneonone.access_visitor(actor_of(request), flavour.slug, request.path_params["chat_id"])
        except OneOnOneError:
            return not_found(request)
        text = await oneonone.transcript(doc)
        return PlainTextResponse(
            text, headers={"Cache-Control": "no-store", "Content-Disposition": 'attachment; filename="gesprek.txt"'}
        )

    # staff console ---------------------------------------------------------------------------------

    def staff_gate(request: Request, next_path: str) -> Response | None:
        actor = actor_of(request)
        if actor is None:
            return redirect("/staff/inloggen?volgende=" + quote(next_path, safe="/"))
        if not _is_chat_staff(actor):
            return not_found(request)
        return None

    async def console_context(actor: Actor) -> dict[str, Any]:
        view = await oneonone.queue_view(actor)
        status = await shifts.status_of(actor.account_id)
        flavours = oneonone.scope(actor)
        return {
            "queue": view,
            "my_chats": await oneonone.my_chats(actor),
            "shift": status,
            "channels": [queue_channel(f) for f in flavours] + [user_channel(actor.account_id)],
            "catalog": {f.slug: f for f in services.catalog},
            "tz": TIMEZONE,
        }

    async def console(request: Request) -> Response:
        gate = staff_gate(request, "/backoffice/gesprekken")
        if gate is not None:
            return gate
        actor = actor_of(request)
        assert actor is not None
        context = await console_context(actor)
        context["error"] = request.query_params.get("fout", "")
        return page(request, "pages/backoffice/console.html", context)

    async def console_panel(request: Request) -> Response:
        gate = staff_gate(request, "/backoffice/gesprekken")
        if gate is not None:
            return gate
        actor = actor_of(request)
        assert actor is not None
        return page(request, "pages/backoffice/console_panel.html", await console_context(actor))

    async def console_accept(request: Request) -> Response:
        gate = staff_gate(request, "/backoffice/gesprekken")
        if gate is not None:
            return gate
        actor = actor_of(request)
        assert actor is not None
        data = await form_data(request)
        try:
            doc = await oneonone.accept(actor, data.get("chat_id") or None)
        except OneOnOneError as exc:
            if exc.status == 404:
                return not_found(request)
            return redirect("/backoffice/gesprekken?fout=" + quote(exc.detail))
        return redirect(f"/backoffice/gesprekken/{doc['_id']}")

    async def console_chat(request: Request) -> Response:
        chat_id = request.path_params["chat_id"]
        gate = staff_gate(request, f"/backoffice/gesprekken/{chat_id}")
        if gate is not None:
            return gate
        actor = actor_of(request)
        assert actor is not None
        try:
            doc = await oneonone.access_staff(actor, chat_id)
        except OneOnOneError:
            return not_found(request)
        flavour = services.catalog.get(str(doc["flavour"]))
        mine = doc.get("status") == "active" and doc.get("staff_id") == actor.account_id
        tier = rules.tier_of_role(actor.role)
        higher = [(r, rules.role_label(r)) for t, r in rules.TIER_ROLES.items() if tier is not None and t > tier]
        context = {
            "chat": doc,
            "mine": mine,
            "history": await oneonone.repo.messages(str(doc["channel"]), 500),
            "colleagues": await oneonone.colleagues(actor, doc),
            "higher_roles": higher,
            "canned": rules.CANNED_REPLIES,
            "outcomes": rules.OUTCOME_TAGS,
            "chat_flavour": flavour,
            "is_professional": tier == rules.Tier.PROFESSIONAL,
            "error": request.query_params.get("fout", ""),
            "role_label": rules.role_label,
        }
        return page(request, "pages/backoffice/console_chat.html", context)

    async def console_action(request: Request) -> Response:
        chat_id = request.path_params["chat_id"]
        action = request.path_params["action"]
        gate = staff_gate(request, f"/backoffice/gesprekken/{chat_id}")
        if gate is not None:
            return gate
        actor = actor_of(request)
        assert actor is not None
        form = await request.form()
        tags = [str(v) for v in form.getlist("tags") if isinstance(v, str)]
        await form.close()
        data = await form_data(request)
        url = f"/backoffice/gesprekken/{chat_id}"
        try:
            if action == "notitie":
                await oneonone.add_note(actor, chat_id, data.get("text", ""))
            elif action == "overdragen":
                await oneonone.transfer(actor, chat_id, data.get("target", ""), data.get("note", ""))
                return redirect("/backoffice/gesprekken")
            elif action == "doorverbinden":
                doc = await oneonone.escalate(
                    actor, chat_id, data.get("role", ""), data.get("note", ""), data.get("target") or None
                )
                if doc.get("staff_id") != actor.account_id or doc.get("status") != "active":
                    return redirect("/backoffice/gesprekken")
            elif action == "afsluiten":
                await oneonone.end(actor, chat_id, tags)
                return redirect("/backoffice/gesprekken")
            elif action == "bewaren":
                await oneonone.set_hold(actor, chat_id, data.get("hold") == "aan", data.get("reason", ""))
            else:
                return not_found(request)
        except OneOnOneError as exc:
            if exc.status == 404:
                return not_found(request)
            return redirect(url + "?fout=" + quote(exc.detail))
        return redirect(url)

    # shifts and roster -------------------------------------------------------------------------------

    async def shift_page(request: Request) -> Response:
        gate = staff_gate(request, "/backoffice/dienst")
        if gate is not None:
            return gate
        actor = actor_of(request)
        assert actor is not None
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
            "scope": oneonone.scope(actor),
            "error": error,
            "catalog": {f.slug: f for f in services.catalog},
            "default_capacity": rules.DEFAULT_CAPACITY,
            "max_capacity": rules.MAX_CAPACITY,
        }
        return page(request, "pages/backoffice/shifts.html", context, status)

    async def roster_page(request: Request) -> Response:
        actor = actor_of(request)
        if actor is None:
            return redirect("/staff/inloggen?volgende=/backoffice/rooster")
        if not actor.is_admin:
            return not_found(request)
        identity = services.identity
        staff = [d for d in await identity.staff_list(actor) if rules.tier_of_role(str(d.get("role"))) is not None]
        flavour_slug = request.query_params.get("smaak", "") or next(iter(services.catalog)).slug
        error = ""
        status = 200
        if request.method == "POST":
            data = await form_data(request)
            flavour_slug = data.get("flavour", flavour_slug)
            member = next((d for d in staff if str(d["_id"]) == data.get("account_id")), None)
            try:
                day = date.fromisoformat(data.get("day", ""))
            except ValueError:
                day = None
            if member is None or day is None:
                error, status = "Kies een medewerker en een datum.", 422
            else:
                try:
                    await shifts.add_block(
                        actor,
                        flavour_slug,
                        str(member["_id"]),
                        str(member.get("pseudonym", "")),
                        str(member.get("role", "")),
                        day,
                        data.get("start", ""),
                        data.get("end", ""),
                        member_flavours=list(member.get("flavours") or ()),
                    )
                    return redirect(f"/backoffice/rooster?smaak={quote(flavour_slug)}")
                except ShiftError as exc:
                    error, status = exc.detail, exc.status
        flavour = services.catalog.get(flavour_slug)
        if flavour is None:
            return not_found(request)
        today = services.clock().astimezone(TIMEZONE).date()
        start = datetime.combine(today, datetime.min.time(), tzinfo=TIMEZONE)
        blocks = await shifts.blocks(flavour.slug, start, start + timedelta(days=8))
        context = {
            "flavour_sel": flavour,
            "blocks": blocks,
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
        await shifts.delete_block(actor, request.path_params["block_id"])
        return redirect("/backoffice/rooster?smaak=" + quote(data.get("flavour", "")))

    return Feature(
        routes=[
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
        ],
    )
