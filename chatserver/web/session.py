"""Session middleware: who is asking (cookie or Bearer token), CSRF on state changes, device token.

Sets ``scope["actor"]`` (an Actor or None), ``scope["csrf_token"]``,
``scope["session_token"]``, ``scope["auth"]`` ("cookie", "bearer" or None),
``scope["device_token"]`` and ``scope["ip_subject"]`` (a keyed hash: the client
address goes no further than this module). A state-changing request that rides
on cookies needs the CSRF token (form field ``csrf_token`` or header
``X-CSRF-Token``); Bearer-authenticated API calls carry no ambient credentials
and need none.
"""

from __future__ import annotations

import hmac
import secrets
from typing import TYPE_CHECKING, Any
from urllib.parse import parse_qs

from starlette.requests import Request, cookie_parser
from starlette.responses import JSONResponse
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from chatserver.domain.identity import Actor
from chatserver.i18n import DEFAULT_LANG, N_, translate

if TYPE_CHECKING:
    from chatserver.container import Services
    from chatserver.services.identity import IdentityService

SESSION_COOKIE = "gem_session"
DEVICE_COOKIE = "gem_device"
DEVICE_HEADER = b"x-device-token"
CSRF_HEADER = b"x-csrf-token"
CSRF_FIELD = "csrf_token"
DEVICE_MAX_AGE_S = 365 * 24 * 3600
MAX_FORM_BYTES = 1024 * 1024
UNSAFE_METHODS = frozenset({"POST", "PUT", "PATCH", "DELETE"})
PERSONAL_PREFIXES = ("/account", "/staff", "/backoffice", "/api/v1/me", "/api/v1/sessions", "/api/v1/accounts",
                     "/api/v1/guests", "/api/v1/ws-token", "/inloggen", "/registreren", "/uitloggen")  # fmt: skip


def _headers(scope: Scope) -> dict[bytes, bytes]:
    return {k.lower(): v for k, v in scope.get("headers", [])}


def session_cookie(token: str, secure: bool, max_age: int | None = None) -> str:
    """The Set-Cookie value for a session (HttpOnly, SameSite=Lax, Path=/, Secure over HTTPS)."""
    parts = [f"{SESSION_COOKIE}={token}", "Path=/", "HttpOnly", "SameSite=Lax"]
    if max_age is not None:
        parts.append(f"Max-Age={max_age}")
    if secure:
        parts.append("Secure")
    return "; ".join(parts)


def clear_session_cookie(secure: bool) -> str:
    return session_cookie("", secure, max_age=0)


class SessionMiddleware:
    def __init__(self, app: ASGIApp, services: Services) -> None:
        self.app = app
        self.services = services
        self.trusted_proxies: frozenset[str] = frozenset(getattr(services.settings, "trusted_proxies", ()) or ())

    @property
    def identity(self) -> IdentityService:
        return self.services.identity

    def client_ip(self, scope: Scope, headers: dict[bytes, bytes]) -> str:
        """The peer address; X-Forwarded-For counts only when the peer is a configured trusted proxy."""
        client = scope.get("client")
        peer = str(client[0]) if client else "unknown"
        if peer in self.trusted_proxies:
            forwarded = headers.get(b"x-forwarded-for", b"").decode("latin-1")
            hops = [h.strip() for h in forwarded.split(",") if h.strip()]
            while hops and hops[-1] in self.trusted_proxies:
                hops.pop()
            if hops:
                return hops[-1]
        return peer

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] not in ("http", "websocket"):
            await self.app(scope, receive, send)
            return
        path: str = scope.get("path", "")
        if path.startswith("/static/") or path == "/healthz":
            await self.app(scope, receive, send)
            return
        identity = self.identity
        headers = _headers(scope)
        scope["ip_subject"] = identity.limiter.ip_subject(self.client_ip(scope, headers))
        cookies = cookie_parser(headers.get(b"cookie", b"").decode("latin-1"))
        authorization = headers.get(b"authorization", b"").decode("latin-1")
        actor, token, auth = await self._authenticate(authorization, cookies)
        stale_cookie = bool(not authorization and token and actor is None)
        is_api = path.startswith("/api/")
        device, new_device = _device_of(cookies, headers, fresh=not is_api and scope["type"] == "http")
        scope["actor"] = actor
        scope["auth"] = auth
        scope["session_token"] = token if actor else ""
        scope["device_token"] = device
        basis = f"s:{actor.session_id}" if actor and auth == "cookie" else (f"d:{device}" if device else "")
        scope["csrf_token"] = identity.csrf_token(basis) if basis and not authorization else ""
        if scope["type"] == "websocket":
            await self.app(scope, receive, send)
            return

        if scope["method"] in UNSAFE_METHODS and not authorization and (auth == "cookie" or not is_api):
            ok, receive = await self._check_csrf(scope, receive, headers, basis, bool(new_device))
            if not ok:
                await self._forbidden(scope, receive, send, is_api)
                return
        personal = actor is not None or path.startswith(PERSONAL_PREFIXES)
        send = _with_cookies(send, personal, new_device, stale_cookie, self.services.settings.secure_cookies)
        await self.app(scope, receive, send)

    async def _authenticate(self, authorization: str, cookies: dict[str, str]) -> tuple[Actor | None, str, str | None]:
        """(actor, token, "cookie" | "bearer" | None) of the request's credential."""
        if authorization:
            # An explicit credential replaces cookies entirely: no ambient authority, no CSRF.
            scheme, _, value = authorization.partition(" ")
            if scheme.lower() == "bearer" and value.strip():
                token = value.strip()
                actor = await self.services.sessions.get(token)
                return actor, token, "bearer" if actor else None
            return None, "", None
        token = cookies.get(SESSION_COOKIE, "")
        if not token:
            return None, "", None
        actor = await self.services.sessions.get(token)
        return actor, token, "cookie" if actor else None

    async def _check_csrf(
        self, scope: Scope, receive: Receive, headers: dict[bytes, bytes], basis: str, fresh_device: bool
    ) -> tuple[bool, Receive]:
        if not basis or (fresh_device and basis.startswith("d:")):
            # No session and no device cookie yet: nothing to bind a token to.
            return False, receive
        expected = self.identity.csrf_token(basis)
        sent = headers.get(CSRF_HEADER, b"").decode("latin-1")
        if sent:
            return hmac.compare_digest(sent, expected), receive
        body, too_big = await _read_body(receive)
        replay = _replay(body, receive)
        if too_big:
            return False, replay
        content_type = headers.get(b"content-type", b"").decode("latin-1").lower()
        value = ""
        if content_type.startswith("application/x-www-form-urlencoded"):
            fields = parse_qs(body.decode("utf-8", errors="replace"), keep_blank_values=True)
            value = (fields.get(CSRF_FIELD) or [""])[0]
        elif content_type.startswith("multipart/form-data"):
            request = Request(scope, _replay(body, receive))
            form = await request.form()
            raw: Any = form.get(CSRF_FIELD)
            value = raw if isinstance(raw, str) else ""
            await form.close()
        return (bool(value) and hmac.compare_digest(value, expected)), replay

    async def _forbidden(self, scope: Scope, receive: Receive, send: Send, is_api: bool) -> None:
        detail = N_(
            "Het formulier is verlopen of kwam niet van deze website. Laad de pagina opnieuw en probeer het nog eens."
        )
        if is_api:
            lang = str(scope.get("lang", DEFAULT_LANG))
            title, detail = translate(lang, N_("Geen toegang")), translate(lang, detail)
            body = {"type": "about:blank", "title": title, "status": 403, "detail": detail, "code": "csrf"}
            api_response = JSONResponse(body, status_code=403, media_type="application/problem+json")
            await api_response(scope, receive, send)
            return
        from chatserver.web.pages.site import error_page

        response = error_page(self.services, Request(scope, receive), 403, detail)
        await response(scope, receive, send)


def _device_of(cookies: dict[str, str], headers: dict[bytes, bytes], fresh: bool) -> tuple[str, str]:
    """(device token, the new one to set as a cookie or ""); a page request without one gets a new one."""
    device = cookies.get(DEVICE_COOKIE, "") or headers.get(DEVICE_HEADER, b"").decode("latin-1")
    if len(device) > 64 or not device.replace("-", "").replace("_", "").isalnum():
        device = ""
    if not device and fresh:
        device = secrets.token_urlsafe(24)
        return device, device
    return device, ""


def _with_cookies(send: Send, personal: bool, new_device: str, stale_cookie: bool, secure: bool) -> Send:
    """``send`` that adds no-store to personal answers, sets a new device cookie and clears a stale session."""

    async def send_wrapped(message: Message) -> None:
        if message["type"] == "http.response.start":
            out = list(message.get("headers", []))
            names = {k.lower() for k, _ in out}
            if personal and b"cache-control" not in names:
                out.append((b"cache-control", b"no-store"))
            if new_device:
                cookie = f"{DEVICE_COOKIE}={new_device}; Path=/; HttpOnly; SameSite=Lax; Max-Age={DEVICE_MAX_AGE_S}"
                out.append((b"set-cookie", (cookie + ("; Secure" if secure else "")).encode()))
            if stale_cookie and not any(
                k.lower() == b"set-cookie" and v.startswith(SESSION_COOKIE.encode() + b"=") for k, v in out
            ):
                out.append((b"set-cookie", clear_session_cookie(secure).encode()))
            message["headers"] = out
        await send(message)

    return send_wrapped


async def _read_body(receive: Receive) -> tuple[bytes, bool]:
    chunks: list[bytes] = []
    size = 0
    while True:
        message = await receive()
        if message["type"] == "http.disconnect":
            break
        chunk = message.get("body", b"")
        size += len(chunk)
        if size > MAX_FORM_BYTES:
            return b"", True
        chunks.append(chunk)
        if not message.get("more_body", False):
            break
    return b"".join(chunks), False


def _replay(body: bytes, original: Receive) -> Receive:
    """Hands the buffered body on once, then waits on the real channel (for the disconnect)."""
    sent = False

    async def receive() -> Message:
        nonlocal sent
        if not sent:
            sent = True
            return {"type": "http.request", "body": body, "more_body": False}
        return await original()

    return receive
