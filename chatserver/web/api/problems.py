"""The API's answers when something is refused: RFC 9457 problem details, title and detail in the request's language."""

from __future__ import annotations

from typing import Any

import msgspec
from starlette.responses import Response

from chatserver.i18n import DEFAULT_LANG, N_, translate
from chatserver.services.identity import TITLES, IdentityError

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


class ApiProblem(Exception):
    """A refusal by the API itself (body, media type, authentication); answered as a problem."""

    def __init__(self, status: int, detail: str, code: str, field: str | None = None) -> None:
        super().__init__(code)
        self.status, self.detail, self.code, self.field = status, detail, code, field


def problem(status: int, detail: str, code: str = "", *, lang: str = DEFAULT_LANG, **extra: Any) -> Response:
    """The problem response; ``title`` and ``detail`` in ``lang`` (the request's language), Dutch by default."""
    body = Problem(
        type=f"https://gem.invalid/problems/{code}" if code else "about:blank",
        title=translate(lang, TITLES.get(status, N_("Er ging iets mis"))),
        status=status,
        detail=translate(lang, detail),
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


def problem_of(exc: ApiProblem | IdentityError, lang: str = DEFAULT_LANG) -> Response:
    """The problem response for a refusal of the API or of the identity service, in the request's language."""
    if isinstance(exc, ApiProblem):
        return problem(exc.status, exc.detail, exc.code, lang=lang, field=exc.field)
    return problem(
        exc.status,
        exc.detail,
        exc.code,
        lang=lang,
        retry_after=exc.retry_after,
        field=exc.extra.get("field"),
        suggestions=exc.extra.get("suggestions"),
        ban_id=exc.extra.get("ban_id"),
    )
