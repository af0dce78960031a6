"""Pure-ASGI middleware, one concern each."""

from __future__ import annotations

import logging
import secrets
from typing import TYPE_CHECKING

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from chatserver.domain.reflectie import page_kind
from chatserver.flavours import FlavourCatalog
from chatserver.i18n import pick_language

if TYPE_CHECKING:
    from chatserver.container import Services

log = logging.getLogger("chatserver.http")

# Paths that are global, never rewritten into a flavour by host name.
GLOBAL_PREFIXES = ("/static/", "/healthz", "/api/", "/ws", "/backoffice", "/vraagbaak", "/f/", "/favicon.ico")


def _header(scope: Scope, name: bytes) -> str:
    for key, value in scope.get("headers", []):
        if key == name:
            return str(value.decode("latin-1"))
    return ""


class FlavourMiddleware:
    """Finds the flavour of a request, by path ``/f/<slug>/`` or by host name.

    Sets ``scope["flavour"]`` and ``scope["flavour_base"]`` (the prefix to use
    for links inside the flavour). A request on a flavour's own host name is
    rewritten to ``/f/<slug>/...`` so that one set of routes serves both.
    """

    def __init__(self, app: ASGIApp, catalog: FlavourCatalog) -> None:
        self.app = app
        self.catalog = catalog

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] not in ("http", "websocket"):
            await self.app(scope, receive, send)
            return
        scope["lang"] = pick_language(_header(scope, b"cookie"))
        path: str = scope["path"]
        host_flavour = self.catalog.for_host(_header(scope, b"host"))
        if path.startswith("/f/"):
            slug = path[3:].split("/", 1)[0]
            flavour = self.catalog.get(slug)
            if flavour is not None:
                scope["flavour"] = flavour
                scope["flavour_base"] = f"/f/{slug}"
        elif host_flavour is not None and not path.startswith(GLOBAL_PREFIXES):
            scope = dict(scope)
            scope["path"] = f"/f/{host_flavour.slug}{path}"
            scope["raw_path"] = scope["path"].encode()
            scope["flavour"] = host_flavour
            scope["flavour_base"] = ""
        elif host_flavour is not None:
            scope["flavour"] = host_flavour
            scope["flavour_base"] = ""
        await self.app(scope, receive, send)


CSP = (
    "default-src 'self'; script-src 'self'; style-src 'self' 'nonce-{nonce}'; img-src 'self' data:; "
    "connect-src 'self'; font-src 'self'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'; "
    "object-src 'none'"
)


class SecurityHeadersMiddleware:
    """Security headers on every response, a CSP nonce for inline theme styles, and a request log line."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        nonce = secrets.token_urlsafe(12)
        scope["csp_nonce"] = nonce
        status = 0

        async def send_with_headers(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
                headers = list(message.get("headers", []))
                names = {k.lower() for k, _ in headers}
                extra = [
                    (b"content-security-policy", CSP.format(nonce=nonce).encode()),
                    (b"x-content-type-options", b"nosniff"),
                    (b"referrer-policy", b"no-referrer"),
                    (b"x-frame-options", b"DENY"),
                    (b"permissions-policy", b"camera=(), microphone=(), geolocation=(), interest-cohort=()"),
                    (b"cross-origin-opener-policy", b"same-origin"),
                ]
                headers.extend((k, v) for k, v in extra if k not in names)
                message["headers"] = headers
            await send(message)

        await self.app(scope, receive, send_with_headers)
        route = scope.get("route")
        template = getattr(route, "path", None) or "(geen route)"  # i18n: log line
        log.debug("%s %s %s", scope["method"], template, status)


class FlavourBanMiddleware:
    """Shuts a visitor out of the flavours they are banned from (a flavour-scoped ban), with the Dutch reason.

    Runs after the session middleware (it needs ``scope["actor"]``); staff are never shut out this way. The live
    path has the same check as a chat gate (``IdentityService.flavour_ban_gate``, added by the wiring).
    """

    def __init__(self, app: ASGIApp, services: Services) -> None:
        self.app = app
        self.services = services

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        flavour = scope.get("flavour")
        actor = scope.get("actor")
        if scope["type"] != "http" or flavour is None or actor is None or actor.is_staff:
            await self.app(scope, receive, send)
            return

        refusal = await self.services.identity.flavour_ban(str(actor.account_id), flavour.slug)
        if refusal is None:
            await self.app(scope, receive, send)
            return
        from starlette.requests import Request

        from chatserver.web.pages.site import error_page

        response = error_page(self.services, Request(scope, receive), 403, refusal)
        await response(scope, receive, send)


class VisitMiddleware:
    """Counts page visits for the Reflectietafel: a GET of a flavour page (``/f/<slug>/…``) answered with a whole
    HTML page, per flavour and page kind, with the region the visitor chose for the market when they chose one.

    Counted after the page went out, so nobody waits for it; htmx fragments, feeds, files, redirects and errors are
    no visits, nor are the pages staff open. Runs inside the session middleware (it needs the actor; a member's
    region is their account setting). Only the count is kept: flavour, day, page kind and coarse region, never who.
    """

    def __init__(self, app: ASGIApp, services: Services) -> None:
        self.app = app
        self.services = services

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        flavour, actor = scope.get("flavour"), scope.get("actor")
        slug: str = flavour.slug if flavour is not None else ""
        staff = actor is not None and actor.is_staff  # staff at work are no public use of the site
        kind = None
        if scope["type"] == "http" and scope["method"] == "GET" and slug and not staff:
            prefix = f"/f/{slug}/"
            path: str = scope["path"]
            if path.startswith(prefix) and not _header(scope, b"hx-request"):
                kind = page_kind(path[len(prefix) :])
        if kind is None:
            await self.app(scope, receive, send)
            return
        whole_page = False

        async def watching(message: Message) -> None:
            nonlocal whole_page
            if message["type"] == "http.response.start":
                content_type = dict(message.get("headers", [])).get(b"content-type", b"")
                whole_page = message["status"] == 200 and content_type.startswith(b"text/html")
            await send(message)

        await self.app(scope, receive, watching)
        if whole_page:
            await self._count(scope, slug, kind)

    async def _count(self, scope: Scope, flavour: str, kind: str) -> None:
        from starlette.requests import Request

        from chatserver.web.pages.markt import REGION_COOKIE

        try:
            cookie = Request(scope).cookies.get(REGION_COOKIE)
            region = await self.services.markt.region_for(scope.get("actor"), cookie)
        except Exception as exc:  # the visit counts without a region
            log.warning("region of a visit not read (%s)", type(exc).__name__)
            region = None
        self.services.counter.count("visit", flavour, variant=kind, region=region)
