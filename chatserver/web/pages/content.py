"""Content pages: each flavour's articles, story submission, and the editors' backoffice (items, revisions, featured).

Every form posts and redirects, works without JavaScript and carries the CSRF
token. Public pages show only what :class:`ContentService` calls visible; any
other item answers the same 404 page as a slug that never existed.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any
from urllib.parse import quote, urlencode

from starlette.requests import Request
from starlette.responses import RedirectResponse, Response
from starlette.routing import BaseRoute, Route

from chatserver.domain.content import allowed_actions
from chatserver.domain.identity import Actor
from chatserver.flavours import TIMEZONE, Flavour
from chatserver.i18n import N_
from chatserver.services.content import (
    ACTION_NAMES,
    CATEGORIES,
    KIND_PLURALS,
    KINDS,
    STATUSES,
    ContentError,
    ContentService,
    Draft,
    is_editor,
)
from chatserver.services.identity import IdentityError
from chatserver.web.pages.site import flavour_of
from chatserver.web.responses import (
    actor_of,
    form_data,
    not_found,
    page,
    redirect,
    services_of,
    staff_login,
)

NOTICES = {
    "aangemaakt": N_("Het stuk is aangemaakt als concept."),
    "opgeslagen": N_("De wijzigingen zijn opgeslagen. De vorige versie staat bij de versies."),
    "status": N_("De status is gewijzigd."),
    "ingestuurd": N_(
        "Dank je wel voor je verhaal! De redactie leest het en laat je hier weten of het geplaatst wordt."
    ),
    "uitgelicht": N_("De uitgelichte stukken zijn bijgewerkt."),
}
ACTION_LABELS = ACTION_NAMES  # the status form's button texts, the same names the service's refusals use


def parse_local(value: str) -> datetime | None:
    """A ``datetime-local`` form value in Dutch time; empty means none; garbage raises ValueError."""
    value = value.strip()
    if not value:
        return None
    parsed = datetime.strptime(value[:16], "%Y-%m-%dT%H:%M")  # noqa: DTZ007 - made aware on the next line
    return parsed.replace(tzinfo=TIMEZONE)


def _content(request: Request) -> ContentService:
    return services_of(request).content


def _page(request: Request, name: str, context: dict[str, Any], status: int = 200, private: bool = False) -> Response:
    """A content page: the shared defaults, this area's notices and the names of kinds, statuses and categories."""
    context.update(kinds=KINDS, kind_plurals=KIND_PLURALS, statuses=STATUSES, categories=CATEGORIES)
    return page(request, name, context, status, notices=NOTICES, private=private)


def _member_login(request: Request) -> Response:
    return redirect("/inloggen?volgende=" + quote(request.url.path, safe="/"))


# --- public ------------------------------------------------------------------------------------------------------


async def article_list(request: Request) -> Response:
    flavour = flavour_of(request)
    kind = request.query_params.get("soort", "")
    kind = kind if kind in KINDS else ""
    try:
        number = int(request.query_params.get("pagina", "1"))
    except ValueError:
        number = 1
    number = min(max(number, 1), 10_000)
    result = await _content(request).public_page(flavour.slug, kind or None, number)

    def page_url(n: int) -> str:
        params = {k: v for k, v in (("soort", kind), ("pagina", str(n) if n > 1 else "")) if v}
        return "?" + urlencode(params) if params else "./"

    return _page(request, "pages/content/list.html", {"result": result, "kind": kind, "page_url": page_url})


async def article_list_redirect(request: Request) -> Response:
    flavour_of(request)
    return RedirectResponse(f"{request.url.path}/", status_code=308)


async def article(request: Request) -> Response:
    flavour = flavour_of(request)
    try:
        item = await _content(request).public_item(flavour.slug, request.path_params["item"])
    except ContentError:
        return not_found(request)
    catalog = services_of(request).catalog
    others = [catalog.get(f) for f in item.get("flavours") or () if f != flavour.slug]
    return _page(request, "pages/content/detail.html", {"item": item, "also_in": [f for f in others if f]})


async def story_form(request: Request) -> Response:
    flavour = flavour_of(request)
    actor = actor_of(request)
    if actor is None or not actor.is_member:
        return _member_login(request)
    if request.method == "GET":
        return _page(request, "pages/content/submit.html", {}, private=True)
    data = await form_data(request)
    values = {"title": data.get("title", ""), "body": data.get("body", "")}
    services = services_of(request)
    try:
        await services.identity.limit_action("post", actor, str(request.scope.get("ip_subject", "")))
        story = await services.content.submit_story(actor, flavour.slug, values["title"], values["body"])
    except ContentError as exc:
        return _page(request, "pages/content/submit.html",
                     {"errors": {exc.field or "body": exc.detail}, "values": values}, exc.status, True)  # fmt: skip
    except IdentityError as exc:  # rate limited
        return _page(request, "pages/content/submit.html", {"errors": {"body": exc.detail}, "values": values},
                     exc.status, True)  # fmt: skip
    target = f"{request.scope.get('flavour_base', '')}/artikelen/mijn-verhalen?melding=ingestuurd"
    if story.get("crisis"):
        target += "&steun=1"
    return redirect(target)


async def my_stories(request: Request) -> Response:
    flavour_of(request)
    actor = actor_of(request)
    if actor is None or not actor.is_member:
        return _member_login(request)
    stories = await _content(request).my_stories(actor)
    support = request.query_params.get("steun") == "1"
    return _page(request, "pages/content/my_stories.html", {"stories": stories, "support": support}, private=True)


# --- backoffice --------------------------------------------------------------------------------------------------


def scoped_flavours(request: Request, actor: Actor) -> list[Flavour]:
    return [f for f in services_of(request).catalog if actor.staff_in(f.slug)]


def draft_from(data: dict[str, str], flavours: list[str]) -> Draft:
    return Draft(
        kind=data.get("kind", ""),
        title=data.get("title", ""),
        body=data.get("body", ""),
        flavours=tuple(flavours),
        summary=data.get("summary", ""),
        category=data.get("category", ""),
    )


async def read_form(request: Request) -> tuple[dict[str, str], list[str]]:
    form = await request.form()
    flavours = [str(v)[:64] for v in form.getlist("flavours") if isinstance(v, str)][:50]
    await form.close()
    return await form_data(request), flavours


async def backoffice_list(request: Request) -> Response:
    actor = actor_of(request)
    if actor is None:
        return staff_login(request)
    if not is_editor(actor):
        return not_found(request)
    status = request.query_params.get("status", "")
    status = status if status in STATUSES else ""
    items = await _content(request).staff_items(actor, status or None)
    return _page(
        request, "pages/backoffice/content_list.html",
        {"items": items, "status": status, "catalog": {f.slug: f for f in services_of(request).catalog},
         "scoped": scoped_flavours(request, actor)},
        private=True,
    )  # fmt: skip


def edit_context(request: Request, actor: Actor, item: dict[str, Any] | None, values: dict[str, Any]) -> dict[str, Any]:
    # Only what the item's state allows (and, with a second reviewer required, no publishing of one's own).
    actions: dict[str, str] = {}
    own_review = False
    if item is not None:
        offered = _content(request).actions_for(actor, item)
        actions = {a: ACTION_LABELS[a] for a in offered}
        own_review = "publish" not in offered and "publish" in allowed_actions(str(item.get("status", "")))
    return {
        "item": item,
        "values": values,
        "scoped": scoped_flavours(request, actor),
        "actions": actions,
        "own_review": own_review,
    }


async def backoffice_new(request: Request) -> Response:
    actor = actor_of(request)
    if actor is None:
        return staff_login(request)
    if not is_editor(actor):
        return not_found(request)
    if request.method == "GET":
        values: dict[str, Any] = {"kind": "article", "flavours": [], "category": "psycho-educatie"}
        return _page(request, "pages/backoffice/content_edit.html", edit_context(request, actor, None, values),
                     private=True)  # fmt: skip
    data, flavours = await read_form(request)
    try:
        doc = await _content(request).create(actor, draft_from(data, flavours))
    except ContentError as exc:
        ctx = edit_context(request, actor, None, dict(data, flavours=flavours))
        ctx["errors"] = {exc.field or "title": exc.detail}
        return _page(request, "pages/backoffice/content_edit.html", ctx, exc.status, private=True)
    return redirect(f"/backoffice/inhoud/{doc['_id']}?melding=aangemaakt")


async def backoffice_edit(request: Request) -> Response:
    actor = actor_of(request)
    if actor is None:
        return staff_login(request)
    item_id = request.path_params["item_id"]
    content = _content(request)
    try:
        item, revisions = await content.revisions(actor, item_id)
    except ContentError:
        return not_found(request)
    if request.method == "GET":
        ctx = edit_context(request, actor, item, item)
        ctx["revisions"] = revisions
        return _page(request, "pages/backoffice/content_edit.html", ctx, private=True)
    data, flavours = await read_form(request)
    try:
        version = int(data.get("version", "0"))
    except ValueError:
        version = 0
    try:
        await content.save(actor, item_id, draft_from(data, flavours), version)
    except ContentError as exc:
        if exc.status == 404:
            return not_found(request)
        ctx = edit_context(request, actor, item, dict(data, flavours=flavours))
        ctx["errors"] = {exc.field or "title": exc.detail}
        ctx["revisions"] = revisions
        return _page(request, "pages/backoffice/content_edit.html", ctx, exc.status, private=True)
    return redirect(f"/backoffice/inhoud/{item_id}?melding=opgeslagen")


def _publish_at(data: dict[str, str]) -> datetime | None:
    """The form's publication time; a value that is no date and time is refused (empty: publish now)."""
    try:
        return parse_local(data.get("publish_at", ""))
    except ValueError:
        raise ContentError("publish_at", 422, N_("Vul een geldige datum en tijd in, of laat het veld leeg."),
                           "publish_at") from None  # fmt: skip


async def backoffice_status(request: Request) -> Response:
    actor = actor_of(request)
    if actor is None or not is_editor(actor):
        return not_found(request)
    item_id = request.path_params["item_id"]
    content = _content(request)
    data = await form_data(request)
    try:
        await content.change_status(actor, item_id, data.get("action", ""), _publish_at(data), data.get("reason", ""))
    except ContentError as exc:
        if exc.status == 404:
            return not_found(request)
        try:
            item, revisions = await content.revisions(actor, item_id)
        except ContentError:
            return not_found(request)
        ctx = edit_context(request, actor, item, item)
        ctx["revisions"] = revisions
        ctx["errors"] = {exc.field or "action": exc.detail}
        return _page(request, "pages/backoffice/content_edit.html", ctx, exc.status, private=True)
    return redirect(f"/backoffice/inhoud/{item_id}?melding=status")


async def backoffice_revision(request: Request) -> Response:
    actor = actor_of(request)
    if actor is None:
        return staff_login(request)
    try:
        item, revision = await _content(request).revision(
            actor, request.path_params["item_id"], request.path_params["n"]
        )
    except ContentError:
        return not_found(request)
    return _page(request, "pages/backoffice/content_revision.html", {"item": item, "revision": revision},
                 private=True)  # fmt: skip


async def backoffice_featured(request: Request) -> Response:
    actor = actor_of(request)
    if actor is None:
        return staff_login(request)
    if not is_editor(actor):
        return not_found(request)
    scoped = scoped_flavours(request, actor)
    if not scoped:
        return not_found(request)
    content = _content(request)
    errors: dict[str, str] = {}
    status = 200
    if request.method == "POST":
        data = await form_data(request)
        slug = data.get("flavour", "")
        try:
            await content.change_featured(actor, slug, data.get("op", ""), data.get("item", ""))
        except ContentError as exc:
            if exc.status == 404:
                return not_found(request)
            errors = {"item": exc.detail}
            status = exc.status
        else:
            return redirect(f"/backoffice/uitgelicht?smaak={quote(slug)}&melding=uitgelicht")
    else:
        slug = request.query_params.get("smaak", "") or scoped[0].slug
    try:
        rows, candidates = await content.featured_admin(actor, slug)
    except ContentError:
        return not_found(request)
    return _page(
        request, "pages/backoffice/content_featured.html",
        {"rows": rows, "candidates": candidates, "current": services_of(request).catalog.get(slug),
         "scoped": scoped, "errors": errors},
        status, private=True,
    )  # fmt: skip


ROUTES: list[BaseRoute] = [
    Route("/f/{slug}/artikelen", article_list_redirect, methods=["GET"]),
    Route("/f/{slug}/artikelen/", article_list, methods=["GET"]),
    Route("/f/{slug}/artikelen/verhaal-insturen", story_form, methods=["GET", "POST"]),
    Route("/f/{slug}/artikelen/mijn-verhalen", my_stories, methods=["GET"]),
    Route("/f/{slug}/artikelen/{item}", article, methods=["GET"]),
    Route("/backoffice/inhoud", backoffice_list, methods=["GET"]),
    Route("/backoffice/inhoud/nieuw", backoffice_new, methods=["GET", "POST"]),
    Route("/backoffice/inhoud/{item_id}", backoffice_edit, methods=["GET", "POST"]),
    Route("/backoffice/inhoud/{item_id}/status", backoffice_status, methods=["POST"]),
    Route("/backoffice/inhoud/{item_id}/versies/{n:int}", backoffice_revision, methods=["GET"]),
    Route("/backoffice/uitgelicht", backoffice_featured, methods=["GET", "POST"]),
]
