"""API: my account — what is stored, validation (a code or a referral), export and erasure."""

from __future__ import annotations

from typing import Any

import msgspec
from starlette.requests import Request
from starlette.responses import Response

from chatserver.i18n import N_
from chatserver.services.identity import CODE_TTL_S
from chatserver.web.api.bodies import (
    AcceptedOut,
    Body,
    Code,
    Token,
    ValidationBody,
    caller,
    ip_subject,
    json_response,
    read_body,
)
from chatserver.web.api.openapi import INVALID, RATE_LIMITED, UNAUTHENTICATED, Operation
from chatserver.web.api.problems import ApiProblem, Problem
from chatserver.web.responses import lang_of, services_of


class CodeBody(Body):
    code: Code


class ReferralCodeBody(Body):
    code: Token


class MeOut(msgspec.Struct, omit_defaults=True):
    id: str
    pseudonym: str
    kind: str
    validated: bool
    validation_method: str | None = None
    created_at: str | None = None
    role: str | None = None
    flavours: list[str] | None = None
    verified: bool | None = None


class ValidatedOut(msgspec.Struct):
    validated: bool


class ExportOut(msgspec.Struct):
    exported_at: str
    account: dict[str, Any]
    collections: dict[str, list[Any]]
    note: str


async def me(request: Request) -> Response:
    identity = services_of(request).identity
    doc = await identity.account(caller(request))
    return json_response(identity.public_view(doc))


async def request_validation(request: Request) -> Response:
    body = await read_body(request, ValidationBody)
    actor = caller(request)
    method, address = body.address()
    await services_of(request).identity.request_validation(
        actor, method, address, ip_subject(request), lang_of(request)
    )
    return json_response(AcceptedOut(status="code_sent", expires_in=CODE_TTL_S), 202)


async def confirm_validation(request: Request) -> Response:
    body = await read_body(request, CodeBody)
    actor = await services_of(request).identity.confirm_validation(caller(request), body.code)
    return json_response(ValidatedOut(validated=actor.validated))


async def redeem_referral(request: Request) -> Response:
    body = await read_body(request, ReferralCodeBody)
    actor = await services_of(request).identity.redeem_referral(caller(request), body.code)
    return json_response(ValidatedOut(validated=actor.validated))


async def export(request: Request) -> Response:
    data = await services_of(request).identity.export_my_data(caller(request))
    return json_response(data)


async def erase(request: Request) -> Response:
    posts = request.query_params.get("posts", "remove")
    if posts not in ("remove", "keep"):
        raise ApiProblem(422, N_("Kies posts=remove of posts=keep."), "invalid", "posts")
    await services_of(request).identity.erase_account(caller(request), keep_posts=posts == "keep")
    return Response(status_code=204)


# i18n: the API's description (OpenAPI), for developers
OPERATIONS: list[Operation] = [
    Operation("GET", "/api/v1/me", me, "Mijn account", None, {200: ("Account", MeOut), 401: UNAUTHENTICATED},
              auth=True),
    Operation("POST", "/api/v1/me/validation", request_validation, "Validatiecode aanvragen (e-mail of telefoon)",
              ValidationBody, {202: ("Code verstuurd", AcceptedOut), 401: UNAUTHENTICATED,
                               409: ("Adres in gebruik", Problem), 422: INVALID, 429: RATE_LIMITED}, auth=True),
    Operation("POST", "/api/v1/me/validation/confirm", confirm_validation, "Validatiecode bevestigen", CodeBody,
              {200: ("Gevalideerd", ValidatedOut), 401: UNAUTHENTICATED, 422: INVALID, 429: RATE_LIMITED},
              auth=True),
    Operation("POST", "/api/v1/me/referral", redeem_referral, "Verwijscode inwisselen", ReferralCodeBody,
              {200: ("Gevalideerd", ValidatedOut), 401: UNAUTHENTICATED, 422: INVALID, 429: RATE_LIMITED},
              auth=True),
    Operation("GET", "/api/v1/me/export", export, "Download mijn gegevens", None,
              {200: ("Alle gegevens", ExportOut), 401: UNAUTHENTICATED}, auth=True),
    Operation("DELETE", "/api/v1/me", erase, "Verwijder mijn account (?posts=remove|keep)", None,
              {204: ("Verwijderd", None), 401: UNAUTHENTICATED, 422: INVALID}, auth=True),
]  # fmt: skip
