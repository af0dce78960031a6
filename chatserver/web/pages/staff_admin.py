"""The backoffice's staff administration (admins only): create a staff member with a one-time password, TOTP
enrolment (QR code) and recovery codes; verify and change role and communities; renew a lost second factor."""

from __future__ import annotations

from typing import Any

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import BaseRoute, Route

from chatserver.domain.identity import ROLE_LABELS, STAFF_ROLES
from chatserver.i18n import N_
from chatserver.services.identity import IdentityError
from chatserver.web.pages.account import NOTICES
from chatserver.web.qr import qr_svg_data_uri
from chatserver.web.responses import actor_of, admin_of, form_data, not_found, page, redirect, services_of

__all__ = ["ROUTES"]


def _page(request: Request, name: str, context: dict[str, Any], status: int = 200) -> Response:
    context.setdefault("created", None)
    return page(request, name, context, status, notices=NOTICES)


def _errors(exc: IdentityError, default_field: str) -> dict[str, str]:
    return {str(exc.extra.get("field") or default_field): exc.detail}


def _slugs(request: Request) -> set[str]:
    return {f.slug for f in services_of(request).catalog}


def _staff_row(doc: dict[str, Any]) -> dict[str, Any]:
    return {
        "id": str(doc["_id"]),
        "pseudonym": doc.get("pseudonym", ""),
        "role": doc.get("role", ""),
        "role_label": ROLE_LABELS.get(str(doc.get("role")), ""),
        "flavours": doc.get("flavours") or [],
        "registration": doc.get("registration", ""),
        "verified": bool(doc.get("verified")),
    }


async def _staff_page(
    request: Request, errors: dict[str, str] | None = None, status: int = 200, values: dict[str, str] | None = None
) -> Response:
    actor = admin_of(request)
    if isinstance(actor, Response):
        return actor
    services = services_of(request)
    staff = [_staff_row(d) for d in await services.identity.staff_list(actor)]
    created = await services.identity.pop_flash(actor.session_id)
    if created and created.get("uri"):
        created = {**created, "qr": qr_svg_data_uri(str(created["uri"]))}  # made here, never stored
    return _page(
        request,
        "pages/backoffice/staff.html",
        {"staff": staff, "roles": [(r, ROLE_LABELS[r]) for r in STAFF_ROLES], "catalog": list(services.catalog),
         "created": created, "errors": errors or {}, "values": values or {}},
        status,
    )  # fmt: skip


async def backoffice_staff(request: Request) -> Response:
    return await _staff_page(request)


async def _flavours_field(request: Request) -> list[str]:
    form = await request.form()
    flavours = [str(v) for v in form.getlist("flavours") if isinstance(v, str)]
    await form.close()
    return flavours


async def backoffice_staff_create(request: Request) -> Response:
    actor = actor_of(request)
    if actor is None or not actor.is_admin:
        return not_found(request)
    flavours = await _flavours_field(request)
    data = await form_data(request)
    identity = services_of(request).identity
    try:
        created = await identity.create_staff(
            actor, data.get("pseudonym", ""), data.get("role", ""), flavours, data.get("registration", ""),
            catalog_slugs=_slugs(request),
        )  # fmt: skip
    except IdentityError as exc:
        return await _staff_page(
            request, _errors(exc, "pseudonym"), exc.status, {"pseudonym": data.get("pseudonym", "")}
        )
    await identity.put_flash(
        actor.session_id,
        {
            "pseudonym": created.pseudonym,
            "password": created.password,
            "uri": created.provisioning_uri,
            "recovery_codes": created.recovery_codes,
        },
    )
    return redirect("/backoffice/staff")


async def backoffice_staff_verify(request: Request) -> Response:
    actor = actor_of(request)
    if actor is None or not actor.is_admin:
        return not_found(request)
    flavours = await _flavours_field(request)
    data = await form_data(request)
    try:
        await services_of(request).identity.verify_staff(
            actor, request.path_params["account_id"], data.get("role", ""), flavours,
            data.get("registration", ""), data.get("verified") == "ja", catalog_slugs=_slugs(request),
        )  # fmt: skip
    except IdentityError as exc:
        if exc.status == 404:
            return not_found(request)
        return await _staff_page(request, {"verify": exc.detail}, exc.status)
    return redirect("/backoffice/staff?melding=opgeslagen")


async def backoffice_staff_second_factor(request: Request) -> Response:
    """New TOTP secret and recovery codes for a staff member (shown once, like at creation)."""
    actor = actor_of(request)
    if actor is None or not actor.is_admin:
        return not_found(request)
    if (await form_data(request)).get("bevestig") != "ja":
        refusal = N_("Vink eerst aan dat de oude koppeling en codes mogen vervallen; er is niets veranderd.")
        return await _staff_page(request, {"verify": refusal}, 422)
    identity = services_of(request).identity
    try:
        renewed = await identity.reset_second_factor(actor, request.path_params["account_id"])
    except IdentityError as exc:
        if exc.status == 404:
            return not_found(request)
        return await _staff_page(request, {"verify": exc.detail}, exc.status)
    await identity.put_flash(
        actor.session_id,
        {
            "pseudonym": renewed.pseudonym,
            "uri": renewed.provisioning_uri,
            "recovery_codes": renewed.recovery_codes,
            "renewed": True,
        },
    )
    return redirect("/backoffice/staff")


ROUTES: list[BaseRoute] = [
    Route("/backoffice/staff", backoffice_staff, methods=["GET"]),
    Route("/backoffice/staff/nieuw", backoffice_staff_create, methods=["POST"]),
    Route("/backoffice/staff/{account_id}/tweede-factor", backoffice_staff_second_factor, methods=["POST"]),
    Route("/backoffice/staff/{account_id}", backoffice_staff_verify, methods=["POST"]),
]
