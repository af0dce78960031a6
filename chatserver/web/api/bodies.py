"""Request bodies: closed msgspec Structs, decoded and validated from the same declarations the schema shows.

Unknown fields are refused and fields are scalars only, so no query operator ever reaches the database. A field's
``description`` doubles as the Dutch hint of a 422.
"""

from __future__ import annotations

import functools
import re
from typing import Annotated, Any, ClassVar, Literal, TypeVar, cast

import msgspec
from starlette.requests import Request
from starlette.responses import Response

from chatserver.domain import accounts
from chatserver.domain.identity import Actor
from chatserver.i18n import N_
from chatserver.services.identity import MAX_APPEAL_CHARS
from chatserver.web.api.problems import ApiProblem

MAX_BODY_BYTES = 16 * 1024


class Body(msgspec.Struct, forbid_unknown_fields=True):
    """A request body. ``one_of`` names fields of which exactly one must be present; the decoder refuses anything
    else and the schema states it as ``oneOf``."""

    one_of: ClassVar[tuple[str, ...]] = ()

    def __post_init__(self) -> None:
        if self.one_of and sum(getattr(self, name) is not msgspec.UNSET for name in self.one_of) != 1:
            raise ValueError(N_("stuur precies één van: %s") % ", ".join(self.one_of))


# The descriptions are also the hint of a refusal ("Ongeldige invoer: …"), so they are marked for translation.
Pseudonym = Annotated[
    str,
    msgspec.Meta(
        min_length=accounts.PSEUDONYM_MIN,
        max_length=accounts.PSEUDONYM_MAX,
        pattern=accounts.PSEUDONYM_PATTERN,
        description=N_(
            "Een schuilnaam is %d tot %d tekens: letters, cijfers, _ en -, en begint met een letter of cijfer."
        )
        % (accounts.PSEUDONYM_MIN, accounts.PSEUDONYM_MAX),
    ),
]
NewPassword = Annotated[
    str,
    msgspec.Meta(
        min_length=accounts.PASSWORD_MIN,
        max_length=accounts.PASSWORD_MAX,
        description=N_(
            "Een wachtwoord is %d tot %d tekens, niet een van de veelgebruikte wachtwoorden, met minstens vier "
            "verschillende tekens en zonder je schuilnaam."
        )
        % (accounts.PASSWORD_MIN, accounts.PASSWORD_MAX),
    ),
]
Email = Annotated[
    str,
    msgspec.Meta(max_length=accounts.EMAIL_MAX, pattern=accounts.EMAIL_PATTERN, description=N_("Een e-mailadres.")),
]
Phone = Annotated[
    str,
    msgspec.Meta(
        max_length=accounts.PHONE_MAX,
        pattern=accounts.PHONE_PATTERN,
        description=N_("Een telefoonnummer: +31…, 0031… of 06…; spaties, punten, streepjes en haakjes mogen."),
    ),
]
Code = Annotated[
    str,
    msgspec.Meta(pattern=accounts.CODE_PATTERN, description=N_("De code van %d cijfers.") % accounts.CODE_DIGITS),
]
Token = Annotated[
    str,
    msgspec.Meta(min_length=1, max_length=64, description=N_("De code zoals je die kreeg (verwijs- of herstelcode).")),
]
AppealText = Annotated[
    str,
    msgspec.Meta(
        min_length=1,
        max_length=MAX_APPEAL_CHARS,
        pattern=r"\S",
        description=N_("Schrijf kort waarom je bezwaar maakt (niet leeg)."),
    ),
]


class ValidationBody(Body):
    one_of: ClassVar[tuple[str, ...]] = ("email", "phone")
    email: Email | msgspec.UnsetType = msgspec.UNSET
    phone: Phone | msgspec.UnsetType = msgspec.UNSET

    def address(self) -> tuple[Literal["email", "phone"], str]:
        if isinstance(self.email, str):
            return "email", self.email
        assert isinstance(self.phone, str)  # one_of holds exactly one
        return "phone", self.phone


class AcceptedOut(msgspec.Struct):
    status: str
    expires_in: int


T = TypeVar("T")


async def read_body(request: Request, kind: type[T]) -> T:
    content_type = request.headers.get("content-type", "").split(";")[0].strip().lower()
    if content_type != "application/json":
        raise ApiProblem(
            415, N_("Stuur de gegevens als JSON (Content-Type: application/json)."), "unsupported_media_type"
        )
    chunks: list[bytes] = []
    size = 0
    async for chunk in request.stream():
        size += len(chunk)
        if size > MAX_BODY_BYTES:
            raise ApiProblem(413, N_("Het verzoek is te groot."), "too_large")
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
        detail = N_("Ongeldige invoer: %s") % (hint if hint else exc)
        raise ApiProblem(422, detail, "invalid", name) from None
    except msgspec.DecodeError:
        raise ApiProblem(400, N_("Dit is geen geldige JSON."), "bad_json") from None


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


def json_response(value: Any, status: int = 200) -> Response:
    return Response(msgspec.json.encode(value), status_code=status, media_type="application/json")


def caller(request: Request) -> Actor:
    """Who is asking (Bearer token or session cookie), or 401."""
    actor: Actor | None = request.scope.get("actor")
    if actor is None:
        raise ApiProblem(401, N_("Log in om dit te doen (Authorization: Bearer <token>)."), "unauthenticated")
    return actor


def ip_subject(request: Request) -> str:
    """The keyed hash of the client's address (set by the session middleware)."""
    return str(request.scope.get("ip_subject", ""))


def device_token(request: Request) -> str:
    return str(request.scope.get("device_token", ""))
