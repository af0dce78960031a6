"""JSON API v1 (contract): accounts, sessions, validation, privacy, flavours; OpenAPI 3.1 at /api/openapi.json.

Bodies are decoded with msgspec into closed Structs (unknown fields refused,
scalars only, so no query operator ever reaches MongoDB). Errors are RFC 9457
problem details with a Dutch title and detail. The API authenticates with
``Authorization: Bearer <token>``.
"""

from __future__ import annotations

import functools
import logging
import re
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import timedelta
from typing import TYPE_CHECKING, Annotated, Any, ClassVar, Literal, TypeVar, cast

import msgspec
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import BaseRoute, Route

from chatserver.adapters.session_store import WS_TOKEN_TTL_S
from chatserver.domain import accounts
from chatserver.domain.identity import Actor
from chatserver.services import identity as identity_service
from chatserver.services.identity import CODE_TTL_S, TITLES, IdentityError, IdentityService, Session
from chatserver.web.feature import Feature

if TYPE_CHECKING:
    from chatserver.container import Services

log = logging.getLogger("chatserver.api")

MAX_BODY_BYTES = 16 * 1024
PROBLEM = "application/problem+json"


class Problem(msgspec.Struct, omit_defaults=True):
    type: str
    title: str
    status: int
    detail: str
    code: str = ""
    retry_after: int | None = None
    field: str | None = None
    suggestions: list[str] | None = None
    ban_id: str | None = None


class Body(msgspec.Struct, forbid_unknown_fields=True):
    """A request body: closed, decoded and validated by msgspec from the same declarations the schema shows.

    ``one_of`` names fields of which exactly one must be present; the decoder refuses anything else and
    the schema states it as ``oneOf``. Field descriptions double as the Dutch hint of a 422.
    """

    one_of: ClassVar[tuple[str, ...]] = ()

    def __post_init__(self) -> None:
        if self.one_of and sum(getattr(self, name) is not msgspec.UNSET for name in self.one_of) != 1:
            raise ValueError(f"stuur precies één van: {', '.join(self.one_of)}")


Pseudonym = Annotated[
    str,
    msgspec.Meta(
        min_length=accounts.PSEUDONYM_MIN,
        max_length=accounts.PSEUDONYM_MAX,
        pattern=accounts.PSEUDONYM_PATTERN,
        description=f"Een schuilnaam is {accounts.PSEUDONYM_MIN} tot {accounts.PSEUDONYM_MAX} tekens: letters, "
        "cijfers, _ en -, en begint met een letter of cijfer.",
    ),
]
NewPassword = Annotated[
    str,
    msgspec.Meta(
        min_length=accounts.PASSWORD_MIN,
        max_length=accounts.PASSWORD_MAX,
        description=f"Een wachtwoord is {accounts.PASSWORD_MIN} tot {accounts.PASSWORD_MAX} tekens, niet een van "
        "de veelgebruikte wachtwoorden, met minstens vier verschillende tekens en zonder je schuilnaam.",
    ),
]
Email = Annotated[
    str,
    msgspec.Meta(max_length=accounts.EMAIL_MAX, pattern=accounts.EMAIL_PATTERN, description="Een e-mailadres."),
]
Phone = Annotated[
    str,
    msgspec.Meta(
        max_length=accounts.PHONE_MAX,
        pattern=accounts.PHONE_PATTERN,
        description="Een telefoonnummer: +31…, 0031… of 06…; spaties, punten, streepjes en haakjes mogen.",
    ),
]
Code = Annotated[
    str,
    msgspec.Meta(pattern=accounts.CODE_PATTERN, description=f"De code van {accounts.CODE_DIGITS} cijfers."),
]
Token = Annotated[
    str, msgspec.Meta(min_length=1, max_length=64, description="De code zoals je die kreeg (verwijs- of herstelcode).")
]
AppealText = Annotated[
    str,
    msgspec.Meta(
        min_length=1,
        max_length=identity_service.MAX_APPEAL_CHARS,
        pattern=r"\S",
        description="Schrijf kort waarom je bezwaar maakt (niet leeg).",
    ),
]


class Credentials(Body):
    pseudonym: Pseudonym
    password: NewPassword


class LoginBody(msgspec.Struct, forbid_unknown_fields=True):
    pseudonym: str
    password: str
    totp: str | None = None


class ValidationBody(Body):
    one_of: ClassVar[tuple[str, ...]] = ("email", "phone")
    email: Email | msgspec.UnsetType = msgspec.UNSET
    phone: Phone | msgspec.UnsetType = msgspec.UNSET

    def address(self) -> tuple[Literal["email", "phone"], str]:
        if isinstance(self.email, str):
            return "email", self.email
        assert isinstance(self.phone, str)  # one_of holds exactly one
        return "phone", self.phone


class CodeBody(Body):
    code: Code


class ReferralCodeBody(Body):
    code: Token


class RecoveryConfirmBody(Body):
    code: Token
    password: NewPassword


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


class AcceptedOut(msgspec.Struct):
    status: str
    expires_in: int


class ValidatedOut(msgspec.Struct):
    validated: bool


class FlavourValidationOut(msgspec.Struct):
    forum_post: bool
    room_chat: bool
    spreekuur_question: bool


class FlavourOut(msgspec.Struct):
    slug: str
    name: str
    short_name: str
    tagline: str
    guests_allowed: bool
    validation_required: FlavourValidationOut


class BansOut(msgspec.Struct):
    ids: list[str]
    state: Literal["active", "pending"] = "active"
    until: str | None = None


class ReferralOut(msgspec.Struct):
    code: str
    expires_in_days: int


class ExportOut(msgspec.Struct):
    exported_at: str
    account: dict[str, Any]
    collections: dict[str, list[Any]]
    note: str


class ApiProblem(Exception):
    def __init__(self, status: int, detail: str, code: str, field: str | None = None) -> None:
        super().__init__(code)
        self.status, self.detail, self.code, self.field = status, detail, code, field


def problem(status: int, detail: str, code: str = "", **extra: Any) -> Response:
    body = Problem(
        type=f"https://gem.invalid/problems/{code}" if code else "about:blank",
        title=TITLES.get(status, "Er ging iets mis"),
        status=status,
        detail=detail,
        code=code,
        retry_after=extra.get("retry_after"),
        field=extra.get("field"),
        suggestions=extra.get("suggestions"),
        ban_id=extra.get("ban_id"),
    )
    headers = {"Cache-Control": "no-store"}
    if extra.get("retry_after"):
        headers["Retry-After"] = str(extra["retry_after"])
    return Response(msgspec.json.encode(body), status_code=status, media_type=PROBLEM, headers=headers)


def json_response(value: Any, status: int = 200) -> Response:
    return Response(msgspec.json.encode(value), status_code=status, media_type="application/json")


T = TypeVar("T")


async def read_body(request: Request, kind: type[T]) -> T:
    content_type = request.headers.get("content-type", "").split(";")[0].strip().lower()
    if content_type != "application/json":
        raise ApiProblem(415, "Stuur de gegevens als JSON (Content-Type: application/json).", "unsupported_media_type")
    chunks: list[bytes] = []
    size = 0
    async for chunk in request.stream():
        size += len(chunk)
        if size > MAX_BODY_BYTES:
            raise ApiProblem(413, "Het verzoek is te groot.", "too_large")
        chunks.append(chunk)
    raw = b"".join(chunks)
    try:
        try:
            return msgspec.json.decode(raw, type=kind)
        except msgspec.ValidationError as exc:
            if "got `float`" not in str(exc):
                raise
            # JSON Schema counts 3.0 as an integer; msgspec does not. Convert whole numbers, then validate again.
            return msgspec.convert(_whole_floats(msgspec.json.decode(raw)), type=kind)
    except msgspec.ValidationError as exc:
        field = _FIELD_AT.search(str(exc))
        name = field.group(1) if field else None
        hint = _hints(cast(type, kind)).get(name or "")
        detail = f"Ongeldige invoer: {hint}" if hint else f"Ongeldige invoer: {exc}"
        raise ApiProblem(422, detail, "invalid", name) from None
    except msgspec.DecodeError:
        raise ApiProblem(400, "Dit is geen geldige JSON.", "bad_json") from None


def _whole_floats(value: Any) -> Any:
    if isinstance(value, float) and value.is_integer():
        return int(value)
    if isinstance(value, list):
        return [_whole_floats(v) for v in value]
    if isinstance(value, dict):
        return {k: _whole_floats(v) for k, v in value.items()}
    return value


_FIELD_AT = re.compile(r"at `\$\.(\w+)`")


@functools.cache
def _hints(kind: type) -> dict[str, str]:
    """The Dutch hint per field: the ``description`` its schema carries."""
    (schema,), components = msgspec.json.schema_components([kind])
    name = str(schema.get("$ref", "")).rsplit("/", 1)[-1]
    properties = components.get(name, {}).get("properties", {})
    return {field: str(spec["description"]) for field, spec in properties.items() if "description" in spec}


def _actor(request: Request) -> Actor:
    actor: Actor | None = request.scope.get("actor")
    if actor is None:
        raise ApiProblem(401, "Log in om dit te doen (Authorization: Bearer <token>).", "unauthenticated")
    return actor


Handler = Callable[[Request], Awaitable[Response]]


@dataclass(frozen=True)
class Operation:
    method: str
    path: str
    handler: Handler
    summary: str
    body: type | None
    responses: dict[int, tuple[str, type | None]]
    auth: bool = False


def _session_out(session: Session) -> SessionOut:
    a = session.actor
    return SessionOut(token=session.token, id=a.account_id, pseudonym=a.pseudonym, kind=a.kind, validated=a.validated)


def operations(services: Services, identity: IdentityService) -> list[Operation]:
    def ip(request: Request) -> str:
        return str(request.scope.get("ip_subject", ""))

    def device(request: Request) -> str:
        return str(request.scope.get("device_token", ""))

    async def create_guest(request: Request) -> Response:
        session = await identity.create_guest(ip(request), device(request))
        a = session.actor
        return json_response(GuestOut(id=a.account_id, pseudonym=a.pseudonym, token=session.token), 201)

    async def create_account(request: Request) -> Response:
        body = await read_body(request, Credentials)
        current: Actor | None = request.scope.get("actor")
        session = await identity.register_member(
            body.pseudonym, body.password, ip(request), device(request), current=current,
            previous_token=request.scope.get("session_token") or None,
        )  # fmt: skip
        a = session.actor
        return json_response(
            AccountOut(id=a.account_id, pseudonym=a.pseudonym, validated=a.validated, token=session.token), 201
        )

    async def create_session(request: Request) -> Response:
        body = await read_body(request, LoginBody)
        session = await identity.login(body.pseudonym, body.password, ip(request), device(request), body.totp)
        return json_response(_session_out(session))

    async def end_session(request: Request) -> Response:
        await identity.logout(_actor(request))
        return Response(status_code=204)

    async def end_all_sessions(request: Request) -> Response:
        await identity.logout_everywhere(_actor(request))
        return Response(status_code=204)

    async def ws_token(request: Request) -> Response:
        token = await identity.ws_token(_actor(request))
        return json_response(WsTokenOut(token=token, expires_in=WS_TOKEN_TTL_S))

    async def me(request: Request) -> Response:
        doc = await identity.account(_actor(request))
        return json_response(identity.public_view(doc))

    async def request_validation(request: Request) -> Response:
        body = await read_body(request, ValidationBody)
        actor = _actor(request)
        method, address = body.address()
        await identity.request_validation(actor, method, address, ip(request))
        return json_response(AcceptedOut(status="code_sent", expires_in=CODE_TTL_S), 202)

    async def confirm_validation(request: Request) -> Response:
        body = await read_body(request, CodeBody)
        actor = await identity.confirm_validation(_actor(request), body.code)
        return json_response(ValidatedOut(validated=actor.validated))

    async def redeem_referral(request: Request) -> Response:
        body = await read_body(request, ReferralCodeBody)
        actor = await identity.redeem_referral(_actor(request), body.code)
        return json_response(ValidatedOut(validated=actor.validated))

    async def export(request: Request) -> Response:
        data = await identity.export_my_data(_actor(request))
        return json_response(data)

    async def erase(request: Request) -> Response:
        posts = request.query_params.get("posts", "remove")
        if posts not in ("remove", "keep"):
            raise ApiProblem(422, "Kies posts=remove of posts=keep.", "invalid", "posts")
        await identity.erase_account(_actor(request), keep_posts=posts == "keep")
        return Response(status_code=204)

    async def flavours(request: Request) -> Response:
        out = [
            FlavourOut(
                slug=f.slug,
                name=f.name,
                short_name=f.short_name,
                tagline=f.tagline,
                guests_allowed=f.chat.guests_allowed,
                validation_required=FlavourValidationOut(
                    forum_post=f.validation.forum_post,
                    room_chat=f.validation.room_chat,
                    spreekuur_question=f.validation.spreekuur_question,
                ),
            )
            for f in services.catalog
        ]
        return json_response(out)

    async def recovery(request: Request) -> Response:
        body = await read_body(request, ValidationBody)
        method, address = body.address()
        await identity.request_recovery(method, address, ip(request))
        return json_response(AcceptedOut(status="code_sent_if_known", expires_in=CODE_TTL_S), 202)

    async def recovery_confirm(request: Request) -> Response:
        body = await read_body(request, RecoveryConfirmBody)
        session = await identity.confirm_recovery(body.code, body.password, ip(request), device(request))
        return json_response(_session_out(session))

    async def ban(request: Request) -> Response:
        actor = _actor(request)  # who asks before what they sent: a refused caller learns nothing of the body
        identity.require_sanctioner(actor)
        body = await read_body(request, BanBody)
        if body.hours is not None and body.days is not None:
            raise ApiProblem(422, "Geef de duur in uren óf in dagen.", "invalid", "days")
        span = timedelta(hours=body.hours) if body.hours else (timedelta(days=body.days) if body.days else None)
        outcome = await identity.ban(
            actor, body.account_id, body.reason, duration=span, flavours=body.flavours,
            permanent=body.permanent, scopes=tuple(body.scopes),
        )  # fmt: skip
        until = outcome.until.isoformat() if outcome.until else None
        out = BansOut(ids=outcome.ids, state=outcome.state, until=until)
        return json_response(out, 202 if outcome.state == "pending" else 201)

    async def confirm_ban(request: Request) -> Response:
        outcome = await identity.confirm_ban(_actor(request), request.path_params["ban_id"])
        return json_response(BansOut(ids=outcome.ids, state=outcome.state))

    async def appeal(request: Request) -> Response:
        body = await read_body(request, AppealBody)
        await identity.appeal(request.path_params["ban_id"], body.text)
        return json_response(AcceptedOut(status="appeal_received", expires_in=0), 202)

    async def referral(request: Request) -> Response:
        actor = _actor(request)
        identity.require_sanctioner(actor, "referral")
        body = await read_body(request, ReferralBody)
        code = await identity.create_referral(actor, body.flavour)
        return json_response(ReferralOut(code=code, expires_in_days=identity_service.REFERRAL_DAYS), 201)

    e401 = (401, ("Niet ingelogd", Problem))
    e422 = (422, ("Ongeldige invoer", Problem))
    e429 = (429, ("Te veel pogingen (Retry-After)", Problem))
    return [
        Operation("POST", "/api/v1/guests", create_guest, "Gastsessie met een gegenereerde schuilnaam", None,
                  {201: ("Gast aangemaakt", GuestOut), 403: ("Geweerd apparaat", Problem), 429: e429[1]}),
        Operation("POST", "/api/v1/accounts", create_account, "Lid worden (een gast-token houdt zijn geschiedenis)",
                  Credentials, {201: ("Account aangemaakt", AccountOut), 409: ("Schuilnaam bezet", Problem),
                                422: e422[1], 429: e429[1]}),
        Operation("POST", "/api/v1/sessions", create_session, "Inloggen (medewerkers met totp)", LoginBody,
                  {200: ("Ingelogd", SessionOut), 401: e401[1], 403: ("Geweerd", Problem), 429: e429[1]}),
        Operation("DELETE", "/api/v1/sessions/current", end_session, "Uitloggen", None,
                  {204: ("Uitgelogd", None), 401: e401[1]}, auth=True),
        Operation("DELETE", "/api/v1/sessions", end_all_sessions, "Overal uitloggen", None,
                  {204: ("Alle sessies beëindigd", None), 401: e401[1]}, auth=True),
        Operation("POST", "/api/v1/ws-token", ws_token, "Kortlevend token voor de WebSocket", None,
                  {200: ("Token", WsTokenOut), 401: e401[1]}, auth=True),
        Operation("GET", "/api/v1/me", me, "Mijn account", None, {200: ("Account", MeOut), 401: e401[1]}, auth=True),
        Operation("POST", "/api/v1/me/validation", request_validation, "Validatiecode aanvragen (e-mail of telefoon)",
                  ValidationBody, {202: ("Code verstuurd", AcceptedOut), 401: e401[1],
                                   409: ("Adres in gebruik", Problem),
                                   422: e422[1], 429: e429[1]}, auth=True),
        Operation("POST", "/api/v1/me/validation/confirm", confirm_validation, "Validatiecode bevestigen", CodeBody,
                  {200: ("Gevalideerd", ValidatedOut), 401: e401[1], 422: e422[1], 429: e429[1]}, auth=True),
        Operation("POST", "/api/v1/me/referral", redeem_referral, "Verwijscode inwisselen", ReferralCodeBody,
                  {200: ("Gevalideerd", ValidatedOut), 401: e401[1], 422: e422[1], 429: e429[1]}, auth=True),
        Operation("GET", "/api/v1/me/export", export, "Download mijn gegevens", None,
                  {200: ("Alle gegevens", ExportOut), 401: e401[1]}, auth=True),
        Operation("DELETE", "/api/v1/me", erase, "Verwijder mijn account (?posts=remove|keep)", None,
                  {204: ("Verwijderd", None), 401: e401[1], 422: e422[1]}, auth=True),
        Operation("GET", "/api/v1/flavours", flavours, "De communities", None,
                  {200: ("Communities", list[FlavourOut])}),
        Operation("POST", "/api/v1/recovery", recovery, "Account herstellen: herstelcode aanvragen", ValidationBody,
                  {202: ("Verstuurd als het adres bekend is", AcceptedOut), 422: e422[1], 429: e429[1]}),
        Operation("POST", "/api/v1/recovery/confirm", recovery_confirm, "Herstelcode en nieuw wachtwoord",
                  RecoveryConfirmBody, {200: ("Ingelogd", SessionOut), 401: e401[1], 422: e422[1], 429: e429[1]}),
        Operation("POST", "/api/v1/bans", ban,
                  "Iemand weren (medewerkers, binnen hun rol, communities en maximale duur)", BanBody,
                  {201: ("Maatregel vastgelegd", BansOut), 202: ("Wacht op een tweede beheerder", BansOut),
                   401: e401[1], 403: ("Geen toegang", Problem), 404: ("Niet gevonden", Problem),
                   422: e422[1]}, auth=True),
        Operation("POST", "/api/v1/bans/{ban_id}/confirm", confirm_ban,
                  "Blijvende maatregel bevestigen (een tweede beheerder)", None,
                  {200: ("Maatregel van kracht", BansOut), 401: e401[1], 403: ("Geen toegang", Problem),
                   404: ("Niet gevonden", Problem)}, auth=True),
        Operation("POST", "/api/v1/bans/{ban_id}/appeal", appeal, "Bezwaar tegen een maatregel", AppealBody,
                  {202: ("Bezwaar ontvangen", AcceptedOut), 404: ("Niet gevonden", Problem), 422: e422[1]}),
        Operation("POST", "/api/v1/referral-codes", referral, "Verwijscode uitgeven (medewerkers)", ReferralBody,
                  {201: ("Code", ReferralOut), 401: e401[1], 403: ("Geen toegang", Problem)}, auth=True),
    ]  # fmt: skip


def responses_of(op: Operation) -> dict[int, tuple[str, type | None]]:
    """Every status an operation can answer: its own outcomes plus those of the shared machinery.

    ``read_body`` answers 400, 413, 415 and 422 for any body, ``_actor`` 401 without a session, the
    app's database handler 503 when the database is away or too slow; listing them here is what keeps
    the document and the behaviour together.
    """
    out = dict(op.responses)
    if op.body is not None:
        out.setdefault(400, ("Geen geldige JSON (bad_json)", Problem))
        out.setdefault(413, ("Verzoek te groot (too_large)", Problem))
        out.setdefault(415, ("Geen application/json (unsupported_media_type)", Problem))
        out.setdefault(422, ("Ongeldige invoer (invalid)", Problem))
    if op.auth:
        out.setdefault(401, ("Niet ingelogd", Problem))
    out.setdefault(503, ("Database even niet bereikbaar (Retry-After)", Problem))
    return out


def openapi_document(ops: list[Operation]) -> dict[str, Any]:
    types: list[Any] = []
    for op in ops:
        if op.body is not None:
            types.append(op.body)
        types.extend(t for _, t in responses_of(op).values() if t is not None)
    schemas, components = msgspec.json.schema_components(types, ref_template="#/components/schemas/{name}")
    by_type = dict(zip(types, schemas, strict=True))
    for kind in types:
        if isinstance(kind, type) and issubclass(kind, Body) and kind.one_of:
            components[kind.__name__]["oneOf"] = [{"required": [name]} for name in kind.one_of]
    paths: dict[str, dict[str, Any]] = {}
    for op in ops:
        entry: dict[str, Any] = {
            "summary": op.summary,
            "operationId": op.method.lower() + "_" + re.sub(r"[^a-z0-9]+", "_", op.path[1:]).strip("_"),
            "responses": {},
        }
        if op.auth:
            entry["security"] = [{"bearer": []}]
        if "{ban_id}" in op.path:
            entry["parameters"] = [{"name": "ban_id", "in": "path", "required": True, "schema": {"type": "string"}}]
        if op.path == "/api/v1/me" and op.method == "DELETE":
            entry["parameters"] = [
                {"name": "posts", "in": "query", "required": False,
                 "schema": {"type": "string", "enum": ["remove", "keep"], "default": "remove"}}
            ]  # fmt: skip
        if op.body is not None:
            entry["requestBody"] = {"required": True, "content": {"application/json": {"schema": by_type[op.body]}}}
        for status, (description, kind) in sorted(responses_of(op).items()):
            response: dict[str, Any] = {"description": description}
            if kind is not None:
                media = PROBLEM if kind is Problem else "application/json"
                response["content"] = {media: {"schema": by_type[kind]}}
            entry["responses"][str(status)] = response
        paths.setdefault(op.path, {})[op.method.lower()] = entry
    return {
        "openapi": "3.1.0",
        "info": {
            "title": "GEM community server API",
            "version": "1.0.0",
            "description": "Anoniem maar gevalideerd: accounts, sessies, validatie en privacy. "
            "Fouten volgen RFC 9457 (application/problem+json).",
            "license": {"name": "EUPL-1.2", "identifier": "EUPL-1.2"},
        },
        "servers": [{"url": "/"}],
        "paths": paths,
        "components": {
            "schemas": components,
            "securitySchemes": {"bearer": {"type": "http", "scheme": "bearer"}},
        },
    }


def _wrap(handler: Handler) -> Handler:
    async def endpoint(request: Request) -> Response:
        try:
            return await handler(request)
        except ApiProblem as exc:
            return problem(exc.status, exc.detail, exc.code, field=exc.field)
        except IdentityError as exc:
            return problem(
                exc.status,
                exc.detail,
                exc.code,
                retry_after=exc.retry_after,
                field=exc.extra.get("field"),
                suggestions=exc.extra.get("suggestions"),
                ban_id=exc.extra.get("ban_id"),
            )

    return endpoint


def install(services: Services) -> Feature:
    identity = services.identity
    ops = operations(services, identity)
    document = msgspec.json.encode(openapi_document(ops))

    async def openapi(request: Request) -> Response:
        return Response(document, media_type="application/json")

    async def api_not_found(request: Request) -> Response:
        return problem(404, "Deze API-aanroep bestaat niet.", "not_found")

    routes: list[BaseRoute] = [Route("/api/openapi.json", openapi, methods=["GET"])]
    by_path: dict[str, dict[str, Handler]] = {}
    for op in ops:
        by_path.setdefault(op.path, {})[op.method] = _wrap(op.handler)
    for path, handlers in by_path.items():
        routes.append(_method_route(path, handlers))
    routes.append(Route("/api/{rest:path}", api_not_found, methods=["GET", "POST", "PUT", "PATCH", "DELETE"]))

    return Feature(routes=routes)


HTTP_METHODS = ("GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS")


def _method_route(path: str, handlers: dict[str, Handler]) -> Route:
    """One route per path. OPTIONS answers 204 and a wrong method 405 as problem+json, both with an
    ``Allow`` that lists exactly the methods the document holds for this path (and OPTIONS)."""
    allow = ", ".join([*sorted(handlers), "OPTIONS"])

    async def endpoint(request: Request) -> Response:
        if request.method == "OPTIONS":
            return Response(status_code=204, headers={"Allow": allow, "Cache-Control": "no-store"})
        handler = handlers.get(request.method)
        if handler is None and request.method == "HEAD":
            handler = handlers.get("GET")
        if handler is None:
            response = problem(405, "Deze methode kan hier niet.", "method_not_allowed")
            response.headers["Allow"] = allow
            return response
        return await handler(request)

    return Route(path, endpoint, methods=list(HTTP_METHODS))
