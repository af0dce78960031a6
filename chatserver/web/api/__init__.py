"""JSON API v1 (contract): accounts, sessions, validation, privacy, flavours; OpenAPI 3.1 at /api/openapi.json.

A plain router: the operations of each area (``sessions``, ``me``, ``flavours``, ``bans``) are module-level
handlers that reach the container through ``services_of(request)``, listed in one table, :data:`OPERATIONS`, from
which both :data:`ROUTES` and the OpenAPI document (``openapi``) are built once, at import. Bodies are decoded
with msgspec into closed Structs (``bodies``); refusals are RFC 9457 problem details with a title and detail in the
request's language (``problems``; Dutch unless the ``gem_lang`` cookie chose another). The API authenticates with
``Authorization: Bearer <token>``.
"""

from __future__ import annotations

import msgspec
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import BaseRoute, Route

from chatserver.i18n import N_
from chatserver.services.identity import IdentityError
from chatserver.web.api import bans, flavours, markt, me, sessions
from chatserver.web.api.openapi import Handler, Operation, openapi_document
from chatserver.web.api.problems import ApiProblem, Problem, problem, problem_of
from chatserver.web.responses import lang_of

__all__ = ["OPERATIONS", "ROUTES", "ApiProblem", "Operation", "Problem", "problem"]

HTTP_METHODS = ("GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS")

OPERATIONS: list[Operation] = [
    *sessions.SESSIONS,
    *me.OPERATIONS,
    *flavours.OPERATIONS,
    *sessions.RECOVERY,
    *bans.OPERATIONS,
    *markt.OPERATIONS,  # the VitaliteitsMarkt, read only
]

DOCUMENT = msgspec.json.encode(openapi_document(OPERATIONS))


async def openapi(request: Request) -> Response:
    return Response(DOCUMENT, media_type="application/json")


async def api_not_found(request: Request) -> Response:
    return problem(404, N_("Deze API-aanroep bestaat niet."), "not_found", lang=lang_of(request))


def _answering_problems(handler: Handler) -> Handler:
    async def endpoint(request: Request) -> Response:
        try:
            return await handler(request)
        except (ApiProblem, IdentityError) as exc:
            return problem_of(exc, lang_of(request))

    return endpoint


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
            response = problem(405, N_("Deze methode kan hier niet."), "method_not_allowed", lang=lang_of(request))
            response.headers["Allow"] = allow
            return response
        return await handler(request)

    return Route(path, endpoint, methods=list(HTTP_METHODS))


def _routes(ops: list[Operation]) -> list[BaseRoute]:
    by_path: dict[str, dict[str, Handler]] = {}
    for op in ops:
        by_path.setdefault(op.path, {})[op.method] = _answering_problems(op.handler)
    return [
        Route("/api/openapi.json", openapi, methods=["GET"]),
        *(_method_route(path, handlers) for path, handlers in by_path.items()),
        Route("/api/{rest:path}", api_not_found, methods=["GET", "POST", "PUT", "PATCH", "DELETE"]),
    ]


ROUTES: list[BaseRoute] = _routes(OPERATIONS)
