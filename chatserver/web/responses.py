"""What every page handler shares: the container, the actor, rendering, redirects and the not-found page.

Page modules are plain routers: module-level handlers that reach the process's services through
:func:`services_of` and answer through these helpers; each module lists its routes in ``ROUTES``.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any
from urllib.parse import quote

from starlette.requests import Request
from starlette.responses import RedirectResponse, Response

from chatserver.domain.identity import Actor
from chatserver.i18n import DEFAULT_LANG, translate
from chatserver.web.session import session_cookie

if TYPE_CHECKING:
    from chatserver.container import Services

NO_STORE: dict[str, str] = {"Cache-Control": "no-store"}
PRIVATE_HEADERS: dict[str, str] = {
    "Cache-Control": "no-store",
    "Referrer-Policy": "no-referrer",
    "X-Robots-Tag": "noindex",
}
MAX_FIELD_CHARS = 4000
TRANSLATED_TEXTS = ("notice", "message", "error")  # context keys that carry a service's text for the person


def lang_of(request: Request) -> str:
    """The visitor's language (chosen with the ``gem_lang`` cookie; Dutch by default)."""
    return str(request.scope.get("lang", DEFAULT_LANG))


def text_for(request: Request, text: str) -> str:
    """A Dutch text written by a service or page (a marked message, perhaps formatted) in the visitor's language."""
    return translate(lang_of(request), text)


def services_of(request: Request) -> Services:
    """The process's container (built once by ``chatserver.wiring``)."""
    services: Services = request.app.state.services
    return services


def actor_of(request: Request) -> Actor | None:
    """Who is asking (set by the session middleware), or None."""
    actor: Actor | None = request.scope.get("actor")
    return actor


def page(
    request: Request,
    name: str,
    context: dict[str, Any],
    status: int = 200,
    *,
    notices: Mapping[str, str] | None = None,
    private: bool = False,
) -> Response:
    """Render a template with the usual defaults: the notice named by ``?melding=``, no errors, no values.

    The texts a page hands over for the person (``notice``, ``message``, ``error`` and the values of ``errors``)
    are written in Dutch by the services and translated here into the visitor's language.
    """
    context.setdefault("notice", (notices or {}).get(request.query_params.get("melding", "")))
    context.setdefault("errors", {})
    context.setdefault("values", {})
    for key in TRANSLATED_TEXTS:
        if isinstance(context.get(key), str):
            context[key] = text_for(request, context[key])
    if isinstance(context["errors"], dict) and context["errors"]:
        context["errors"] = {k: text_for(request, v) if isinstance(v, str) else v for k, v in context["errors"].items()}
    headers = PRIVATE_HEADERS if private else NO_STORE
    return services_of(request).templates.response(request, name, context, status_code=status, headers=dict(headers))


def not_found(request: Request, *, private: bool = False) -> Response:
    """The flavour's own 404 page."""
    from chatserver.web.pages.site import error_page

    response = error_page(services_of(request), request, 404)
    if private:
        response.headers.update(PRIVATE_HEADERS)
    return response


def redirect(url: str, *, token: str | None = None, secure: bool = False, private: bool = False) -> Response:
    """303 See Other (after a form); ``token`` also sets the session cookie."""
    response = RedirectResponse(url, status_code=303, headers=dict(PRIVATE_HEADERS) if private else None)
    if token:
        response.headers.append("set-cookie", session_cookie(token, secure))
    return response


def staff_login(request: Request) -> Response:
    """Send someone who is not signed in to the staff login, coming back here afterwards."""
    target = request.url.path + (f"?{request.url.query}" if request.url.query else "")
    return RedirectResponse("/staff/inloggen?volgende=" + quote(target, safe="/"), status_code=303)


def allowed_actor(request: Request, allowed: Callable[[Actor], bool]) -> Actor | Response:
    """Who asks for a backoffice page, or the answer for anyone else: the staff log-in when nobody is signed in
    (coming back here), "not found" for whom ``allowed`` refuses (the page does not tell others that it exists)."""
    actor = actor_of(request)
    if actor is None:
        return staff_login(request)
    if not allowed(actor):
        return not_found(request)
    return actor


def admin_of(request: Request) -> Actor | Response:
    """:func:`allowed_actor` for admin pages."""
    return allowed_actor(request, lambda actor: actor.is_admin)


def staff_of(request: Request) -> Actor | Response:
    """:func:`allowed_actor` for pages every staff member may open."""
    return allowed_actor(request, lambda actor: actor.is_staff)


async def form_data(request: Request) -> dict[str, str]:
    """Form fields as plain strings (first value, capped); files and repeats ignored."""
    form = await request.form()
    out: dict[str, str] = {}
    for key in form:
        value = form.get(key)
        if isinstance(value, str):
            out[str(key)] = value[:MAX_FIELD_CHARS]
    await form.close()
    return out


def aware(value: datetime) -> datetime:
    """A datetime from the database with its time zone (naive values are UTC)."""
    return value if value.tzinfo is not None else value.replace(tzinfo=UTC)
