"""VraagBaak pages: "Stel je vraag" on the portal and every flavour, the private answer page, the staff desk.

The private page lives at ``/vraagbaak/v/<token>``; it is sent with
``Cache-Control: no-store`` and ``Referrer-Policy: no-referrer`` so the token
stays out of caches and other sites' logs (the request log names the route
template, never the path).
"""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING, Any
from urllib.parse import quote

from starlette.requests import Request
from starlette.responses import RedirectResponse, Response
from starlette.routing import Route

from chatserver.adapters.vraagbaak_repo import ACTIVE_STATUSES
from chatserver.domain.identity import Actor
from chatserver.flavours import Flavour
from chatserver.services import vraagbaak as vraagbaak_service
from chatserver.services.vraagbaak import STATUSES, VraagbaakError
from chatserver.web.feature import Feature
from chatserver.web.pages.account import form_data
from chatserver.web.pages.site import error_page

if TYPE_CHECKING:
    from chatserver.container import Services

log = logging.getLogger("chatserver.pages.vraagbaak")

# The open private page asks for its answer this often while the question waits (htmx polling: the private link
# is the only key, and the live gateway authenticates sessions, not links; a 204 answer costs almost nothing).
ANSWER_POLL_S = 30
PRIVATE_HEADERS = {"Cache-Control": "no-store", "Referrer-Policy": "no-referrer", "X-Robots-Tag": "noindex"}
NOTICES = {
    "geclaimd": "Je behandelt deze vraag nu.",
    "vrijgegeven": "De vraag staat weer open voor collega's.",
    "beantwoord": "Je antwoord is opgeslagen. De vrager leest het via de eigen link.",
    "doorgestuurd": "De vraag is doorgestuurd.",
    "gesloten": "De vraag is gesloten.",
    "verwijderd": "Je vraag en het antwoord zijn verwijderd.",
}
ACTION_NOTICES = {"claim": "geclaimd", "release": "vrijgegeven", "answer": "beantwoord", "route": "doorgestuurd",
                  "to_forum": "doorgestuurd", "to_spreekuur": "doorgestuurd",
                  "close": "gesloten"}  # fmt: skip


def install(services: Services) -> Feature:
    desk = services.vraagbaak
    templates = services.templates

    def actor_of(request: Request) -> Actor | None:
        actor: Actor | None = request.scope.get("actor")
        return actor

    def page(
        request: Request, name: str, context: dict[str, Any], status: int = 200, private: bool = False
    ) -> Response:
        context.setdefault("notice", NOTICES.get(request.query_params.get("melding", "")))
        context.setdefault("errors", {})
        context.setdefault("values", {})
        context.update(statuses=STATUSES, retention_days=desk.retention_days,
                       unhandled_days=vraagbaak_service.UNHANDLED_RETENTION_DAYS)  # fmt: skip
        headers = dict(PRIVATE_HEADERS) if private else None
        return templates.response(request, name, context, status_code=status, headers=headers)

    def not_found(request: Request) -> Response:
        response = error_page(services, request, 404)
        response.headers.update(PRIVATE_HEADERS)
        return response

    def redirect(url: str) -> Response:
        return RedirectResponse(url, status_code=303, headers=PRIVATE_HEADERS)

    # visitors --------------------------------------------------------------------------

    async def ask(request: Request) -> Response:
        flavour: Flavour | None = request.scope.get("flavour")
        if "slug" in request.path_params and flavour is None:
            return not_found(request)
        if request.method == "GET":
            values = {"flavour": flavour.slug if flavour else ""}
            return page(request, "pages/vraagbaak/ask.html", {"values": values, "catalog": list(services.catalog)})
        data = await form_data(request)
        chosen = flavour.slug if flavour else data.get("flavour", "")
        values = {"text": data.get("text", ""), "flavour": chosen}
        try:
            token, _doc = await desk.ask(
                values["text"], chosen or None, str(request.scope.get("ip_subject", "")), request.scope.get("actor")
            )
        except VraagbaakError as exc:
            response = page(request, "pages/vraagbaak/ask.html",
                            {"values": values, "errors": {exc.field or "text": exc.detail},
                             "catalog": list(services.catalog)}, exc.status)  # fmt: skip
            if exc.retry_after:
                response.headers["Retry-After"] = str(exc.retry_after)
            return response
        if _doc.get("urgent") and _doc.get("flavour"):
            await desk.alert_professional(_doc)
        return redirect(f"/vraagbaak/v/{token}?nieuw=1")

    async def ask_redirect(request: Request) -> Response:
        return RedirectResponse(f"{request.url.path}/", status_code=308)

    async def question(request: Request) -> Response:
        token = request.path_params["token"]
        try:
            doc = await desk.by_token(token)
        except VraagbaakError:
            return not_found(request)
        context = {
            "token": token,
            "link": f"{request.url.scheme}://{request.url.netloc}/vraagbaak/v/{token}",
            "fresh": request.query_params.get("nieuw") == "1",
            **_answer_context(doc, f"/vraagbaak/v/{token}/stand"),
        }
        return page(request, "pages/vraagbaak/question.html", context, private=True)

    def _answer_context(doc: dict[str, Any], poll_url: str) -> dict[str, Any]:
        flavour = services.catalog.get(str(doc["flavour"])) if doc.get("flavour") else None
        waiting = doc.get("status") in ACTIVE_STATUSES
        return {"question": doc, "routed_flavour": flavour, "poll_url": poll_url if waiting else "",
                "poll_s": ANSWER_POLL_S}  # fmt: skip

    def answer_part(request: Request, doc: dict[str, Any], poll_url: str) -> Response:
        """The answer section for htmx polling: 204 (nothing to swap) while the status is what the page shows."""
        if request.query_params.get("stand") == str(doc.get("status")):
            return Response(status_code=204, headers=PRIVATE_HEADERS)
        return page(request, "pages/vraagbaak/_answer.html", _answer_context(doc, poll_url), private=True)

    async def question_part(request: Request) -> Response:
        token = request.path_params["token"]
        try:
            doc = await desk.by_token(token)
        except VraagbaakError:
            return not_found(request)
        return answer_part(request, doc, f"/vraagbaak/v/{token}/stand")

    async def my_question(request: Request) -> Response:
        """The question a logged-in member asked, opened from their notification (no private link needed)."""
        try:
            doc = await desk.of_author(request.scope.get("actor"), request.path_params["question_id"])
        except VraagbaakError:
            return not_found(request)
        context = {"token": "", "link": "", "fresh": False,
                   **_answer_context(doc, f"/vraagbaak/mijn/{doc['_id']}/stand")}  # fmt: skip
        return page(request, "pages/vraagbaak/question.html", context, private=True)

    async def my_question_part(request: Request) -> Response:
        try:
            doc = await desk.of_author(request.scope.get("actor"), request.path_params["question_id"])
        except VraagbaakError:
            return not_found(request)
        return answer_part(request, doc, f"/vraagbaak/mijn/{doc['_id']}/stand")

    async def withdraw(request: Request) -> Response:
        try:
            await desk.withdraw(request.path_params["token"])
        except VraagbaakError:
            return not_found(request)
        return redirect("/vraagbaak/?melding=verwijderd")

    # staff -----------------------------------------------------------------------------

    def staff_login(request: Request) -> Response:
        return RedirectResponse("/staff/inloggen?volgende=" + quote(request.url.path, safe="/"), status_code=303)

    async def staff_queue(request: Request) -> Response:
        actor = actor_of(request)
        if actor is None:
            return staff_login(request)
        try:
            active, done = await desk.staff_queue(actor)
        except VraagbaakError:
            return error_page(services, request, 404)
        return page(request, "pages/backoffice/vraagbaak_list.html",
                    {"active": active, "done": done, "catalog": {f.slug: f for f in services.catalog}},
                    private=True)  # fmt: skip

    async def route_to_forum(actor: Actor, question_id: str, data: dict[str, str]) -> None:
        """Put the question on a flavour's forum as a new thread (by the staff member) and link it."""
        from chatserver.services.forum import ForumError

        doc = await desk.access(actor, question_id)
        flavour_slug, _, category = data.get("forum_target", "").partition("/")
        flavour = services.catalog.get(flavour_slug)
        forum = services.forum
        if flavour is None or forum is None:
            raise VraagbaakError("flavour", 422, "Kies de community waar deze vraag thuishoort.", "flavour")
        text = str(doc.get("text", ""))
        title = "Vraag via de VraagBaak: " + " ".join(text.split())[:60]
        try:
            posted = await forum.create_thread(actor, flavour, category, title, text, "")
        except ForumError as exc:
            reason = exc.detail or "Dit forum kan de vraag niet plaatsen."
            raise VraagbaakError("category", 422, reason, "category") from None
        url = f"/f/{flavour.slug}/forum/t/{posted.thread_id}"
        note = data.get("note", "") or "We hebben je vraag op het forum gezet; lotgenoten en medewerkers reageren daar."
        await desk.route(actor, question_id, flavour.slug, note, url)

    async def route_to_spreekuur(actor: Actor, question_id: str, data: dict[str, str]) -> None:
        """Send the question in, anonymously, to an upcoming spreekuur of a flavour and link it."""
        doc = await desk.access(actor, question_id)
        spreekuren = services.spreekuur
        session = await spreekuren.repo.get(data.get("spreekuur", ""))
        if session is None or not actor.staff_in(str(session["flavour"])):
            raise VraagbaakError("spreekuur", 422, "Kies een spreekuur van een community waar je medewerker bent.",
                                 "spreekuur")  # fmt: skip
        asked = await spreekuren.ask(actor, session, str(doc.get("text", "")), False)
        if asked.status == "refused":
            raise VraagbaakError("spreekuur", 422, asked.notice, "spreekuur")
        url = f"/f/{session['flavour']}/spreekuur/{session['_id']}/"
        note = (
            data.get("note", "") or "Je vraag komt aan bod in een spreekuur; je kunt het live volgen of later nalezen."
        )
        await desk.route(actor, question_id, str(session["flavour"]), note, url)

    async def staff_question(request: Request) -> Response:
        actor = actor_of(request)
        if actor is None:
            return staff_login(request)
        question_id = request.path_params["question_id"]
        errors: dict[str, str] = {}
        values: dict[str, str] = {}
        status = 200
        if request.method == "POST":
            data = await form_data(request)
            action = data.get("action", "")
            values = data
            try:
                if action == "claim":
                    await desk.claim(actor, question_id)
                elif action == "release":
                    await desk.release(actor, question_id)
                elif action == "answer":
                    await desk.answer(actor, question_id, data.get("answer", ""))
                elif action == "route":
                    await desk.route(actor, question_id, data.get("flavour", ""), data.get("note", ""),
                                     data.get("url", ""))  # fmt: skip
                elif action == "to_forum":
                    await route_to_forum(actor, question_id, data)
                elif action == "to_spreekuur":
                    await route_to_spreekuur(actor, question_id, data)
                elif action == "close":
                    await desk.close(actor, question_id, data.get("close_note", ""))
                else:
                    raise VraagbaakError("action", 422, "Deze actie bestaat niet.")
            except VraagbaakError as exc:
                if exc.status == 404:
                    return error_page(services, request, 404)
                errors = {exc.field or "action": exc.detail}
                status = exc.status
            else:
                notice = ACTION_NOTICES[action]
                if action in ("answer", "close", "to_forum", "to_spreekuur") or (action == "route" and data.get("url")):
                    return RedirectResponse(f"/backoffice/vraagbaak?melding={notice}", status_code=303)
                return RedirectResponse(f"/backoffice/vraagbaak/{question_id}?melding={notice}", status_code=303)
        try:
            doc = await desk.access(actor, question_id)
        except VraagbaakError:
            if request.method == "POST" and not errors:
                return RedirectResponse("/backoffice/vraagbaak?melding=doorgestuurd", status_code=303)
            return error_page(services, request, 404)
        spreekuren = services.spreekuur
        upcoming = []
        if spreekuren is not None:
            for flavour in services.catalog:
                if actor.staff_in(flavour.slug):
                    upcoming.extend(await spreekuren.upcoming(flavour.slug, 5))
        return page(request, "pages/backoffice/vraagbaak_detail.html",
                    {"question": doc, "catalog": list(services.catalog), "errors": errors, "values": values,
                     "mine": doc.get("claimed_by") == actor.account_id, "upcoming": upcoming,
                     "has_forum": True}, status, private=True)  # fmt: skip

    return Feature(
        routes=[
            Route("/vraagbaak", ask_redirect, methods=["GET"]),
            Route("/vraagbaak/", ask, methods=["GET", "POST"]),
            Route("/f/{slug}/vraagbaak", ask_redirect, methods=["GET"]),
            Route("/f/{slug}/vraagbaak/", ask, methods=["GET", "POST"]),
            Route("/vraagbaak/v/{token}", question, methods=["GET"]),
            Route("/vraagbaak/v/{token}/verwijderen", withdraw, methods=["POST"]),
            Route("/vraagbaak/v/{token}/stand", question_part, methods=["GET"]),
            Route("/vraagbaak/mijn/{question_id}", my_question, methods=["GET"]),
            Route("/vraagbaak/mijn/{question_id}/stand", my_question_part, methods=["GET"]),
            Route("/backoffice/vraagbaak", staff_queue, methods=["GET"]),
            Route("/backoffice/vraagbaak/{question_id}", staff_question, methods=["GET", "POST"]),
        ],
    )
