"""Forum pages per flavour (categories, threads, replies, edits, search) and the notifications page.

Every form posts and redirects, works without JavaScript and carries the CSRF
token; new replies arrive live on the thread page through static/js/forum-live.js.
A thread of another flavour, a held post of someone else and an id that never
existed all answer the same 404 page.
"""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING, Any

from starlette.requests import Request
from starlette.responses import HTMLResponse, RedirectResponse, Response
from starlette.routing import Route

from chatserver.domain.channels import thread_channel
from chatserver.domain.identity import Actor
from chatserver.flavours import Flavour
from chatserver.services.forum import MAX_BODY_CHARS, MAX_TITLE_CHARS, ForumError, ForumService, quote_of
from chatserver.web.feature import Feature
from chatserver.web.pages.account import form_data
from chatserver.web.pages.site import error_page, flavour_of
from chatserver.web.templating import page_defaults

if TYPE_CHECKING:
    from chatserver.container import Services

log = logging.getLogger("chatserver.pages.forum")

NOTICES = {
    "geplaatst": "Je bericht is geplaatst.",
    "bewerkt": "Je wijziging is opgeslagen. De vorige versie staat in de geschiedenis.",
    "gemeld": "Dank je wel voor je melding. Een moderator kijkt ernaar.",
    "volgen": "Je volgt dit onderwerp. Je krijgt een melding bij nieuwe reacties.",
    "ontvolgd": "Je volgt dit onderwerp niet meer.",
    "wacht": "Je bericht wacht op goedkeuring van een moderator. Alleen jij ziet het tot het is goedgekeurd.",
    "gelezen": "Alle meldingen zijn als gelezen gemarkeerd.",
}


def _page_number(request: Request) -> int:
    raw = request.query_params.get("pagina", "1")
    try:
        number = int(raw) if raw.isdigit() else 1
    except ValueError:
        number = 1
    return min(max(number, 1), 10_000)


def install(services: Services) -> Feature:
    forum = services.forum
    templates = services.templates

    def actor_of(request: Request) -> Actor | None:
        actor: Actor | None = request.scope.get("actor")
        return actor

    def base(request: Request) -> str:
        return f"{request.scope.get('flavour_base', '')}/forum"

    def page(request: Request, name: str, context: dict[str, Any], status: int = 200) -> Response:
        context.setdefault("notice", NOTICES.get(request.query_params.get("melding", "")))
        context.setdefault("errors", {})
        context.setdefault("values", {})
        context.setdefault("forum_base", base(request))
        context["max_body"] = MAX_BODY_CHARS
        context["max_title"] = MAX_TITLE_CHARS
        actor = actor_of(request)
        headers = {"Cache-Control": "no-store"} if actor is not None else None
        return templates.response(request, name, context, status_code=status, headers=headers)

    def not_found(request: Request) -> Response:
        return error_page(services, request, 404)

    def redirect(url: str) -> Response:
        return RedirectResponse(url, status_code=303)

    async def thread_from(request: Request) -> tuple[Flavour, dict[str, Any]]:
        flavour = flavour_of(request)
        thread = await forum.access_thread(actor_of(request), flavour, str(request.path_params["thread_id"]))
        return flavour, thread

    # reading ------------------------------------------------------------------------------------

    async def index_redirect(request: Request) -> Response:
        return redirect(base(request) + "/")

    async def index(request: Request) -> Response:
        flavour = flavour_of(request)
        counts, latest = await forum.index(flavour)
        return page(request, "pages/forum/index.html", {"counts": counts, "latest": latest})

    async def category(request: Request) -> Response:
        flavour = flavour_of(request)
        cat = flavour.category(str(request.path_params["category"]))
        if cat is None:
            return not_found(request)
        result = await forum.category_page(actor_of(request), flavour, cat.slug, _page_number(request))
        return page(request, "pages/forum/category.html", {"category": cat, "result": result})

    async def thread_view(request: Request) -> Response:
        try:
            flavour, thread = await thread_from(request)
        except ForumError:
            return not_found(request)
        actor = actor_of(request)
        result = await forum.thread_page(actor, flavour, thread, _page_number(request))
        reply_text = ""
        quote_id = request.query_params.get("citeer", "")
        if quote_id:
            try:
                quoted = await forum.access_post(actor, flavour, thread, quote_id)
                reply_text = quote_of(quoted)
            except ForumError:
                reply_text = ""
        cat = flavour.category(str(thread["category"]))
        crisis = request.query_params.get("melding") == "crisis"
        return page(
            request,
            "pages/forum/thread.html",
            {
                "thread": thread,
                "category": cat,
                "result": result,
                "values": {"body": reply_text},
                "following": await forum.is_following(actor, thread),
                "is_staff": bool(actor and actor.staff_in(flavour.slug)),
                "can_post": _can_post(forum, actor, flavour),
                "channel": thread_channel(flavour.slug, str(thread["_id"])),
                "crisis": crisis,
                "can_edit": lambda post: forum.can_edit(actor, flavour, thread, post),
            },
        )

    async def post_fragment(request: Request) -> Response:
        """One post as an HTML fragment (what the live client appends)."""
        try:
            flavour, thread = await thread_from(request)
            post = await forum.access_post(actor_of(request), flavour, thread, str(request.path_params["post_id"]))
        except ForumError:
            return HTMLResponse("", status_code=404)
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
        html = templates.render("pages/forum/_post.html", context)
        return HTMLResponse(html, headers={"Cache-Control": "no-store"})

    async def post_goto(request: Request) -> Response:
        try:
            flavour, thread = await thread_from(request)
            post = await forum.access_post(actor_of(request), flavour, thread, str(request.path_params["post_id"]))
        except ForumError:
            return not_found(request)
        number = await forum.page_of_post(actor_of(request), flavour, post)
        params = [f"pagina={number}"] if number > 1 else []
        melding = request.query_params.get("melding", "")
        if melding in NOTICES or melding == "crisis":
            params.append(f"melding={melding}")
        suffix = "?" + "&".join(params) if params else ""
        return redirect(f"{base(request)}/t/{thread['_id']}{suffix}#bericht-{post['_id']}")

    async def history(request: Request) -> Response:
        try:
            flavour, thread = await thread_from(request)
            post = await forum.access_post(actor_of(request), flavour, thread, str(request.path_params["post_id"]))
        except ForumError:
            return not_found(request)
        revisions = await forum.revisions(post)
        return page(request, "pages/forum/history.html", {"thread": thread, "post": post, "revisions": revisions})

    async def search(request: Request) -> Response:
        flavour = flavour_of(request)
        query = request.query_params.get("q", "")[:200]
        results = await forum.search(flavour, query) if query.strip() else []
        return page(request, "pages/forum/search.html", {"query": query, "results": results})

    # writing -----------------------------------------------------------------------------------

    async def new_thread(request: Request) -> Response:
        flavour = flavour_of(request)
        cat = flavour.category(str(request.path_params["category"]))
        if cat is None:
            return not_found(request)
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
            posted = await forum.reply(
                actor_of(request), flavour, thread, data.get("body", ""), str(request.scope.get("ip_subject", ""))
            )
        except ForumError as exc:
            actor = actor_of(request)
            result = await forum.thread_page(actor, flavour, thread, _page_number(request))
            return page(
                request,
                "pages/forum/thread.html",
                {
                    "thread": thread, "category": flavour.category(str(thread["category"])), "result": result,
                    "values": data, "errors": {exc.field or "form": exc.detail},
                    "following": await forum.is_following(actor, thread),
                    "is_staff": bool(actor and actor.staff_in(flavour.slug)),
                    "can_post": _can_post(forum, actor, flavour),
                    "channel": thread_channel(flavour.slug, str(thread["_id"])), "crisis": False,
                    "can_edit": lambda post: forum.can_edit(actor, flavour, thread, post),
                },
                status=exc.status,
            )  # fmt: skip
        return redirect(_after_post_url(base(request), posted))

    async def edit(request: Request) -> Response:
        try:
            flavour, thread = await thread_from(request)
            post = await forum.access_post(actor_of(request), flavour, thread, str(request.path_params["post_id"]))
        except ForumError:
            return not_found(request)
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
            flavour, thread = await thread_from(request)
            post = await forum.access_post(actor_of(request), flavour, thread, str(request.path_params["post_id"]))
        except ForumError:
            return not_found(request)
        context: dict[str, Any] = {"thread": thread, "post": post}
        if request.method == "GET":
            return page(request, "pages/forum/report.html", context)
        data = await form_data(request)
        try:
            await forum.report(actor_of(request), flavour, post, data.get("reason", ""))
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
            await forum.set_following(actor_of(request), flavour, thread, wanted)
        except ForumError:
            return redirect("/inloggen")
        return redirect(f"{base(request)}/t/{thread['_id']}?melding={'volgen' if wanted else 'ontvolgd'}")

    def toggler(field: str) -> Any:
        async def handler(request: Request) -> Response:
            try:
                flavour, thread = await thread_from(request)
                await forum.toggle(actor_of(request), flavour, thread, field)  # type: ignore[arg-type]
            except ForumError:
                return not_found(request)
            return redirect(f"{base(request)}/t/{thread['_id']}")

        return handler

    # notifications -------------------------------------------------------------------------------

    async def notifications(request: Request) -> Response:
        actor = actor_of(request)
        if actor is None or actor.is_guest:
            return redirect("/inloggen?volgende=/account/meldingen")
        if request.method == "POST":
            await form_data(request)
            await forum.mark_read(actor)
            return redirect("/account/meldingen?melding=gelezen")
        items = await forum.notifications(actor)
        unread = await forum.unread_count(str(actor.account_id))
        return page(request, "pages/forum/notifications.html", {"items": items, "unread": unread})

    async def notification_count(request: Request) -> Response:
        actor = actor_of(request)
        count = 0 if actor is None or actor.is_guest else await forum.unread_count(str(actor.account_id))
        html = templates.render("pages/forum/_unread.html", {"count": count})
        return HTMLResponse(html, headers={"Cache-Control": "no-store"})

    # wiring ---------------------------------------------------------------------------------------

    prefix = "/f/{slug}/forum"
    return Feature(
        routes=[
            Route(prefix, index_redirect, methods=["GET"]),
            Route(prefix + "/", index, methods=["GET"]),
            Route(prefix + "/zoeken", search, methods=["GET"]),
            Route(prefix + "/c/{category}/", category, methods=["GET"]),
            Route(prefix + "/c/{category}/nieuw", new_thread, methods=["GET", "POST"]),
            Route(prefix + "/t/{thread_id}", thread_view, methods=["GET"]),
            Route(prefix + "/t/{thread_id}/reageren", reply, methods=["POST"]),
            Route(prefix + "/t/{thread_id}/volgen", follow, methods=["POST"]),
            Route(prefix + "/t/{thread_id}/vastzetten", toggler("pinned"), methods=["POST"]),
            Route(prefix + "/t/{thread_id}/sluiten", toggler("locked"), methods=["POST"]),
            Route(prefix + "/t/{thread_id}/p/{post_id}", post_fragment, methods=["GET"]),
            Route(prefix + "/t/{thread_id}/p/{post_id}/ga", post_goto, methods=["GET"]),
            Route(prefix + "/t/{thread_id}/p/{post_id}/bewerken", edit, methods=["GET", "POST"]),
            Route(prefix + "/t/{thread_id}/p/{post_id}/versies", history, methods=["GET"]),
            Route(prefix + "/t/{thread_id}/p/{post_id}/melden", report, methods=["GET", "POST"]),
            Route("/account/meldingen", notifications, methods=["GET", "POST"]),
            Route("/account/meldingen/aantal", notification_count, methods=["GET"]),
        ],
    )


def _can_post(forum: ForumService, actor: Actor | None, flavour: Flavour) -> str:
    """ "" when the actor may post, else why not: "login" or "validation"."""
    try:
        forum.check_can_post(actor, flavour)
    except ForumError as exc:
        return exc.code
    return ""


def _after_post_url(base: str, posted: Any) -> str:
    melding = "crisis" if posted.crisis else ("wacht" if posted.status == "held" else "geplaatst")
    return f"{base}/t/{posted.thread_id}/p/{posted.post_id}/ga?melding={melding}"
