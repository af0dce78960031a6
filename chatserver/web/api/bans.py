"""API: bans (within a moderator's role, communities and longest duration), their confirmation and appeals, and
referral codes issued by staff."""

from __future__ import annotations

from datetime import timedelta
from typing import Annotated, Literal

import msgspec
from starlette.requests import Request
from starlette.responses import Response

from chatserver.i18n import N_
from chatserver.services.identity import REFERRAL_DAYS
from chatserver.web.api.bodies import AcceptedOut, AppealText, Body, caller, json_response, read_body
from chatserver.web.api.openapi import FORBIDDEN, INVALID, NOT_FOUND, UNAUTHENTICATED, Operation
from chatserver.web.api.problems import ApiProblem
from chatserver.web.responses import services_of


class BanBody(msgspec.Struct, forbid_unknown_fields=True):
    """A ban: ``hours`` or ``days`` (one of them), or ``permanent`` (admins; waits for a second admin).

    ``flavours`` limits it to those communities (required unless an admin bans platform-wide).
    """

    account_id: str
    reason: str
    hours: Annotated[int, msgspec.Meta(ge=1, le=24 * 3650)] | None = None
    days: Annotated[int, msgspec.Meta(ge=1, le=3650)] | None = None
    permanent: bool = False
    flavours: list[str] | None = None
    scopes: list[Literal["account", "validation", "device"]] = msgspec.field(
        default_factory=lambda: ["account", "validation", "device"]
    )


class AppealBody(Body):
    text: AppealText


class ReferralBody(msgspec.Struct, forbid_unknown_fields=True):
    flavour: str


class BansOut(msgspec.Struct):
    ids: list[str]
    state: Literal["active", "pending"] = "active"
    until: str | None = None


class ReferralOut(msgspec.Struct):
    code: str
    expires_in_days: int


async def ban(request: Request) -> Response:
    identity = services_of(request).identity
    actor = caller(request)  # who asks before what they sent: a refused caller learns nothing of the body
    identity.require_sanctioner(actor)
    body = await read_body(request, BanBody)
    if body.hours is not None and body.days is not None:
        raise ApiProblem(422, N_("Geef de duur in uren óf in dagen."), "invalid", "days")
    span = timedelta(hours=body.hours) if body.hours else (timedelta(days=body.days) if body.days else None)
    outcome = await identity.ban(
        actor, body.account_id, body.reason, duration=span, flavours=body.flavours,
        permanent=body.permanent, scopes=tuple(body.scopes),
    )  # fmt: skip
    until = outcome.until.isoformat() if outcome.until else None
    out = BansOut(ids=outcome.ids, state=outcome.state, until=until)
    return json_response(out, 202 if outcome.state == "pending" else 201)


async def confirm_ban(request: Request) -> Response:
    outcome = await services_of(request).identity.confirm_ban(caller(request), request.path_params["ban_id"])
    return json_response(BansOut(ids=outcome.ids, state=outcome.state))


async def appeal(request: Request) -> Response:
    body = await read_body(request, AppealBody)
    await services_of(request).identity.appeal(request.path_params["ban_id"], body.text)
    return json_response(AcceptedOut(status="appeal_received", expires_in=0), 202)


async def referral(request: Request) -> Response:
    identity = services_of(request).identity
    actor = caller(request)
    identity.require_sanctioner(actor, "referral")
    body = await read_body(request, ReferralBody)
    code = await identity.create_referral(actor, body.flavour)
    return json_response(ReferralOut(code=code, expires_in_days=REFERRAL_DAYS), 201)


# i18n: the API's description (OpenAPI), for developers
OPERATIONS: list[Operation] = [
    Operation("POST", "/api/v1/bans", ban, "Iemand weren (medewerkers, binnen hun rol, communities en maximale duur)",
              BanBody, {201: ("Maatregel vastgelegd", BansOut), 202: ("Wacht op een tweede beheerder", BansOut),
                        401: UNAUTHENTICATED, 403: FORBIDDEN, 404: NOT_FOUND, 422: INVALID}, auth=True),
    Operation("POST", "/api/v1/bans/{ban_id}/confirm", confirm_ban,
              "Blijvende maatregel bevestigen (een tweede beheerder)", None,
              {200: ("Maatregel van kracht", BansOut), 401: UNAUTHENTICATED, 403: FORBIDDEN, 404: NOT_FOUND},
              auth=True),
    Operation("POST", "/api/v1/bans/{ban_id}/appeal", appeal, "Bezwaar tegen een maatregel", AppealBody,
              {202: ("Bezwaar ontvangen", AcceptedOut), 404: NOT_FOUND, 422: INVALID}),
    Operation("POST", "/api/v1/referral-codes", referral, "Verwijscode uitgeven (medewerkers)", ReferralBody,
              {201: ("Code", ReferralOut), 401: UNAUTHENTICATED, 403: FORBIDDEN}, auth=True),
]  # fmt: skip
