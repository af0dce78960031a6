"""The OpenAPI 3.1 document, built from the operation table: the same Structs that decode a body state its schema."""

from __future__ import annotations

import re
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any

import msgspec
from starlette.requests import Request
from starlette.responses import Response

from chatserver.web.api.bodies import Body
from chatserver.web.api.problems import PROBLEM, Problem

Handler = Callable[[Request], Awaitable[Response]]
Outcome = tuple[str, type | None]

# The answers many operations share.
UNAUTHENTICATED: Outcome = ("Niet ingelogd", Problem)
INVALID: Outcome = ("Ongeldige invoer", Problem)
RATE_LIMITED: Outcome = ("Te veel pogingen (Retry-After)", Problem)
FORBIDDEN: Outcome = ("Geen toegang", Problem)
NOT_FOUND: Outcome = ("Niet gevonden", Problem)


@dataclass(frozen=True)
class Operation:
    method: str
    path: str
    handler: Handler
    summary: str
    body: type | None
    responses: dict[int, Outcome]
    auth: bool = False
    parameters: tuple[dict[str, Any], ...] = ()  # OpenAPI parameter objects (path and query)


def responses_of(op: Operation) -> dict[int, Outcome]:
    """Every status an operation can answer: its own outcomes plus those of the shared machinery.

    ``read_body`` answers 400, 413, 415 and 422 for any body, ``caller`` 401 without a session, the
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


def _parameters(op: Operation) -> list[dict[str, Any]]:
    if op.parameters:
        return list(op.parameters)
    if "{ban_id}" in op.path:
        return [{"name": "ban_id", "in": "path", "required": True, "schema": {"type": "string"}}]
    if op.path == "/api/v1/me" and op.method == "DELETE":
        return [
            {"name": "posts", "in": "query", "required": False,
             "schema": {"type": "string", "enum": ["remove", "keep"], "default": "remove"}}
        ]  # fmt: skip
    return []


def _path_item(op: Operation, by_type: dict[Any, Any]) -> dict[str, Any]:
    entry: dict[str, Any] = {
        "summary": op.summary,
        "operationId": op.method.lower() + "_" + re.sub(r"[^a-z0-9]+", "_", op.path[1:]).strip("_"),
        "responses": {},
    }
    if op.auth:
        entry["security"] = [{"bearer": []}]
    parameters = _parameters(op)
    if parameters:
        entry["parameters"] = parameters
    if op.body is not None:
        entry["requestBody"] = {"required": True, "content": {"application/json": {"schema": by_type[op.body]}}}
    for status, (description, kind) in sorted(responses_of(op).items()):
        response: dict[str, Any] = {"description": description}
        if kind is not None:
            media = PROBLEM if kind is Problem else "application/json"
            response["content"] = {media: {"schema": by_type[kind]}}
        entry["responses"][str(status)] = response
    return entry


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
        paths.setdefault(op.path, {})[op.method.lower()] = _path_item(op, by_type)
    return {
        "openapi": "3.1.0",
        "info": {
            "title": "GEM community server API",
            "version": "1.0.0",
            "description": "Anoniem maar gevalideerd: accounts, sessies, validatie en privacy; de VitaliteitsMarkt "
            "(alleen lezen). "
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
