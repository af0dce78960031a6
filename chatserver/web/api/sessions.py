"""API: guests, accounts, log-in and log-out, WebSocket tokens, and recovery of an account."""

from __future__ import annotations

import msgspec
from starlette.requests import Request
from starlette.responses import Response

from chatserver.domain.accounts import WS_TOKEN_TTL_S
from chatserver.domain.identity import Actor
from chatserver.services.identity import CODE_TTL_S, Session
from chatserver.web.api.bodies import (
    AcceptedOut,
    Body,
    NewPassword,
    Pseudonym,
    Token,
    ValidationBody,
    caller,
    device_token,
    ip_subject,
    json_response,
    read_body,
)
from chatserver.web.api.openapi import INVALID, RATE_LIMITED, UNAUTHENTICATED, Operation
from chatserver.web.api.problems import Problem
from chatserver.web.responses import lang_of, services_of


class Credentials(Body):
    pseudonym: Pseudonym
    password: NewPassword


class LoginBody(msgspec.Struct, forbid_unknown_fields=True):
    pseudonym: str
    password: str
    totp: str | None = None


class RecoveryConfirmBody(Body):
    code: Token
    password: NewPassword


class GuestOut(msgspec.Struct):
    id: str
    pseudonym: str
    token: str


class AccountOut(msgspec.Struct):
    id: str
    pseudonym: str
    validated: bool
    token: str


class SessionOut(msgspec.Struct):
    token: str
    id: str
    pseudonym: str
    kind: str
    validated: bool


class WsTokenOut(msgspec.Struct):
    token: str
    expires_in: int


def _session_out(session: Session) -> SessionOut:
    a = session.actor
    return SessionOut(token=session.token, id=a.account_id, pseudonym=a.pseudonym, kind=a.kind, validated=a.validated)


async def create_guest(request: Request) -> Response:
    session = await services_of(request).identity.create_guest(ip_subject(request), device_token(request))
    a = session.actor
    return json_response(GuestOut(id=a.account_id, pseudonym=a.pseudonym, token=session.token), 201)


async def create_account(request: Request) -> Response:
    body = await read_body(request, Credentials)
    current: Actor | None = request.scope.get("actor")
    session = await services_of(request).identity.register_member(
        body.pseudonym, body.password, ip_subject(request), device_token(request), current=current,
        previous_token=request.scope.get("session_token") or None,
    )  # fmt: skip
    a = session.actor
    return json_response(
        AccountOut(id=a.account_id, pseudonym=a.pseudonym, validated=a.validated, token=session.token), 201
    )


async def create_session(request: Request) -> Response:
    body = await read_body(request, LoginBody)
    identity = services_of(request).identity
    session = await identity.login(body.pseudonym, body.password, ip_subject(request), device_token(request), body.totp)
    return json_response(_session_out(session))


async def end_session(request: Request) -> Response:
    await services_of(request).identity.logout(caller(request))
    return Response(status_code=204)


async def end_all_sessions(request: Request) -> Response:
    await services_of(request).identity.logout_everywhere(caller(request))
    return Response(status_code=204)


async def ws_token(request: Request) -> Response:
    token = await services_of(request).identity.ws_token(caller(request))
    return json_response(WsTokenOut(token=token, expires_in=WS_TOKEN_TTL_S))


async def recovery(request: Request) -> Response:
    body = await read_body(request, ValidationBody)
    method, address = body.address()
    await services_of(request).identity.request_recovery(method, address, ip_subject(request), lang_of(request))
    return json_response(AcceptedOut(status="code_sent_if_known", expires_in=CODE_TTL_S), 202)


async def recovery_confirm(request: Request) -> Response:
    body = await read_body(request, RecoveryConfirmBody)
    identity = services_of(request).identity
    session = await identity.confirm_recovery(body.code, body.password, ip_subject(request), device_token(request))
    return json_response(_session_out(session))


# i18n: the API's description (OpenAPI), for developers
SESSIONS: list[Operation] = [
    Operation("POST", "/api/v1/guests", create_guest, "Gastsessie met een gegenereerde schuilnaam", None,
              {201: ("Gast aangemaakt", GuestOut), 403: ("Geweerd apparaat", Problem), 429: RATE_LIMITED}),
    Operation("POST", "/api/v1/accounts", create_account, "Lid worden (een gast-token houdt zijn geschiedenis)",
              Credentials, {201: ("Account aangemaakt", AccountOut), 409: ("Schuilnaam bezet", Problem),
                            422: INVALID, 429: RATE_LIMITED}),
    Operation("POST", "/api/v1/sessions", create_session, "Inloggen (medewerkers met totp)", LoginBody,
              {200: ("Ingelogd", SessionOut), 401: UNAUTHENTICATED, 403: ("Geweerd", Problem), 429: RATE_LIMITED}),
    Operation("DELETE", "/api/v1/sessions/current", end_session, "Uitloggen", None,
              {204: ("Uitgelogd", None), 401: UNAUTHENTICATED}, auth=True),
    Operation("DELETE", "/api/v1/sessions", end_all_sessions, "Overal uitloggen", None,
              {204: ("Alle sessies beëindigd", None), 401: UNAUTHENTICATED}, auth=True),
    Operation("POST", "/api/v1/ws-token", ws_token, "Kortlevend token voor de WebSocket", None,
              {200: ("Token", WsTokenOut), 401: UNAUTHENTICATED}, auth=True),
]  # fmt: skip

# i18n: the API's description (OpenAPI), for developers
RECOVERY: list[Operation] = [
    Operation("POST", "/api/v1/recovery", recovery, "Account herstellen: herstelcode aanvragen", ValidationBody,
              {202: ("Verstuurd als het adres bekend is", AcceptedOut), 422: INVALID, 429: RATE_LIMITED}),
    Operation("POST", "/api/v1/recovery/confirm", recovery_confirm, "Herstelcode en nieuw wachtwoord",
              RecoveryConfirmBody, {200: ("Ingelogd", SessionOut), 401: UNAUTHENTICATED, 422: INVALID,
                                    429: RATE_LIMITED}),
]  # fmt: skip
