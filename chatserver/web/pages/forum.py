"""Forum pages per flavour (categories, threads, replies, edits, search) and the notifications page.

Every form posts and redirects, works without JavaScript and carries the CSRF
token; new replies arrive live on the thread page through static/js/forum-live.js.
A thread of another flavour, a held post of someone else and an id that never
existed all answer the same 404 page.
"""

from __future__ import annotations

import logging
from typing import Any, Literal

from starlette.requests import Request
from starlette.responses import HTMLResponse, Response
from starlette.routing import BaseRoute, Route

from chatserver.domain.channels import thread_channel
from chatserver.domain.identity import Actor
from chatserver.flavours import Flavour
from chatserver.i18n import N_
from chatserver.services.forum import MAX_BODY_CHARS, MAX_TITLE_CHARS, ForumError, ForumService, Posted, quote_of
from chatserver.web.pages.site import flavour_of
from chatserver.web.responses import actor_of, form_data, not_found, redirect, services_of
from chatserver.web.responses import page as render
from chatserver.web.templating import page_defaults

log = logging.getLogger("chatserver.pages.forum")

NOTICES = {
    "geplaatst": N_("Je bericht is geplaatst."),
    "bewerkt": N_("Je wijziging is opgeslagen. De vorige versie staat in de geschiedenis."),
    "gemeld": N_("Dank je wel voor je melding. Een moderator kijkt ernaar."),
    "volgen": N_("Je volgt dit onderwerp. Je krijgt een melding bij nieuwe reacties."),
    "ontvolgd": N_("Je volgt dit onderwerp niet meer."),
    "wacht": N_("Je bericht wacht op goedkeuring van een moderator. Alleen jij ziet het tot het is goedgekeurd."),
    "gelezen": N_("Alle meldingen zijn als gelezen gemarkeerd."),
}


def _page_number(request: Request) -> int:
    raw = request.query_params.get("pagina", "1")
    try:
        number = int(raw) if raw.isdigit() else 1
    except ValueError:
        number = 1
    return min(max(number, 1), 10_000)


def base(request: Request) -> str:
    return f"{request.scope.get('flavour_base', '')}/forum"


def page(request: Request, name: str, context: dict[str, Any], status: int = 200) -> Response:
    context.setdefault("forum_base", base(request))
    context["max_body"] = MAX_BODY_CHARS
    context["max_title"] = MAX_TITLE_CHARS
    return render(request, name, context, status, notices=NOTICES)


def forum_of(request: Request) -> ForumService:
    return services_of(request).forum


async def thread_from(request: Request) -> tuple[Flavour, dict[str, Any]]:
    flavour = flavour_of(request)
    thread = await forum_of(request).access_thread(actor_of(request), flavour, str(request.path_params["thread_id"]))
    return flavour, thread


async def post_from(request: Request) -> tuple[Flavour, dict[str, Any], dict[str, Any]]:
    flavour, thread = await thread_from(request)
    post_id = str(request.path_params["post_id"])
    post = await forum_of(request).access_post(actor_of(request), flavour, thread, post_id)
    return flavour, thread, post


def _can_post(forum: ForumService, actor: Actor | None, flavour: Flavour) -> str:
    """ "" when the actor may post, else why not: "login" or "validation"."""
    try:
        forum.check_can_post(actor, flavour)
    except ForumError as exc:
        return exc.code
    return ""


def _after_post_url(base: str, posted: Posted) -> str:
    melding = "crisis" if posted.crisis else ("wacht" if posted.status == "held" else "geplaatst")
    return f"{base}/t/{posted.thread_id}/p/{posted.post_id}/ga?melding={melding}"


# reading --------------------------------------------------------------------------------------------


async def index_redirect(request: Request) -> Response:
    return redirect(base(request) + "/")


async def index(request: Request) -> Response:
    flavour = flavour_of(request)
    counts, latest = await forum_of(request).index(flavour)
    return page(request, "pages/forum/index.html", {"counts": counts, "latest": latest})


async def category(request: Request) -> Response:
    flavour = flavour_of(request)
    cat = flavour.category(str(request.path_params["category"]))
    if cat is None:
        return not_found(request)
    result = await forum_of(request).category_page(actor_of(request), flavour, cat.slug, _page_number(request))
    return page(request, "pages/forum/category.html", {"category": cat, "result": result})


async def _thread_context(
    request: Request, flavour: Flavour, thread: dict[str, Any], values: dict[str, str]
) -> dict[str, Any]:
    """What the thread page shows: a page of posts, the reply form and what this reader may do."""
    forum = forum_of(request)
    actor = actor_of(request)
    return {
        "thread": thread,
        "category": flavour.category(str(thread["category"])),
        "result": await forum.thread_page(actor, flavour, thread, _page_number(request)),
        "values": values,
        "following": await forum.is_following(actor, thread),
        "is_staff": bool(actor and actor.staff_in(flavour.slug)),
        "can_post": _can_post(forum, actor, flavour),
        "channel": thread_channel(flavour.slug, str(thread["_id"])),
        "crisis": request.query_params.get("melding") == "crisis",
        "can_edit": lambda post: forum.can_edit(actor, flavour, thread, post),
    }


async def _quoted(request: Request, flavour: Flavour, thread: dict[str, Any]) -> str:
    """The reply form's text when the reader quotes a post (``?citeer=<post id>``)."""
    quote_id = request.query_params.get("citeer", "")
    if not quote_id:
        return ""
    try:
        quoted = await forum_of(request).access_post(actor_of(request), flavour, thread, quote_id)
    except ForumError:
        return ""
    return quote_of(quoted)


async def thread_view(request: Request) -> Response:
    try:
        flavour, thread = await thread_from(request)
    except ForumError:
        return not_found(request)
    values = {"body": await _quoted(request, flavour, thread)}
    return page(request, "pages/forum/thread.html", await _thread_context(request, flavour, thread, values))


async def post_fragment(request: Request) -> Response:
    """One post as an HTML fragment (what the live client appends)."""
    try:
        flavour, thread, post = await post_from(request)
    except ForumError:
        return HTMLResponse("", status_code=404)
    forum = forum_of(request)
    actor = actor_of(request)
    context = page_defaults(request)
    context.update(
        {
            "post": post,
            "thread": thread,
            "flavour": flavour,
            "forum_base": base(request),
            "csrf_token": request.scope.get("csrf_token", ""),
            "actor": actor,
            "can_post": _can_post(forum, actor, flavour),
            "can_edit": lambda p: forum.can_edit(actor, flavour, thread, p),
        }
    )
    html = services_of(request).templates.render("pages/forum/_post.html", context)
    return HTMLResponse(html, headers={"Cache-Control": "no-store"})


async def post_goto(request: Request) -> Response:
    try:
        flavour, thread, post = await post_from(request)
    except ForumError:
        return not_found(request)
    number = await forum_of(request).page_of_post(actor_of(request), flavour, post)
    params = [f"pagina={number}"] if number > 1 else []
    melding = request.query_params.get("melding", "")
    if melding in NOTICES or melding == "crisis":
        params.append(f"melding={melding}")
    suffix = "?" + "&".join(params) if params else ""
    return redirect(f"{base(request)}/t/{thread['_id']}{suffix}#bericht-{post['_id']}")


async def history(request: Request) -> Response:
    try:
        _, thread, post = await post_from(request)
    except ForumError:
        return not_found(request)
    revisions = await forum_of(request).revisions(post)
    return page(request, "pages/forum/history.html", {"thread": thread, "post": post, "revisions": revisions})


async def search(request: Request) -> Response:
    flavour = flavour_of(request)
    query = request.query_params.get("q", "")[:200]
    results = await forum_of(request).search(flavour, query) if query.strip() else []
    return page(request, "pages/forum/search.html", {"query": query, "results": results})


# writing -------------------------------------------------------------------------------------------


async def new_thread(request: Request) -> Response:
    flavour = flavour_of(request)
    cat = flavour.category(str(request.path_params["category"]))
    if cat is None:
        return not_found(request)
    forum = forum_of(request)
    actor = actor_of(request)
    context: dict[str, Any] = {"category": cat, "can_post": _can_post(forum, actor, flavour)}
    if request.method == "GET":
        return page(request, "pages/forum/new_thread.html", context)
    data = await form_data(request)
    try:
        posted = await forum.create_thread(
            actor, flavour, cat.slug, data.get("title", ""), data.get("body", ""),
            str(request.scope.get("ip_subject", "")),
        )  # fmt: skip
    except ForumError as exc:
        context.update(errors={exc.field or "form": exc.detail}, values=data)
        return page(request, "pages/forum/new_thread.html", context, status=exc.status)
    return redirect(_after_post_url(base(request), posted))


async def reply(request: Request) -> Response:
    try:
        flavour, thread = await thread_from(request)
    except ForumError:
        return not_found(request)
    data = await form_data(request)
    try:
        posted = await forum_of(request).reply(
            actor_of(request), flavour, thread, data.get("body", ""), str(request.scope.get("ip_subject", ""))
        )
    except ForumError as exc:
        context = await _thread_context(request, flavour, thread, data)
        context.update(errors={exc.field or "form": exc.detail}, crisis=False)
        return page(request, "pages/forum/thread.html", context, status=exc.status)
    return redirect(_after_post_url(base(request), posted))


async def edit(request: Request) -> Response:
    try:
        flavour, thread, post = await post_from(request)
    except ForumError:
        return not_found(request)
    forum = forum_of(request)
    actor = actor_of(request)
    if not forum.can_edit(actor, flavour, thread, post):
        return not_found(request)
    context: dict[str, Any] = {
        "thread": thread,
        "post": post,
        "values": {"body": post.get("body", ""), "title": thread.get("title", "")},
    }
    if request.method == "GET":
        return page(request, "pages/forum/edit.html", context)
    data = await form_data(request)
    title = data.get("title") if post.get("first") else None
    try:
        posted = await forum.edit(actor, flavour, thread, post, data.get("body", ""), title)
    except ForumError as exc:
        context.update(errors={exc.field or "form": exc.detail}, values=data)
        return page(request, "pages/forum/edit.html", context, status=exc.status)
    if posted.status == "held":
        return redirect(_after_post_url(base(request), posted))
    return redirect(f"{base(request)}/t/{thread['_id']}/p/{post['_id']}/ga?melding=bewerkt")


async def report(request: Request) -> Response:
    try:
        flavour, thread, post = await post_from(request)
    except ForumError:
        return not_found(request)
    context: dict[str, Any] = {"thread": thread, "post": post}
    if request.method == "GET":
        return page(request, "pages/forum/report.html", context)
    data = await form_data(request)
    try:
        await forum_of(request).report(actor_of(request), flavour, post, data.get("reason", ""))
    except ForumError as exc:
        if exc.status == 404:
            return not_found(request)
        context.update(errors={exc.field or "form": exc.detail}, values=data)
        return page(request, "pages/forum/report.html", context, status=exc.status)
    return redirect(f"{base(request)}/t/{thread['_id']}?melding=gemeld")


async def follow(request: Request) -> Response:
    try:
        flavour, thread = await thread_from(request)
    except ForumError:
        return not_found(request)
    data = await form_data(request)
    wanted = data.get("volgen") == "1"
    try:
        await forum_of(request).set_following(actor_of(request), flavour, thread, wanted)
    except ForumError:
        return redirect("/inloggen")
    return redirect(f"{base(request)}/t/{thread['_id']}?melding={'volgen' if wanted else 'ontvolgd'}")


async def _toggle(request: Request, field: Literal["pinned", "locked"]) -> Response:
    try:
        flavour, thread = await thread_from(request)
        await forum_of(request).toggle(actor_of(request), flavour, thread, field)
    except ForumError:
        return not_found(request)
    return redirect(f"{base(request)}/t/{thread['_id']}")


async def pin(request: Request) -> Response:
    return await _toggle(request, "pinned")


async def lock(request: Request) -> Response:
    return await _toggle(request, "locked")


# notifications ---------------------------------------------------------------------------------------


async def notifications(request: Request) -> Response:
    actor = actor_of(request)
    if actor is None or actor.is_guest:
        return redirect("/inloggen?volgende=/account/meldingen")
    forum = forum_of(request)
    if request.method == "POST":
        await form_data(request)
        await forum.mark_read(actor)
        return redirect("/account/meldingen?melding=gelezen")
    items = await forum.notifications(actor)
    unread = await forum.unread_count(str(actor.account_id))
    return page(request, "pages/forum/notifications.html", {"items": items, "unread": unread})


async def notification_count(request: Request) -> Response:
    actor = actor_of(request)
    count = 0 if actor is None or actor.is_guest else await forum_of(request).unread_count(str(actor.account_id))
    html = services_of(request).templates.render("pages/forum/_unread.html", {"count": count})
    return HTMLResponse(html, headers={"Cache-Control": "no-store"})


_FORUM = "/f/{slug}/forum"
ROUTES: list[BaseRoute] = [
    Route(_FORUM, index_redirect, methods=["GET"]),
    Route(_FORUM + "/", index, methods=["GET"]),
    Route(_FORUM + "/zoeken", search, methods=["GET"]),
    Route(_FORUM + "/c/{category}/", category, methods=["GET"]),
    Route(_FORUM + "/c/{category}/nieuw", new_thread, methods=["GET", "POST"]),
    Route(_FORUM + "/t/{thread_id}", thread_view, methods=["GET"]),
    Route(_FORUM + "/t/{thread_id}/reageren", reply, methods=["POST"]),
    Route(_FORUM + "/t/{thread_id}/volgen", follow, methods=["POST"]),
    Route(_FORUM + "/t/{thread_id}/vastzetten", pin, methods=["POST"]),
    Route(_FORUM + "/t/{thread_id}/sluiten", lock, methods=["POST"]),
    Route(_FORUM + "/t/{thread_id}/p/{post_id}", post_fragment, methods=["GET"]),
    Route(_FORUM + "/t/{thread_id}/p/{post_id}/ga", post_goto, methods=["GET"]),
    Route(_FORUM + "/t/{thread_id}/p/{post_id}/bewerken", edit, methods=["GET", "POST"]),
    Route(_FORUM + "/t/{thread_id}/p/{post_id}/versies", history, methods=["GET"]),
    Route(_FORUM + "/t/{thread_id}/p/{post_id}/melden", report, methods=["GET", "POST"]),
    Route("/account/meldingen", notifications, methods=["GET", "POST"]),
    Route("/account/meldingen/aantal", notification_count, methods=["GET"]),
]
