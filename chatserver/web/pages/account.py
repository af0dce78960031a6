"""Account pages: register, log in, log out, profile, validation, recovery, staff log-in, staff backoffice, outbox.

Every form posts and redirects, works without JavaScript and carries the CSRF token. Messages after a redirect
come from a fixed table (nothing the visitor typed is echoed through a URL); one-time secrets go through a
short-lived server-side flash.
"""

from __future__ import annotations

from typing import Any, Literal
from urllib.parse import quote

import msgspec
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import BaseRoute, Route

from chatserver.domain.identity import ROLE_LABELS, Actor
from chatserver.i18n import N_
from chatserver.services.identity import IdentityError, Session
from chatserver.web.responses import (
    actor_of,
    admin_of,
    form_data,
    lang_of,
    not_found,
    page,
    redirect,
    services_of,
    staff_login,
)
from chatserver.web.session import clear_session_cookie

__all__ = ["NOTICES", "ROUTES", "form_data"]  # form_data: other page modules still import it from here

NOTICES = {
    "welkom": N_("Welkom! Je account is aangemaakt. Valideer het om overal mee te kunnen doen."),
    "ingelogd": N_("Je bent ingelogd."),
    "uitgelogd": N_("Je bent uitgelogd."),
    "overal": N_("Je bent op al je apparaten uitgelogd."),
    "code": N_("We hebben een code gestuurd. Vul hem hieronder in; hij is 15 minuten geldig."),
    "gevalideerd": N_("Je account is gevalideerd."),
    "verwijderd": N_("Je account is verwijderd. Je persoonlijke gegevens zijn gewist."),
    "hersteld": N_("Als dit adres bij een account hoort, hebben we een herstelcode gestuurd."),
    "wachtwoord": N_("Je wachtwoord is gewijzigd en je bent ingelogd."),
    "bezwaar": N_("Je bezwaar is ontvangen. De moderatoren kijken ernaar."),
    "opgeslagen": N_("De wijzigingen zijn opgeslagen."),
}


def _page(request: Request, name: str, context: dict[str, Any], status: int = 200) -> Response:
    for optional in ("suggestions", "ban_id", "created"):
        context.setdefault(optional, None)
    return page(request, name, context, status, notices=NOTICES)


def _secure(request: Request) -> bool:
    return services_of(request).settings.secure_cookies


def _signed_in(request: Request, url: str, session: Session) -> Response:
    """Redirect with the new session's cookie."""
    return redirect(url, token=session.token, secure=_secure(request))


def _signed_out(request: Request, url: str) -> Response:
    """Redirect and drop the session cookie."""
    response = redirect(url)
    response.headers.append("set-cookie", clear_session_cookie(_secure(request)))
    return response


def _member_login(request: Request) -> Response:
    return redirect("/inloggen?volgende=" + quote(request.url.path, safe="/"))


def _safe_next(value: str | None) -> str:
    """Only local paths: no open redirect."""
    if value and value.startswith("/") and not value.startswith("//") and "\\" not in value and len(value) < 300:
        return value
    return "/account"


def _errors(exc: IdentityError, default_field: str) -> dict[str, str]:
    return {str(exc.extra.get("field") or default_field): exc.detail}


def _ip(request: Request) -> str:
    return str(request.scope.get("ip_subject", ""))


def _device(request: Request) -> str:
    return str(request.scope.get("device_token", ""))


def _previous(request: Request) -> str | None:
    token = request.scope.get("session_token") or ""
    return str(token) if request.scope.get("auth") == "cookie" and token else None


# register / log in / log out ------------------------------------------------------------------------------------------


async def register(request: Request) -> Response:
    actor = actor_of(request)
    if request.method == "GET":
        if actor is not None and not actor.is_guest:
            return redirect("/account")
        return _page(request, "pages/account/register.html", {})
    data = await form_data(request)
    values = {"pseudonym": data.get("pseudonym", "")}
    try:
        session = await services_of(request).identity.register_member(
            data.get("pseudonym", ""), data.get("password", ""), _ip(request), _device(request),
            current=actor, previous_token=_previous(request),
        )  # fmt: skip
    except IdentityError as exc:
        return _page(
            request,
            "pages/account/register.html",
            {"errors": _errors(exc, "pseudonym"), "values": values,
             "suggestions": exc.extra.get("suggestions") or []},
            status=exc.status,
        )  # fmt: skip
    return _signed_in(request, "/account?melding=welkom", session)


def _login_page(request: Request, staff: bool, **context: Any) -> Response:
    status = int(context.pop("status", 200))
    context["staff"] = staff
    context["next"] = _safe_next(request.query_params.get("volgende") or context.get("next"))
    return _page(request, "pages/account/login.html", context, status)


async def _do_login(request: Request, staff: bool) -> Response:
    data = await form_data(request)
    values = {"pseudonym": data.get("pseudonym", "")}
    try:
        session = await services_of(request).identity.login(
            data.get("pseudonym", ""), data.get("password", ""), _ip(request), _device(request),
            totp_code=data.get("totp") if staff else None, previous_token=_previous(request),
        )  # fmt: skip
    except IdentityError as exc:
        field = "totp" if exc.code.startswith("totp") else "password"
        if exc.code == "totp_required" and not staff:
            field = "pseudonym"
        return _login_page(
            request, staff, errors={field: exc.detail}, values=values, ban_id=exc.extra.get("ban_id"),
            status=exc.status, next=data.get("volgende"),
        )  # fmt: skip
    target = _safe_next(data.get("volgende"))
    target += ("&" if "?" in target else "?") + "melding=ingelogd"
    return _signed_in(request, target, session)


async def login(request: Request) -> Response:
    if request.method == "GET":
        return _login_page(request, staff=False)
    return await _do_login(request, staff=False)


async def staff_login_page(request: Request) -> Response:
    if request.method == "GET":
        return _login_page(request, staff=True)
    return await _do_login(request, staff=True)


async def logout(request: Request) -> Response:
    actor = actor_of(request)
    if actor is not None:
        await services_of(request).identity.logout(actor)
    return _signed_out(request, "/inloggen?melding=uitgelogd")


# profile --------------------------------------------------------------------------------------------------------------


async def profile(request: Request) -> Response:
    actor = actor_of(request)
    if actor is None:
        return _member_login(request)
    identity = services_of(request).identity
    try:
        doc = await identity.account(actor)
    except IdentityError:
        return _signed_out(request, "/inloggen")
    view = identity.public_view(doc)
    view["role_label"] = ROLE_LABELS.get(str(doc.get("role") or ""), "")
    return _page(request, "pages/account/profile.html", {"account": view})


async def logout_everywhere(request: Request) -> Response:
    actor = actor_of(request)
    if actor is None:
        return _member_login(request)
    await services_of(request).identity.logout_everywhere(actor)
    return _signed_out(request, "/inloggen?melding=overal")


async def export(request: Request) -> Response:
    actor = actor_of(request)
    if actor is None:
        return _member_login(request)
    data = await services_of(request).identity.export_my_data(actor)
    return Response(
        msgspec.json.format(msgspec.json.encode(data)),
        media_type="application/json",
        headers={
            "Content-Disposition": 'attachment; filename="mijn-gegevens.json"',  # i18n: a file name
            "Cache-Control": "no-store",
        },
    )


async def erase(request: Request) -> Response:
    actor = actor_of(request)
    if actor is None:
        return _member_login(request)
    identity = services_of(request).identity
    data = await form_data(request)
    if data.get("bevestig") != "ja" or data.get("posts") not in ("keep", "remove"):
        view = identity.public_view(await identity.account(actor))
        errors = {
            "erase": N_("Kies wat er met je berichten gebeurt en vink aan dat je je account echt wilt verwijderen.")
        }
        return _page(request, "pages/account/profile.html", {"account": view, "errors": errors}, 422)
    await identity.erase_account(actor, keep_posts=data["posts"] == "keep")
    return _signed_out(request, "/?melding=verwijderd")


# validation -----------------------------------------------------------------------------------------------------------


async def validate(request: Request) -> Response:
    actor = actor_of(request)
    if actor is None:
        return _member_login(request)
    step = "code" if request.query_params.get("stap") == "code" else "adres"
    return _page(request, "pages/account/validate.html", {"step": step, "validated": actor.validated})


async def validate_address(request: Request) -> Response:
    actor = actor_of(request)
    if actor is None:
        return _member_login(request)
    data = await form_data(request)
    method: Literal["email", "phone"] = "phone" if data.get("method") == "phone" else "email"
    address = data.get("phone" if method == "phone" else "email", "")
    try:
        await services_of(request).identity.request_validation(actor, method, address, _ip(request), lang_of(request))
    except IdentityError as exc:
        field = "phone" if method == "phone" else "email"
        return _page(
            request, "pages/account/validate.html",
            {"step": "adres", "validated": actor.validated, "errors": {field: exc.detail}, "method": method},
            status=exc.status,
        )  # fmt: skip
    return redirect("/account/valideren?stap=code&melding=code")


async def validate_code(request: Request) -> Response:
    actor = actor_of(request)
    if actor is None:
        return _member_login(request)
    data = await form_data(request)
    try:
        await services_of(request).identity.confirm_validation(actor, data.get("code", "").strip())
    except IdentityError as exc:
        return _page(
            request, "pages/account/validate.html",
            {"step": "code", "validated": actor.validated, "errors": {"code": exc.detail}}, status=exc.status,
        )  # fmt: skip
    return redirect("/account?melding=gevalideerd")


async def validate_referral(request: Request) -> Response:
    actor = actor_of(request)
    if actor is None:
        return _member_login(request)
    data = await form_data(request)
    try:
        await services_of(request).identity.redeem_referral(actor, data.get("referral", ""))
    except IdentityError as exc:
        return _page(
            request, "pages/account/validate.html",
            {"step": "adres", "validated": actor.validated, "errors": {"referral": exc.detail}}, status=exc.status,
        )  # fmt: skip
    return redirect("/account?melding=gevalideerd")


# recovery and appeals -------------------------------------------------------------------------------------------------


async def recover(request: Request) -> Response:
    step = "code" if request.query_params.get("stap") == "code" else "adres"
    if request.method == "GET":
        return _page(request, "pages/account/recover.html", {"step": step})
    data = await form_data(request)
    identity = services_of(request).identity
    if data.get("step") == "code":
        try:
            session = await identity.confirm_recovery(
                data.get("code", ""), data.get("password", ""), _ip(request), _device(request), _previous(request)
            )
        except IdentityError as exc:
            field = str(exc.extra.get("field") or "code")
            return _page(request, "pages/account/recover.html", {"step": "code", "errors": {field: exc.detail}},
                         exc.status)  # fmt: skip
        return _signed_in(request, "/account?melding=wachtwoord", session)
    method: Literal["email", "phone"] = "phone" if data.get("method") == "phone" else "email"
    try:
        await identity.request_recovery(method, data.get(method, ""), _ip(request), lang_of(request))
    except IdentityError as exc:
        return _page(request, "pages/account/recover.html", {"step": "adres", "errors": {method: exc.detail}},
                     exc.status)  # fmt: skip
    return redirect("/account/herstellen?stap=code&melding=hersteld")


async def appeal(request: Request) -> Response:
    ban_id = request.path_params["ban_id"]
    if request.method == "GET":
        return _page(request, "pages/account/appeal.html", {"ban_id": ban_id})
    data = await form_data(request)
    try:
        await services_of(request).identity.appeal(ban_id, data.get("text", ""))
    except IdentityError as exc:
        return _page(request, "pages/account/appeal.html", {"ban_id": ban_id, "errors": {"text": exc.detail}},
                     exc.status)  # fmt: skip
    return redirect("/inloggen?melding=bezwaar")


# backoffice -----------------------------------------------------------------------------------------------------------


def _scoped(request: Request, actor: Actor) -> list[Any]:
    return [f for f in services_of(request).catalog if actor.staff_in(f.slug)]


async def backoffice_referrals(request: Request) -> Response:
    actor = actor_of(request)
    if actor is None:
        return staff_login(request)
    if not actor.is_staff:
        return not_found(request)
    identity = services_of(request).identity
    if request.method == "POST":
        data = await form_data(request)
        try:
            code = await identity.create_referral(actor, data.get("flavour", ""))
        except IdentityError as exc:
            context = {"catalog": _scoped(request, actor), "errors": {"flavour": exc.detail}}
            return _page(request, "pages/backoffice/staff_referrals.html", context, exc.status)
        await identity.put_flash(actor.session_id, {"code": code})
        return redirect("/backoffice/verwijzingen")
    created = await identity.pop_flash(actor.session_id)
    return _page(
        request, "pages/backoffice/staff_referrals.html", {"catalog": _scoped(request, actor), "created": created}
    )


async def backoffice_outbox(request: Request) -> Response:
    actor = admin_of(request)
    if isinstance(actor, Response):
        return actor
    services = services_of(request)
    return _page(
        request, "pages/backoffice/staff_outbox.html",
        {"messages": services.identity.mailer.outbox(), "smtp": bool(services.settings.smtp_url)},
    )  # fmt: skip


ROUTES: list[BaseRoute] = [
    Route("/registreren", register, methods=["GET", "POST"]),
    Route("/inloggen", login, methods=["GET", "POST"]),
    Route("/uitloggen", logout, methods=["POST"]),
    Route("/account", profile, methods=["GET"]),
    Route("/account/overal-uitloggen", logout_everywhere, methods=["POST"]),
    Route("/account/gegevens", export, methods=["GET"]),
    Route("/account/verwijderen", erase, methods=["POST"]),
    Route("/account/valideren", validate, methods=["GET"]),
    Route("/account/valideren/adres", validate_address, methods=["POST"]),
    Route("/account/valideren/code", validate_code, methods=["POST"]),
    Route("/account/valideren/verwijzing", validate_referral, methods=["POST"]),
    Route("/account/herstellen", recover, methods=["GET", "POST"]),
    Route("/account/bezwaar/{ban_id}", appeal, methods=["GET", "POST"]),
    Route("/staff/inloggen", staff_login_page, methods=["GET", "POST"]),
    Route("/backoffice/verwijzingen", backoffice_referrals, methods=["GET", "POST"]),
    Route("/backoffice/outbox", backoffice_outbox, methods=["GET"]),
]
