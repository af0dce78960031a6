"""VraagBaak pages: "Stel je vraag" on the portal and every flavour, the private answer page, the staff desk.

The private page lives at ``/vraagbaak/v/<token>``; it is sent with
``Cache-Control: no-store`` and ``Referrer-Policy: no-referrer`` so the token
stays out of caches and other sites' logs (the request log names the route
template, never the path).
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

from starlette.requests import Request
from starlette.responses import RedirectResponse, Response
from starlette.routing import BaseRoute, Route

from chatserver.domain.identity import Actor
from chatserver.domain.vraagbaak import ACTIVE_STATUSES, UNHANDLED_RETENTION_DAYS
from chatserver.flavours import Flavour
from chatserver.i18n import N_
from chatserver.services.forum import ForumError
from chatserver.services.spreekuur import SpreekuurError
from chatserver.services.vraagbaak import STATUSES, VraagbaakError, VraagbaakService
from chatserver.web.responses import (
    PRIVATE_HEADERS,
    actor_of,
    form_data,
    not_found,
    page,
    redirect,
    services_of,
    staff_login,
)

# The open private page asks for its answer this often while the question waits (htmx polling: the private link
# is the only key, and the live gateway authenticates sessions, not links; a 204 answer costs almost nothing).
ANSWER_POLL_S = 30
NOTICES = {
    "geclaimd": N_("Je behandelt deze vraag nu."),
    "vrijgegeven": N_("De vraag staat weer open voor collega's."),
    "beantwoord": N_("Je antwoord is opgeslagen. De vrager leest het via de eigen link."),
    "doorgestuurd": N_("De vraag is doorgestuurd."),
    "gesloten": N_("De vraag is gesloten."),
    "verwijderd": N_("Je vraag en het antwoord zijn verwijderd."),
}
ACTION_NOTICES = {"claim": "geclaimd", "release": "vrijgegeven", "answer": "beantwoord", "route": "doorgestuurd",
                  "to_forum": "doorgestuurd", "to_spreekuur": "doorgestuurd",
                  "close": "gesloten"}  # fmt: skip
# After these actions the question has left the staff member's hands: back to the list.
DONE_ACTIONS = frozenset({"answer", "close", "to_forum", "to_spreekuur"})
StaffAction = Callable[[Request, Actor, str, dict[str, str]], Awaitable[object]]


def _desk(request: Request) -> VraagbaakService:
    return services_of(request).vraagbaak


def _page(request: Request, name: str, context: dict[str, Any], status: int = 200, private: bool = False) -> Response:
    """A VraagBaak page: the shared defaults, this area's notices, the status names and the retention periods."""
    context.update(statuses=STATUSES, retention_days=_desk(request).retention_days,
                   unhandled_days=UNHANDLED_RETENTION_DAYS)  # fmt: skip
    return page(request, name, context, status, notices=NOTICES, private=private)


# --- visitors ----------------------------------------------------------------------------------------------------


async def ask(request: Request) -> Response:
    flavour: Flavour | None = request.scope.get("flavour")
    if "slug" in request.path_params and flavour is None:
        return not_found(request, private=True)
    catalog = list(services_of(request).catalog)
    if request.method == "GET":
        values = {"flavour": flavour.slug if flavour else ""}
        return _page(request, "pages/vraagbaak/ask.html", {"values": values, "catalog": catalog})
    data = await form_data(request)
    chosen = flavour.slug if flavour else data.get("flavour", "")
    values = {"text": data.get("text", ""), "flavour": chosen}
    desk = _desk(request)
    try:
        token, doc = await desk.ask(values["text"], chosen or None, str(request.scope.get("ip_subject", "")),
                                    actor_of(request))  # fmt: skip
    except VraagbaakError as exc:
        response = _page(request, "pages/vraagbaak/ask.html",
                         {"values": values, "errors": {exc.field or "text": exc.detail}, "catalog": catalog},
                         exc.status)  # fmt: skip
        if exc.retry_after:
            response.headers["Retry-After"] = str(exc.retry_after)
        return response
    if doc.get("urgent") and doc.get("flavour"):
        await desk.alert_professional(doc)
    return redirect(f"/vraagbaak/v/{token}?nieuw=1", private=True)


async def ask_redirect(request: Request) -> Response:
    return RedirectResponse(f"{request.url.path}/", status_code=308)


def _answer_context(request: Request, doc: dict[str, Any], poll_url: str) -> dict[str, Any]:
    flavour = services_of(request).catalog.get(str(doc["flavour"])) if doc.get("flavour") else None
    waiting = doc.get("status") in ACTIVE_STATUSES
    return {"question": doc, "routed_flavour": flavour, "poll_url": poll_url if waiting else "",
            "poll_s": ANSWER_POLL_S}  # fmt: skip


def _answer_part(request: Request, doc: dict[str, Any], poll_url: str) -> Response:
    """The answer section for htmx polling: 204 (nothing to swap) while the status is what the page shows."""
    if request.query_params.get("stand") == str(doc.get("status")):
        return Response(status_code=204, headers=PRIVATE_HEADERS)
    return _page(request, "pages/vraagbaak/_answer.html", _answer_context(request, doc, poll_url), private=True)


async def question(request: Request) -> Response:
    token = request.path_params["token"]
    try:
        doc = await _desk(request).by_token(token)
    except VraagbaakError:
        return not_found(request, private=True)
    context = {
        "token": token,
        "link": f"{request.url.scheme}://{request.url.netloc}/vraagbaak/v/{token}",
        "fresh": request.query_params.get("nieuw") == "1",
        **_answer_context(request, doc, f"/vraagbaak/v/{token}/stand"),
    }
    return _page(request, "pages/vraagbaak/question.html", context, private=True)


async def question_part(request: Request) -> Response:
    token = request.path_params["token"]
    try:
        doc = await _desk(request).by_token(token)
    except VraagbaakError:
        return not_found(request, private=True)
    return _answer_part(request, doc, f"/vraagbaak/v/{token}/stand")


async def my_question(request: Request) -> Response:
    """The question a logged-in member asked, opened from their notification (no private link needed)."""
    try:
        doc = await _desk(request).of_author(actor_of(request), request.path_params["question_id"])
    except VraagbaakError:
        return not_found(request, private=True)
    context = {"token": "", "link": "", "fresh": False,
               **_answer_context(request, doc, f"/vraagbaak/mijn/{doc['_id']}/stand")}  # fmt: skip
    return _page(request, "pages/vraagbaak/question.html", context, private=True)


async def my_question_part(request: Request) -> Response:
    try:
        doc = await _desk(request).of_author(actor_of(request), request.path_params["question_id"])
    except VraagbaakError:
        return not_found(request, private=True)
    return _answer_part(request, doc, f"/vraagbaak/mijn/{doc['_id']}/stand")


async def withdraw(request: Request) -> Response:
    try:
        await _desk(request).withdraw(request.path_params["token"])
    except VraagbaakError:
        return not_found(request, private=True)
    return redirect("/vraagbaak/?melding=verwijderd", private=True)


# --- staff -------------------------------------------------------------------------------------------------------


async def staff_queue(request: Request) -> Response:
    actor = actor_of(request)
    if actor is None:
        return staff_login(request)
    try:
        active, done = await _desk(request).staff_queue(actor)
    except VraagbaakError:
        return not_found(request)
    return _page(request, "pages/backoffice/vraagbaak_list.html",
                 {"active": active, "done": done, "catalog": {f.slug: f for f in services_of(request).catalog}},
                 private=True)  # fmt: skip


async def route_to_forum(request: Request, actor: Actor, question_id: str, data: dict[str, str]) -> None:
    """Put the question on a flavour's forum as a new thread (by the staff member) and link it."""
    services = services_of(request)
    doc = await services.vraagbaak.access(actor, question_id)
    flavour_slug, _, category = data.get("forum_target", "").partition("/")
    flavour = services.catalog.get(flavour_slug)
    if flavour is None:
        raise VraagbaakError("flavour", 422, N_("Kies de community waar deze vraag thuishoort."), "flavour")
    text = str(doc.get("text", ""))
    title = "Vraag via de VraagBaak: " + " ".join(text.split())[:60]  # i18n: a forum title, content
    try:
        posted = await services.forum.create_thread(actor, flavour, category, title, text, "")
    except ForumError as exc:
        reason = exc.detail or N_("Dit forum kan de vraag niet plaatsen.")
        raise VraagbaakError("category", 422, reason, "category") from None
    url = f"/f/{flavour.slug}/forum/t/{posted.thread_id}"
    note = data.get("note", "") or N_("We hebben je vraag op het forum gezet; lotgenoten en medewerkers reageren daar.")
    await services.vraagbaak.route(actor, question_id, flavour.slug, note, url)


async def route_to_spreekuur(request: Request, actor: Actor, question_id: str, data: dict[str, str]) -> None:
    """Send the question in, anonymously, to an upcoming spreekuur of a flavour and link it."""
    services = services_of(request)
    doc = await services.vraagbaak.access(actor, question_id)
    try:
        session = await services.spreekuur.staff_get(actor, data.get("spreekuur", ""))
    except SpreekuurError:
        raise VraagbaakError("spreekuur", 422, N_("Kies een spreekuur van een community waar je medewerker bent."),
                             "spreekuur") from None  # fmt: skip
    asked = await services.spreekuur.ask(actor, session, str(doc.get("text", "")), False)
    if asked.status == "refused":
        raise VraagbaakError("spreekuur", 422, asked.notice, "spreekuur")
    url = f"/f/{session['flavour']}/spreekuur/{session['_id']}/"
    note = data.get("note", "") or N_(
        "Je vraag komt aan bod in een spreekuur; je kunt het live volgen of later nalezen."
    )
    await services.vraagbaak.route(actor, question_id, str(session["flavour"]), note, url)


async def _claim(request: Request, actor: Actor, question_id: str, data: dict[str, str]) -> object:
    return await _desk(request).claim(actor, question_id)


async def _release(request: Request, actor: Actor, question_id: str, data: dict[str, str]) -> object:
    return await _desk(request).release(actor, question_id)


async def _answer(request: Request, actor: Actor, question_id: str, data: dict[str, str]) -> object:
    return await _desk(request).answer(actor, question_id, data.get("answer", ""))


async def _route(request: Request, actor: Actor, question_id: str, data: dict[str, str]) -> object:
    return await _desk(request).route(actor, question_id, data.get("flavour", ""), data.get("note", ""),
                                      data.get("url", ""))  # fmt: skip


async def _close(request: Request, actor: Actor, question_id: str, data: dict[str, str]) -> object:
    return await _desk(request).close(actor, question_id, data.get("close_note", ""))


STAFF_ACTIONS: dict[str, StaffAction] = {
    "claim": _claim,
    "release": _release,
    "answer": _answer,
    "route": _route,
    "to_forum": route_to_forum,
    "to_spreekuur": route_to_spreekuur,
    "close": _close,
}


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
            run = STAFF_ACTIONS.get(action)
            if run is None:
                raise VraagbaakError("action", 422, N_("Deze actie bestaat niet."))
            await run(request, actor, question_id, data)
        except VraagbaakError as exc:
            if exc.status == 404:
                return not_found(request)
            errors = {exc.field or "action": exc.detail}
            status = exc.status
        else:
            notice = ACTION_NOTICES[action]
            if action in DONE_ACTIONS or (action == "route" and data.get("url")):
                return redirect(f"/backoffice/vraagbaak?melding={notice}")
            return redirect(f"/backoffice/vraagbaak/{question_id}?melding={notice}")
    return await _staff_question_page(request, actor, question_id, errors, values, status)


async def _staff_question_page(
    request: Request, actor: Actor, question_id: str, errors: dict[str, str], values: dict[str, str], status: int
) -> Response:
    services = services_of(request)
    try:
        doc = await services.vraagbaak.access(actor, question_id)
    except VraagbaakError:
        if request.method == "POST" and not errors:
            return redirect("/backoffice/vraagbaak?melding=doorgestuurd")
        return not_found(request)
    upcoming = []
    for flavour in services.catalog:
        if actor.staff_in(flavour.slug):
            upcoming.extend(await services.spreekuur.upcoming(flavour.slug, 5))
    return _page(request, "pages/backoffice/vraagbaak_detail.html",
                 {"question": doc, "catalog": list(services.catalog), "errors": errors, "values": values,
                  "mine": doc.get("claimed_by") == actor.account_id, "upcoming": upcoming,
                  "has_forum": True}, status, private=True)  # fmt: skip


ROUTES: list[BaseRoute] = [
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
]
